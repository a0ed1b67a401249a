"""The template stage in the pipeline: after extract, before dedupe.

It has two halves. What depends on one page alone runs where the page is extracted (the
process pool): its candidate lines and, per line, the normal form's fingerprint, size, word
count and headline flag (``template_input``). The template state needs every page of a site
in order, so the other half lives where records are finished (in offset order): look the
fingerprints up in the site's window and keep the lines that are not template (``apply``).
For plain-text pages the candidate lines are the page's own lines (``source_lines``),
because on a text rendering the template is best seen on the raw lines (menus, sign-up
boxes, footers), not only on what the line cleaner kept.

For HTML the candidate lines are the lines of the extracted text. For a text page they are
the page's lines, and until the page's template is known (too little of it repeats on the
site's other pages) the line cleaner's choice is kept as it was: the template only ever
removes lines from it.

The stage takes plain values (``TemplateConfig``); ``worker.pipeline`` builds them from the
worker's settings.

Cleaning the text before dedupe also keeps a site's own chrome from making its pages look
alike to the near-duplicate detector.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from worker.model import Extracted, Page
from worker.output import content_hash, now_iso, word_count
from worker.templates.coldstart import ColdStart, Emission, PageIn, TemplateStream
from worker.templates.lines import split_text
from worker.templates.sites import SiteBy, site_key
from worker.templates.snapshot import load_snapshot, save_snapshot
from worker.templates.state import Limits, SiteTemplates

TEXT_SEPARATOR = "\n\n"  # the line cleaner's paragraph separator
# A text page's own lines cross from the extraction pool; past this size only its extracted
# text does (the template then cleans what the line cleaner kept).
MAX_SOURCE_CHARS = 1 << 20


@dataclass(frozen=True, slots=True)
class TemplateConfig:
    site_by: SiteBy = "host"
    limits: Limits = field(default_factory=Limits)
    cold: ColdStart = field(default_factory=ColdStart)
    snapshot_path: str = ""  # empty: the state lives in memory only
    snapshot_every_s: float = 60.0


@dataclass(slots=True)
class Slot:
    """What the pipeline published for a page, kept so a revision can be built from it."""

    published: Any = None


@dataclass(slots=True)
class Revision:
    page_id: str
    text: str
    boilerplate_ratio: float | None
    revision: int  # 1 for the first re-publication of the page, 2 for the next ...
    published: Any  # what the pipeline put in the page's ``Slot``
    words: int = 0  # whitespace-separated words of ``text``


@dataclass(slots=True)
class Cleaned:
    """The current page's text, and earlier pages of its site to publish again."""

    text: str
    boilerplate_ratio: float | None
    revisions: list[Revision]
    slot: Slot
    words: int = 0  # whitespace-separated words of ``text``
    lines_kept: Any = None  # bool per candidate line (numpy): the lines ``text`` is made of

    def keep(self, published: Any) -> None:
        """Remember what was published for this page (e.g. its topic and record), so a later
        revision can be built from it; a page never kept is never revised."""
        self.slot.published = published


