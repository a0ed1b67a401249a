"""What the metadata and page-type rules read from a parsed page, in parser-neutral form.

Each engine parses a page once with its own parser and fills these dataclasses with a
thin gatherer (``trafilatura_engine.facts`` for lxml trees, ``fast.facts`` for Lexbor); the rules in
``metadata`` and ``pagetype`` only ever see the dataclasses, so both engines decide alike.
Gatherers copy raw strings: cleaning, parsing and choosing stay with the rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

# An element's attributes as a mapping: lxml's ``el.attrib``, Lexbor's ``node.attributes``.
Attrs = Mapping[str, str | None]

# --- what the gatherers select --------------------------------------------------------------

MICRODATA_PROPS = ("author", "datepublished", "datemodified")  # lower-cased itemprop
# a <br> or one of these inside an element separates words in its text
WORD_BREAK_TAGS = frozenset({"br", "div", "p", "li", "h1", "h2", "h3", "h4", "h5", "h6"})
# Elements whose text is code, never words: left out of bylines, dates and headlines.
CODE_TAGS = frozenset({"script", "style", "template"})
MAX_HEADINGS = 3  # <h1> elements read as candidate headlines
DATE_CLASS = re.compile(r"date|publish|posted", re.IGNORECASE)
MAX_DATE_ELEMENTS = 20
BYLINE_CLASS = re.compile(r"byline|author[-_]name|(?:post|entry|article)-author", re.IGNORECASE)
MAX_BYLINE_ELEMENTS = 3
AUTHOR_LINK_PATH = "/author/"  # <a href> containing this, or <a rel="author">, is a byline link
POST_CLASS = re.compile(r"(?:^|[\s_-])(?:post|comment|message|reply|answer)(?:$|[\s_-])", re.I)
SHAPE_INVISIBLE_TAGS = frozenset({"script", "style", "noscript", "template"})
BODY_TEXT_LIMIT = 300_000


def is_jsonld_type(script_type: str | None) -> bool:
    return "ld+json" in (script_type or "").lower()


def is_canonical_rel(rel: str | None) -> bool:
    return "canonical" in (rel or "").lower().split()


def is_author_link(rel: str | None, href: str | None) -> bool:
    return rel == "author" or AUTHOR_LINK_PATH in (href or "")


def no_texts() -> list[str]:
    return []


def meta_tags(elements: Iterable[Attrs]) -> dict[str, list[str]]:
    """``<meta>`` contents keyed by lower-cased property/name/itemprop, in document order."""
    tags: dict[str, list[str]] = {}
    for attrs in elements:
        content = (attrs.get("content") or "").strip()
        if not content:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = (attrs.get(attr) or "").strip().lower()
            if key:
                tags.setdefault(key, []).append(content)
    return tags


def microdata_prop(attrs: Attrs) -> str | None:
    """The lower-cased itemprop when it is one the rules read."""
    prop = (attrs.get("itemprop") or "").strip().lower()
    return prop if prop in MICRODATA_PROPS else None


def microdata_value(attrs: Attrs) -> str | None:
    """An item's value when an attribute holds it; None means: read its name's text."""
    return attrs.get("datetime") or attrs.get("content")


def time_tag(attrs: Attrs) -> TimeTag:
    return TimeTag(attrs.get("datetime"), "pubdate" in attrs, attrs.get("class") or "")


@dataclass(slots=True)
class TimeTag:
    """A ``<time>`` element: its datetime attribute and what marks it as the publication time."""

    datetime: str | None
    pubdate: bool  # has a pubdate attribute
    classes: str


@dataclass(slots=True)
class PageFacts:
    """The page's own statements about itself, as found in the markup.

    The last three are fallbacks the rules rarely reach; they are thunks so that a
    gatherer only scans for them when asked (call them before the tree is changed).
    """

    meta: dict[str, list[str]] = field(default_factory=dict)  # <meta> contents by lower-cased key
    jsonld: list[str] = field(default_factory=list)  # bodies of ld+json scripts
    microdata: dict[str, list[str]] = field(default_factory=dict)  # raw MICRODATA_PROPS values
    titles: list[str] = field(default_factory=list)  # texts of <title> elements
    html_lang: str | None = None  # lang (or xml:lang) of the root element
    canonical_hrefs: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)  # texts of the first MAX_HEADINGS <h1>
    times: list[TimeTag] = field(default_factory=list)
    date_texts: Callable[[], list[str]] = no_texts  # first MAX_DATE_ELEMENTS date-classed
    author_link_texts: Callable[[], list[str]] = no_texts  # first MAX_BYLINE_ELEMENTS
    byline_texts: Callable[[], list[str]] = no_texts  # first MAX_BYLINE_ELEMENTS byline-classed


@dataclass(slots=True, frozen=True)
class PageShape:
    """Page-shape statistics of the page type rules, over the whole document."""

    text: str  # visible body text (capped at BODY_TEXT_LIMIT)
    link_chars: int  # characters of text inside links
    post_blocks: int  # elements classed as posts, comments, replies
    teasers: int  # <article> elements
    code_blocks: int  # <pre> elements
