"""Line-level cleaning of the selected blocks, and their rendering as plain text."""

from __future__ import annotations

from worker.extract.fast.dom import Doc
from worker.extract.fast.priors import PARAGRAPH_CHARS
from worker.extract.fast.scoring import LINK_PROSE_MAX, Selection
from worker.extract.fast.selectors import HEADING_TAGS, LIST_ITEM_TAGS

# In a selection whose text is at most LINK_PROSE_MAX links (prose), a line that is at
# least LINK_LINE_DENSITY links points elsewhere ("related", "don't miss") and goes.
LINK_LINE_DENSITY = 0.7
# Lines shorter than this may repeat ("Step 1", "1 cup rice").
REPEAT_MIN_CHARS = 20
# Above this share of headings among the kept blocks, the page is a list of headed items.
TRAILING_HEADINGS_MAX_SHARE = 0.25


def render(doc: Doc, selection: Selection) -> str:
    keep = list(selection.keep)
    drop_link_lines(doc, keep)
    drop_repeats(doc, keep)
    drop_trailing_headings(doc, keep)
    lines: list[str] = []
    for block, kept in zip(doc.blocks, keep, strict=True):
        if kept:
            lines.append("- " + block.text if block.kind in LIST_ITEM_TAGS else block.text)
    return "\n".join(lines)


def drop_link_lines(doc: Doc, keep: list[bool]) -> None:
    """In prose, drop lines that are (nearly) all link; in a listing the links are the content."""
    chars = links = 0
    for block, kept in zip(doc.blocks, keep, strict=True):
        if kept:
            chars += len(block.text)
            links += block.link_chars
    if not chars or links > LINK_PROSE_MAX * chars:
        return
    for i, block in enumerate(doc.blocks):
        if keep[i] and block.link_chars >= LINK_LINE_DENSITY * len(block.text):
            keep[i] = False


def drop_repeats(doc: Doc, keep: list[bool]) -> None:
    """Emit a text once when it comes back in another container (galleries, sticky bars, a
    second copy of the story).

    A line repeated inside one container, such as a recipe's ingredient, stays. So does a
    paragraph restated once in the next section: a paragraph-long text whose two
    containers are siblings, with no other repeat beside it. A copy of the story repeats
    a run of paragraphs, not one.
    """
    seen: dict[str, int] = {}
    elements = doc.elements
    nearby: list[int] = []  # repeats from a sibling container: restated, or part of a copy
    for i, block in enumerate(doc.blocks):
        if keep[i] and len(block.text) >= REPEAT_MIN_CHARS:
            container = elements[block.owner].parent
            first = seen.setdefault(block.text, container)
            if first == container:
                continue
            if _siblings(doc, first, container):
                nearby.append(i)
            else:
                keep[i] = False
    if not nearby:
        return
    kept = [i for i, k in enumerate(keep) if k]
    position = {i: n for n, i in enumerate(kept)}
    repeats = set(nearby)
    for i in nearby:
        n = position[i]
        alone = (n == 0 or kept[n - 1] not in repeats) and (
            n + 1 == len(kept) or kept[n + 1] not in repeats
        )
        if not (alone and len(doc.blocks[i].text) >= PARAGRAPH_CHARS):
            keep[i] = False


def _siblings(doc: Doc, a: int, b: int) -> bool:
    elements = doc.elements
    return a >= 0 and b >= 0 and elements[a].parent == elements[b].parent


def drop_trailing_headings(doc: Doc, keep: list[bool]) -> None:
    """A heading with nothing kept after it introduced what was removed ("Related reads",
    "Ready for more?"): it goes too. Not on pages made of headings (cards, listings),
    where the last heading is an item of its own."""
    kept = [i for i, k in enumerate(keep) if k]
    trailing = 0
    while trailing < len(kept) and doc.blocks[kept[-1 - trailing]].kind in HEADING_TAGS:
        trailing += 1
    body = kept[: len(kept) - trailing]
    headings = sum(1 for i in body if doc.blocks[i].kind in HEADING_TAGS)
    if not body or headings > TRAILING_HEADINGS_MAX_SHARE * len(body):
        return
    for i in kept[len(body) :]:
        keep[i] = False
