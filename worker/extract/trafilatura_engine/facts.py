"""Gathers ``PageFacts`` and ``PageShape`` from an lxml tree (the trafilatura engine's parse),
and hands them to the shared rules (``extract_metadata``, ``classify_page``).

Only reads the tree (XPath and attribute access): the body extractor runs on it afterwards.
"""

from __future__ import annotations

import re
from functools import partial

import lxml.etree
import lxml.html

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
    SHAPE_INVISIBLE_TAGS,
    WORD_BREAK_TAGS,
    PageFacts,
    PageShape,
    is_canonical_rel,
    is_jsonld_type,
    meta_tags,
    microdata_prop,
    microdata_value,
    time_tag,
)
from worker.extract.metadata import PageMetadata, metadata_from_facts
from worker.extract.pagetype import classify_shape, declared_only

Tree = lxml.html.HtmlElement


def element_text(el: Tree) -> str:
    """Like ``text_content()``, but a ``<br>`` or block child separates words.
    Iterative, so hostile nesting depth cannot exhaust the stack."""
    parts: list[str] = []
    for event, node in lxml.etree.iterwalk(el, events=("start", "end", "comment", "pi")):
        if event == "start":
            if node is not el and node.tag in WORD_BREAK_TAGS:
                parts.append(" ")
            if node.tag not in CODE_TAGS:
                parts.append(node.text or "")
        elif node is not el:  # the end of an element, or a comment: its tail follows
            parts.append(node.tail or "")
    return "".join(parts)


def microdata(tree: Tree) -> dict[str, list[str]]:
    """Values of non-meta elements with an itemprop we read (``<time itemprop=datePublished
    datetime=..>``): the datetime or content attribute, else the text of its name."""
    values: dict[str, list[str]] = {}
    for el in tree.xpath("//*[@itemprop][not(self::meta)]"):
        prop = microdata_prop(el.attrib)
        if prop is None:
            continue
        value = microdata_value(el.attrib)
        if value is None:
            names = el.xpath(".//*[@itemprop='name']")
            value = element_text(names[0] if names else el)
        values.setdefault(prop, []).append(value)
    return values


def classed_elements(tree: Tree, pattern: re.Pattern[str], limit: int | None) -> list[Tree]:
    """The first elements (all when ``limit`` is None) whose class attribute matches; a
    Python regex over ``//*[@class]`` beats a chain of XPath ``contains()``."""
    found = []
    for el in tree.xpath("//*[@class]"):
        if pattern.search(el.get("class") or ""):
            found.append(el)
            if limit is not None and len(found) >= limit:
                break
    return found


def _classed_texts(tree: Tree, pattern: re.Pattern[str], limit: int) -> list[str]:
    return [element_text(el) for el in classed_elements(tree, pattern, limit)]


def _author_link_texts(tree: Tree) -> list[str]:
    links = tree.xpath(f"//a[@rel='author' or contains(@href, '{AUTHOR_LINK_PATH}')]")
    return [element_text(a) for a in links[:MAX_BYLINE_ELEMENTS]]


def gather_facts(tree: Tree) -> PageFacts:
    root = tree.getroottree().getroot()
    return PageFacts(
        meta=meta_tags(el.attrib for el in tree.iter("meta")),
        jsonld=[
            s.text or "" for s in tree.xpath("//script[@type]") if is_jsonld_type(s.get("type"))
        ],
        microdata=microdata(tree),
        titles=[el.text_content() for el in tree.iter("title")],
        html_lang=root.get("lang") or root.get("xml:lang"),
        canonical_hrefs=[
            el.get("href") for el in tree.xpath("//link[@href]") if is_canonical_rel(el.get("rel"))
        ],
        headings=[element_text(h1) for h1 in list(tree.iter("h1"))[:MAX_HEADINGS]],
        times=[time_tag(t.attrib) for t in tree.xpath("//time")],
        date_texts=partial(_classed_texts, tree, DATE_CLASS, MAX_DATE_ELEMENTS),
        author_link_texts=partial(_author_link_texts, tree),
        byline_texts=partial(_classed_texts, tree, BYLINE_CLASS, MAX_BYLINE_ELEMENTS),
    )


def gather_shape(tree: Tree) -> PageShape:
    """Visible body text (scripts and styles left out), link text and repeated blocks."""
    body = tree.find(".//body")
    root = body if body is not None else tree
    parts: list[str] = []
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag not in SHAPE_INVISIBLE_TAGS and el.text:
            parts.append(el.text)
        if el.tail:
            parts.append(el.tail)
    return PageShape(
        text=" ".join(parts)[:BODY_TEXT_LIMIT],
        link_chars=sum(len(t.strip()) for a in root.iter("a") for t in a.itertext()),
        post_blocks=len(classed_elements(tree, POST_CLASS, limit=None)),
        teasers=len(tree.xpath("//article")),
        code_blocks=len(tree.xpath("//pre")),
    )


def extract_metadata(tree: Tree, url: str | None) -> PageMetadata:
    """Metadata of an lxml tree, by the shared rules; the tree is only read."""
    return metadata_from_facts(gather_facts(tree), url)


def classify_page(tree: Tree, url: str, text: str, meta: PageMetadata | None = None) -> str:
    """One of ``PAGE_TYPES`` for an lxml tree, by the shared rules; the tree is only read.
    Without ``meta`` the page's declared types stand in for it."""
    return classify_shape(gather_shape(tree), url, text, meta or declared_only(gather_facts(tree)))
