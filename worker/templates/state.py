"""Per-site line statistics over a bounded window of recent pages: the template of a site.

A site's state is the fingerprint sets of its last ``window_pages`` pages (each page counted
once per fingerprint, so a block that repeats inside one page is no evidence). A line is
template when its fingerprint is on at least ``min_pages`` distinct pages of that window.
Keeping the window rather than running counts makes every limit exact: a page seen again
(a re-crawl, a replayed record) replaces its old entry instead of counting twice, old pages
age out when a site changes its design, and evicting a site frees all of it at once.

Sites are kept in least-recently-used order, at most ``max_sites`` of them, and a site not
seen for ``ttl_s`` is dropped by ``expire``. Time is whatever the caller passes as ``now``
(wall clock in the worker, record position in the benchmark): no clock is read here.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import xxhash

from worker.templates.lines import page_set


@dataclass(frozen=True, slots=True)
class Limits:
    min_pages: int = 3  # distinct pages a line must be on to count as template
    window_pages: int = 32  # most recent pages of evidence kept per site
    max_lines_per_page: int = 2048  # distinct fingerprints kept per page (huge pages)
    max_sites: int = 10_000  # least recently seen sites are evicted beyond this
    ttl_s: float = 14 * 86400.0  # sites idle longer than this are dropped by ``expire``


@dataclass(slots=True)
class SiteState:
    pages: OrderedDict[int, np.ndarray] = field(default_factory=OrderedDict)  # oldest first
    seen: int = 0  # pages observed since the site was first tracked (window or not)
    last_seen: float = 0.0


@dataclass(slots=True)
class _Support:
    """Distinct-page counts of one site's fingerprints: sorted keys and their counts."""

    site: str
    version: int
    keys: np.ndarray
    counts: np.ndarray


class SiteTemplates:
    """The pure-logic core: ``observe`` pages, ask which lines are ``template``."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.sites: OrderedDict[str, SiteState] = OrderedDict()
        self._support: _Support | None = None  # the last site asked about
        self._version = 0  # bumped on every change, invalidates ``_support``

    # --- evidence ------------------------------------------------------------------------
    def observe(self, site: str, page_id: str, prints: np.ndarray, now: float) -> None:
        """Add a page (its lines' ``fingerprints``) to its site's window, replacing an earlier
        copy of the same page."""
        state = self.sites.get(site)
        if state is None:
            state = self.sites[site] = SiteState()
        self.sites.move_to_end(site)
        key = xxhash.xxh64_intdigest(page_id.encode())
        if state.pages.pop(key, None) is None:
            state.seen += 1
        page = page_set(prints)
        if (
            len(page) > self.limits.max_lines_per_page
        ):  # the smallest hashes: the same on every page
            page = page[: self.limits.max_lines_per_page].copy()
        state.pages[key] = page
        while len(state.pages) > self.limits.window_pages:
            state.pages.popitem(last=False)
        state.last_seen = max(state.last_seen, now)
        self._version += 1
        self._evict()

    def restore(self, site: str, state: SiteState) -> None:
        """Put back a site read from a snapshot (oldest first keeps the LRU order)."""
        self.sites[site] = state
        self.sites.move_to_end(site)
        self._version += 1
        self._evict()

    def _evict(self) -> None:
        while len(self.sites) > self.limits.max_sites:
            self.sites.popitem(last=False)

    def expire(self, now: float) -> int:
        """Drop sites idle for longer than the TTL; returns how many went."""
        limit = now - self.limits.ttl_s
        stale = [site for site, state in self.sites.items() if state.last_seen < limit]
        for site in stale:
            del self.sites[site]
        if stale:
            self._version += 1
        return len(stale)

    # --- questions -----------------------------------------------------------------------
    def pages_seen(self, site: str) -> int:
        state = self.sites.get(site)
        return state.seen if state else 0

    def support(self, site: str, prints: np.ndarray) -> np.ndarray:
        """For each line (fingerprint), on how many distinct pages of the site's window it is."""
        cached = self._site_support(site)
        if cached is None or not len(cached.keys):
            return np.zeros(len(prints), dtype=np.int64)
        at = np.minimum(np.searchsorted(cached.keys, prints), len(cached.keys) - 1)
        return np.where(cached.keys[at] == prints, cached.counts[at], 0)

    def template(self, site: str, prints: np.ndarray) -> np.ndarray:
        """Bool per line: the site's template (on ``min_pages`` pages or more)."""
        return self.support(site, prints) >= self.limits.min_pages

    def _site_support(self, site: str) -> _Support | None:
        cached = self._support
        if cached is not None and cached.site == site and cached.version == self._version:
            return cached
        state = self.sites.get(site)
        if state is None or not state.pages:
            return None
        keys, counts = np.unique(np.concatenate(list(state.pages.values())), return_counts=True)
        self._support = _Support(site, self._version, keys, counts)
        return self._support

    # --- accounting ----------------------------------------------------------------------
    def site_bytes(self, site: str) -> int:
        """Memory held for one site (the interpreter's own object sizes)."""
        state = self.sites.get(site)
        if state is None:
            return 0
        pages = state.pages
        return (
            sys.getsizeof(site)
            + sys.getsizeof(state)
            + sys.getsizeof(pages)
            + sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in pages.items())
        )

    def total_bytes(self) -> int:
        return sys.getsizeof(self.sites) + sum(self.site_bytes(s) for s in self.sites)

    def __iter__(self) -> Iterator[tuple[str, SiteState]]:
        """Sites from least to most recently seen."""
        return iter(list(self.sites.items()))

    def __len__(self) -> int:
        return len(self.sites)
