"""Cold start: what to do with a site's first pages, before its template is known.

A site's first page cannot be cleaned (nothing repeats yet); from its ``min_pages``-th page
on, its template is known. Every page is published at once (``publish``); ``republish`` also
keeps the lines of the site's first ``settle_pages`` pages and publishes a page again, under
the same key, whenever later pages change its cleaned text by at least ``min_change`` of its
words. That costs output records, not latency. (Holding a new site's pages until its template
is known was measured too and dropped: it gave the same final quality at a latency cost, and
a held page would hold back its partition's committed offset.)

``TemplateStream.push`` takes one page and returns what to publish now: this page and
revisions of earlier pages. Each ``Emission`` carries the caller's opaque ``context`` back, so
the caller can rebuild the record it publishes. Revisable pages are bounded in bytes overall;
a page dropped from the revisable set just keeps its last published version.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from itertools import compress
from typing import Any, Literal

import numpy as np

from worker.templates.clean import keep_mask
from worker.templates.lines import LineFeatures, line_features
from worker.templates.state import SiteTemplates

PENDING_OVERHEAD = 400  # bytes of a kept page besides its lines and flags (objects, pointers)
Policy = Literal["publish", "republish"]
POLICIES: tuple[str, ...] = ("publish", "republish")


@dataclass(frozen=True, slots=True)
class ColdStart:
    policy: Policy = "republish"
    settle_pages: int = 4  # republish: pages arriving while the site has fewer are revisable
    min_change: float = 0.02  # republish: share of a page's words that must change
    max_pending_bytes: int = 64 << 20  # revisable pages' lines kept, all sites together

    @property
    def republishes(self) -> bool:
        return self.policy == "republish"


@dataclass(slots=True)
class PageIn:
    """One page as the template stage sees it: candidate lines and how to put them back."""

    site: str
    page_id: str
    lines: list[str]
    separator: str = "\n"
    title: str | None = None
    url: str | None = None
    context: Any = None  # the caller's, returned untouched with every emission of this page
    fallback: list[bool] | None = None  # lines the page's extractor kept (text pages)
    lines_features: LineFeatures | None = None  # see ``features``

    def features(self) -> LineFeatures:
        """The lines' fingerprints, headline flags and sizes, computed once. They depend on
        this page alone, so the worker computes them where the page is extracted (the process
        pool), not in the process that keeps the sites' state."""
        if self.lines_features is None:
            self.lines_features = line_features(self.lines, self.title, self.url)
        return self.lines_features


@dataclass(slots=True)
class Emission:
    page_id: str
    text: str
    context: Any
    revision: int  # 0: the page's first publication; n: its n-th re-publication
    kept_chars: int
    total_chars: int
    arrived: float  # ``now`` when the page was pushed (latency = emitted - arrived)
    words: int = 0  # whitespace-separated words of ``text``
    keep: np.ndarray | None = None  # bool per candidate line: the lines ``text`` is made of


@dataclass(slots=True)
class _Pending:
    """A page that may still be revised, kept compact: its lines as one string,
    per-line flags as numpy arrays, and of its published text only the word count."""

    site: str
    page_id: str
    separator: str
    context: Any
    blob: bytes  # the candidate lines joined by "\n", UTF-8 (a str may take 4 bytes a char)
    features: LineFeatures
    fallback: np.ndarray | None  # bool per line
    arrived: float
    words: int = 0  # of the last published version
    revision: int = -1  # -1: not published yet

    @property
    def lines(self) -> list[str]:
        return self.blob.decode("utf-8", "surrogatepass").split("\n") if self.blob else []

    def nbytes(self) -> int:
        f = self.features
        arrays = f.prints.nbytes + f.headline.nbytes + f.chars.nbytes + f.words.nbytes
        flags = 0 if self.fallback is None else self.fallback.nbytes
        return sys.getsizeof(self.blob) + arrays + flags + PENDING_OVERHEAD


@dataclass(slots=True)
class _SitePending:
    revisable: list[_Pending] = field(default_factory=list)