class TemplateStage:
    """Site templates for the worker: one per consuming process, fed in offset order."""

    def __init__(self, config: TemplateConfig | None = None) -> None:
        self.config = config or TemplateConfig()
        self.templates = SiteTemplates(self.config.limits)
        self.stream = TemplateStream(self.templates, self.config.cold)
        self._last_save = time.time()
        if self.config.snapshot_path:
            load_snapshot(self.templates, self.config.snapshot_path)

    def push(self, item: PageIn, now: float | None = None) -> Cleaned:
        """Learn from a page's candidate lines (``page_input``) and clean them."""
        emissions = self.stream.push(item, time.time() if now is None else now)
        mine = next(e for e in emissions if e.context is item.context)
        revisions = [
            Revision(
                e.page_id, e.text, boilerplate_ratio(e), e.revision, e.context.published, e.words
            )
            for e in emissions
            if e is not mine and e.context.published is not None
        ]
        ratio = boilerplate_ratio(mine)
        return Cleaned(mine.text, ratio, revisions, item.context, mine.words, mine.keep)

    def apply(self, extracted: Extracted, item: PageIn) -> Cleaned:
        """``push`` for the pipeline (``item``: the page's ``template_input``): the page's text
        and boilerplate ratio are replaced by the cleaned ones in ``extracted``."""
        cleaned = self.push(item)
        own_lines = item.fallback is not None
        extracted.boilerplate_ratio = overall_ratio(extracted.boilerplate_ratio, cleaned, own_lines)
        extracted.text = cleaned.text
        return cleaned

    def maybe_save(self, now: float | None = None) -> bool:
        """Every ``snapshot_every_s``: drop idle sites and snapshot if one is configured (call
        after a commit). Returns whether it ran."""
        at = time.time() if now is None else now
        if at - self._last_save < self.config.snapshot_every_s:
            return False
        self.save(at)
        return True

    def save(self, now: float | None = None) -> None:
        """Drop idle sites, then snapshot (if configured); call on shutdown too."""
        at = time.time() if now is None else now
        self.templates.expire(at)
        if self.config.snapshot_path:
            save_snapshot(self.templates, self.config.snapshot_path)
        self._last_save = at

    def stats(self) -> dict[str, int]:
        """Sizes for gauges or logs (walks every site: call it as often as ``save``)."""
        return {
            "sites": len(self.templates),
            "state_bytes": self.templates.total_bytes(),
            "revisable_bytes": self.stream.revisable_bytes(),
        }


def overall_ratio(extracted: float | None, cleaned: Cleaned, own_lines: bool) -> float | None:
    """Share of the page's text dropped in all: a text page's ratio already covers its whole
    page; for HTML the template's share comes on top of what extraction dropped."""
    if own_lines or extracted is None or cleaned.boilerplate_ratio is None:
        return cleaned.boilerplate_ratio if own_lines else extracted
    return round(1 - (1 - extracted) * (1 - cleaned.boilerplate_ratio), 4)


def page_input(
    page: Page, extracted: Extracted, page_id: str, lines: list[str] | None, by: SiteBy = "host"
) -> PageIn:
    """The candidate lines of one page: its extracted text's, or (``lines`` given) its own
    lines, with the line cleaner's choice as the fallback."""
    url = page.final_url or page.url
    site = site_key(url, by)
    kept, separator = split_text(extracted.text)
    if lines is None:
        return PageIn(site, page_id, kept, separator, extracted.title, url, Slot())
    chosen = {x.strip() for x in kept}
    candidates = [x.strip() for x in lines if x.strip()]
    fallback = [x in chosen for x in candidates]
    return PageIn(site, page_id, candidates, TEXT_SEPARATOR, extracted.title, url, Slot(), fallback)


def template_input(page: Page, extracted: Extracted, by: SiteBy = "host") -> PageIn:
    """What the template stage needs of a page, computed where the page is extracted (the
    process pool) so the process holding the sites' state only looks lines up. A page is its
    URL, not its canonical URL: many sites' templates give every page the same canonical
    link, which would make all their pages one page (a replay or re-crawl of the same URL
    still replaces its entry)."""
    item = page_input(page, extracted, page.final_url or page.url, source_lines(page), by)
    item.features()
    return item


def source_lines(page: Page) -> list[str] | None:
    """A text page's own lines, taken before its body is dropped (``None`` for HTML and for
    huge text pages)."""
    if page.body_kind != "text" or len(page.body) > MAX_SOURCE_CHARS:
        return None
    return page.body.splitlines()


def boilerplate_ratio(emission: Emission) -> float | None:
    """Share of the candidate text dropped: for a text page the whole page's (as the line
    cleaner reports it), for HTML what the template took from the extracted text."""
    total = emission.total_chars
    return round(1 - emission.kept_chars / total, 4) if total else None


def revised_article(
    record: dict[str, Any], text: str, ratio: float | None, words: int | None = None
) -> dict[str, Any]:
    """An article record with a new text: same key and metadata, fresh hashes and counts
    (``words``: the text's word count, when known)."""
    extraction = {**record.get("extraction", {}), "boilerplate_ratio": ratio}
    return {
        **record,
        "text": text,
        "word_count": word_count(text) if words is None else words,
        "content_hash": content_hash(text),
        "processed_at": now_iso(),
        "extraction": extraction,
    }
