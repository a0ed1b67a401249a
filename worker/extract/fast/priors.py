"""How likely a block is main content, from its own text, tag and neighbour.

Lines are classified on their lower-cased text: page furniture ("Share this"),
self-promotion (cookie and newsletter prompts), metadata (datelines, bylines,
credits) and captions get low priors; other blocks get a prior that grows with
length and sentence punctuation.
"""

from __future__ import annotations

import re

from worker import textunits
from worker.extract.fast.dom import Block, Doc
from worker.extract.fast.selectors import (
    BOILERPLATE_HEADS,
    BOILERPLATE_LINE_RE,
    BROWSER_NOTICE_RE,
    BYLINE_RE,
    CAPTION_CREDIT_RE,
    CLICK_HERE_RE,
    DATE_RE,
    DIGIT_RE,
    HEADING_TAGS,
    JAVASCRIPT_NOTICE_RE,
    METADATA_START_RE,
    PROMO_KEYWORDS,
    PROMO_MAX_CHARS,
    PROMO_RE,
    SENTENCE_END,
)
from worker.extract.vocabulary import FURNITURE_LINES, line_key

# Priors of lines that are rarely part of the text: captions, the title, metadata, promos.
CAPTION_PRIOR = 0.1
TITLE_PRIOR = 0.2
METADATA_PRIOR = 0.05
PROMO_PRIOR = 0.05
BOILERPLATE_PRIOR = 0.02
BOILERPLATE_MAX_CHARS = 120
METADATA_MAX_CHARS = 100
CAPTION_MAX_CHARS = 400
NOTICE_MAX_CHARS = 600  # browser notices run to a few sentences
# A block this long is a paragraph: the highest length prior.
PARAGRAPH_CHARS = 200
# A text right after (or opening with) a headline link teases another page.
TEASER_FACTOR = 0.5
# A link this long opening a block is a headline, not a name or a one-word action.
HEADLINE_CHARS = 20

LETTER_RE = re.compile(r"[^\W\d_]")


def is_boilerplate_line(lower: str) -> bool:
    """Page furniture such as "Share this", "Read more", "12 comments" (lower-cased line)."""
    line = line_key(lower)
    if line in FURNITURE_LINES:
        return True
    head = line.split(" ", 1)[0].rstrip(":")
    if (head in BOILERPLATE_HEADS or head[:1] in "0123456789[<©hwj") and (
        BOILERPLATE_LINE_RE.match(line) is not None
    ):
        return True
    return ("click" in line and CLICK_HERE_RE.match(line) is not None) or (
        "javascript" in line and JAVASCRIPT_NOTICE_RE.match(line) is not None
    )


def is_promo(lower: str) -> bool:
    """Cookie notices, sign-up prompts, affiliate disclosures (lower-cased line)."""
    for keyword in PROMO_KEYWORDS:
        if keyword in lower:
            return PROMO_RE.search(lower) is not None
    return False


def is_browser_notice(lower: str) -> bool:
    """A notice such as "best viewed in an up-to-date browser" (lower-cased line)."""
    return BROWSER_NOTICE_RE.search(lower) is not None


def is_metadata_line(lower: str) -> bool:
    """A dateline, byline or photo credit: short and shaped like metadata (lower-cased)."""
    n = len(lower)
    return n <= METADATA_MAX_CHARS and (
        METADATA_START_RE.match(lower) is not None
        or (DIGIT_RE.search(lower) is not None and DATE_RE.search(lower) is not None)
        or (n < 60 and BYLINE_RE.match(lower) is not None)
    )


def is_caption(kind: str, lower: str) -> bool:
    """A figure caption, by tag or by the photo credit captions end with (lower-cased)."""
    return kind == "figcaption" or (
        len(lower) <= CAPTION_MAX_CHARS and CAPTION_CREDIT_RE.search(lower) is not None
    )


def block_prior(block: Block) -> float:
    """Probability that a block is main content, from its own text and tag. Lengths are
    weighed (``textunits.weighed_length``): 60 Chinese characters say what 225 English do."""
    text = block.text
    n = textunits.weighed_length(text)
    kind = block.kind
    if n <= NOTICE_MAX_CHARS and "rowser" in text and is_browser_notice(text.lower()):
        return PROMO_PRIOR
    if n <= PROMO_MAX_CHARS:
        lower = text.lower()
        if n <= BOILERPLATE_MAX_CHARS and is_boilerplate_line(lower):
            return BOILERPLATE_PRIOR
        if is_promo(lower):
            return PROMO_PRIOR
        if kind != "tr" and is_metadata_line(lower):
            return METADATA_PRIOR
        if is_caption(kind, lower):
            return CAPTION_PRIOR
    elif kind == "figcaption":
        return CAPTION_PRIOR
    if not LETTER_RE.search(text):
        return 0.35 if kind == "tr" else 0.1  # numbers: table rows only
    if kind == "h1":
        return TITLE_PRIOR
    if kind in HEADING_TAGS:
        prior = 0.6
    elif n >= PARAGRAPH_CHARS:
        prior = 0.95
    elif n >= 80:
        prior = 0.8
    elif n >= 30:
        prior = 0.55
    else:
        prior = 0.35
    if text[-1] in SENTENCE_END:
        prior = min(0.98, prior + 0.1)
    return prior


def mark_teasers(doc: Doc, priors: list[float]) -> None:
    """Plain text opened by a headline link, in the block or just before it, is a teaser."""
    blocks = doc.blocks
    for i, block in enumerate(blocks):
        n = len(block.text)
        if block.link_chars >= 0.5 * n:
            continue  # a link itself (one item of a list), not a summary
        lead = block.lead_link_chars
        if lead >= HEADLINE_CHARS and lead >= 0.15 * n and n - lead >= 30:
            priors[i] *= TEASER_FACTOR
        elif i and n <= 320:
            prev = blocks[i - 1]
            m = len(prev.text)
            if m >= HEADLINE_CHARS and prev.link_chars >= 0.8 * m:
                priors[i] *= TEASER_FACTOR