class TemplateStream:
    """The template stage over a stream of pages, in arrival order."""

    def __init__(self, templates: SiteTemplates, cold: ColdStart | None = None) -> None:
        self.templates = templates
        self.cold = cold or ColdStart()
        self._sites: OrderedDict[str, _SitePending] = OrderedDict()  # least recent first
        self._revisable_bytes = 0

    def push(self, page: PageIn, now: float) -> list[Emission]:
        """Observe ``page`` and return what to publish now, in order. A page pushed again (a
        replayed record) replaces its earlier copy here too."""
        item = self._observe(page, now)
        pending = self._site(page.site)
        self._forget_page(pending, page.page_id)
        out = self._revisions(pending)
        out.append(self._publish(item))
        self._track(page.site, pending, item)
        return out

    def observe(self, page: PageIn, now: float) -> None:
        """Learn from a page ahead of its ``push`` (a batch seen before it is cleaned)."""
        self._observe(page, now)

    def revisable_bytes(self) -> int:
        return self._revisable_bytes

    # --- internals -------------------------------------------------------------------------
    def _observe(self, page: PageIn, now: float) -> _Pending:
        features = page.features()
        self.templates.observe(page.site, page.page_id, features.prints, now)
        blob = "\n".join(page.lines)
        if blob.count("\n") != max(len(page.lines) - 1, 0):  # a line holding a newline
            blob = "\n".join(x.replace("\n", " ") for x in page.lines)
        return _Pending(
            page.site,
            page.page_id,
            page.separator,
            page.context,
            blob.encode("utf-8", "surrogatepass"),
            features,
            None if page.fallback is None else np.array(page.fallback, dtype=bool),
            now,
        )

    def _site(self, site: str) -> _SitePending:
        pending = self._sites.get(site)
        if pending is None:
            pending = self._sites[site] = _SitePending()
        self._sites.move_to_end(site)
        return pending

    def _forget_page(self, pending: _SitePending, page_id: str) -> None:
        gone = [p for p in pending.revisable if p.page_id == page_id]
        if gone:
            pending.revisable = [p for p in pending.revisable if p.page_id != page_id]
            self._revisable_bytes -= sum(p.nbytes() for p in gone)

    def _publish(self, item: _Pending, keep: np.ndarray | None = None) -> Emission:
        keep = self._keep(item) if keep is None else keep
        kept = list(compress(item.lines, keep.tolist()))
        item.words = int(item.features.words[keep].sum())
        item.revision += 1
        return Emission(
            item.page_id,
            item.separator.join(kept),
            item.context,
            item.revision,
            int(item.features.chars[keep].sum()),
            int(item.features.chars.sum()),
            item.arrived,
            item.words,
            keep,
        )

    def _keep(self, item: _Pending) -> np.ndarray:
        f = item.features
        template = self.templates.template(item.site, f.prints)
        return keep_mask(f.prints, template, f.headline, item.fallback, f.chars)

    def _revisions(self, pending: _SitePending) -> list[Emission]:
        out = []
        for item in pending.revisable:
            keep = self._keep(item)
            words = int(item.features.words[keep].sum())
            if changed_enough(item.words, words, self.cold.min_change):
                out.append(self._publish(item, keep))
        return out

    def _track(self, site: str, pending: _SitePending, published: _Pending) -> None:
        """Keep a young site's pages revisable; past ``settle_pages`` its template is known."""
        if self._revisable(site):
            pending.revisable.append(published)
            self._revisable_bytes += published.nbytes()
            while self._revisable_bytes > self.cold.max_pending_bytes:
                self._forget_oldest()
            return
        self._revisable_bytes -= sum(p.nbytes() for p in pending.revisable)
        del self._sites[site]

    def _revisable(self, site: str) -> bool:
        return self.cold.republishes and self.templates.pages_seen(site) < self.cold.settle_pages

    def _forget_oldest(self) -> None:
        site, pending = next((s, p) for s, p in self._sites.items() if p.revisable)
        self._revisable_bytes -= sum(p.nbytes() for p in pending.revisable)
        del self._sites[site]


def changed_enough(words_before: int, words_after: int, min_change: float) -> bool:
    """Whether a new version differs by at least ``min_change`` of the old one's words
    (cleaning only adds or removes whole lines, so word counts measure the change)."""
    return abs(words_before - words_after) >= max(1.0, min_change * words_before)
