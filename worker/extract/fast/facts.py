"""Gathers ``PageFacts`` and ``PageShape`` from the fast engine's Lexbor parse.

The same facts the lxml gatherer (``trafilatura_engine.facts``) reads, so the shared rules in
``metadata`` and ``pagetype`` give the same answers without a second parse. Lexbor
runs the CSS selectors in C; Python only filters the few elements they return.

Order matters, as the tree is changed: ``gather_facts`` and its thunks first (JSON-LD
lives in scripts), then ``gather_shape`` (it drops scripts and styles), then the
engine's walk (it drops the page chrome, and with it nodes the thunks hold).

Where the two parsers build different trees the facts differ: an HTML5 parser keeps
``<html lang>`` and body attributes after stray content, closes nested links, and
hides ``<template>`` content; noscript's own text is read here, not by lxml.
"""

from __future__ import annotations

import re
from functools import partial

from selectolax.lexbor import LexborHTMLParser, LexborNode

from worker.extract.facts import (
    AUTHOR_LINK_PATH,
    BODY_TEXT_LIMIT,
    BYLINE_CLASS,
    CODE_TAGS,
    DATE_CLASS,
    MAX_BYLINE_ELEMENTS,
    MAX_DATE_ELEMENTS,
    MAX_HEADINGS,
    POST_CLASS,
    WORD_BREAK_TAGS,
    PageFacts,
    PageShape,
    is_author_link,
    is_canonical_rel,
    is_jsonld_type,
    meta_tags,
    microdata_prop,
    microdata_value,
    time_tag,
)

# Words every class matching DATE_CLASS, BYLINE_CLASS or POST_CLASS contains: one
# case-blind CSS scan finds the candidates of all three, the regexes decide.
CLASS_WORDS = (
    "post",
    "comment",
    "message",
    "reply",
    "answer",
    "date",
    "publish",
    "byline",
    "author",
)
CLASSED_CSS = ":is(" + ",".join(f"[class*={word} i]" for word in CLASS_WORDS) + ")"
AUTHOR_LINK_CSS = f"a:is([rel],[href*='{AUTHOR_LINK_PATH}'])"
# Never visible, and removed by the engine's walk anyway: dropped before the shape is read.
SCRIPT_TAGS = ["script", "style"]


def element_text(node: LexborNode) -> str:
    """Text of ``node`` where a ``<br>`` or block child separates words (as the lxml
    gatherer's)."""
    parts: list[str] = []
    for item in node.traverse(include_text=True):
        tag = item.tag
        if tag == "-text":
            parent = item.parent
            if parent is None or parent.tag not in CODE_TAGS:
                parts.append(item.text_content or "")
        elif tag in WORD_BREAK_TAGS and item.mem_id != node.mem_id:
            parts.append(" ")
    return "".join(parts)


def microdata(tree: LexborHTMLParser) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for el in tree.css("[itemprop]"):
        prop = microdata_prop(el.attributes)
        if prop is None or el.tag == "meta":
            continue
        value = microdata_value(el.attributes)
        if value is None:  # the element itself never matches: its itemprop is not "name"
            value = element_text(el.css_first("[itemprop='name']") or el)
        values.setdefault(prop, []).append(value)
    return values


Classed = list[tuple[LexborNode, str]]


def classed_elements(tree: LexborHTMLParser) -> Classed:
    """Candidates for the class patterns, with their class, in document order."""
    return [(el, el.attributes.get("class") or "") for el in tree.css(CLASSED_CSS)]


def classed_texts(classed: Classed, pattern: re.Pattern[str], limit: int) -> list[str]:
    """Texts of the first ``limit`` elements whose class matches ``pattern``."""
    found = (el for el, cls in classed if pattern.search(cls))
    return [element_text(el) for _, el in zip(range(limit), found, strict=False)]


def author_link_texts(tree: LexborHTMLParser) -> list[str]:
    links = (
        a
        for a in tree.css(AUTHOR_LINK_CSS)
        if is_author_link(a.attributes.get("rel"), a.attributes.get("href"))
    )
    return [element_text(a) for _, a in zip(range(MAX_BYLINE_ELEMENTS), links, strict=False)]


def gather_facts(tree: LexborHTMLParser, classed: Classed) -> PageFacts:
    """``classed`` is ``classed_elements(tree)``, shared with ``gather_shape``."""
    root = tree.root
    root_attrs = root.attributes if root is not None else {}
    return PageFacts(
        meta=meta_tags(el.attributes for el in tree.css("meta")),
        jsonld=[s.text() for s in tree.css("script[type]") if is_jsonld_type(s.attributes["type"])],
        microdata=microdata(tree),
        titles=[el.text() for el in tree.css("title")],
        html_lang=root_attrs.get("lang") or root_attrs.get("xml:lang"),
        canonical_hrefs=[
            el.attributes.get("href") or ""
            for el in tree.css("link[href]")
            if is_canonical_rel(el.attributes.get("rel"))
        ],
        headings=[element_text(h1) for h1 in tree.css("h1")[:MAX_HEADINGS]],
        times=[time_tag(t.attributes) for t in tree.css("time")],
        date_texts=partial(classed_texts, classed, DATE_CLASS, MAX_DATE_ELEMENTS),
        author_link_texts=partial(author_link_texts, tree),
        byline_texts=partial(classed_texts, classed, BYLINE_CLASS, MAX_BYLINE_ELEMENTS),
    )


def gather_shape(tree: LexborHTMLParser, classed: Classed) -> PageShape:
    """Removes scripts and styles from ``tree`` (the walk would) to read the visible text."""
    tree.strip_tags(SCRIPT_TAGS)
    root = tree.body or tree.root
    if root is None:
        return PageShape("", 0, 0, 0, 0)
    return PageShape(
        text=root.text(separator=" ")[:BODY_TEXT_LIMIT],
        link_chars=sum(len(a.text(separator="", strip=True)) for a in root.css("a")),
        post_blocks=sum(1 for _, cls in classed if POST_CLASS.search(cls)),
        teasers=len(tree.css("article")),
        code_blocks=len(tree.css("pre")),
    )
