"""No markup crashes extraction: every node kind the HTML parser can build is handled.

Crawled pages carry server-side code that was never executed (``<?php … ?>``, which the
parser keeps as a node without a tag name), XML leftovers (CDATA, processing
instructions, namespaced tags), comments and doctypes in odd places. The property test
generates trees from all of them, nested in any order, and runs both the text engine
and the complete record through them.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worker.extract.fast import extract_fast
from worker.extract.fast.page import extract_page
from worker.model import BadRecord, Page

PROSE = (
    "The committee published its report on the river crossing after a year of hearings, "
    "and most of its recommendations concern the timing of the works."
)

# Leaves: everything that is not an element with children.
WORDS = st.sampled_from(["", " ", "word", PROSE, "a\u00a0b", "é ü ß 中文", "&amp;", "&lt;p&gt;"])
ODD_NODES = st.sampled_from(
    [
        "<?php echo $title; ?>",
        "<?php if ($a < 3) { ?>",
        "<?xml version='1.0' encoding='utf-8'?>",
        "<?xml-stylesheet href='a.xsl'?>",
        "<? ?>",
        "<?>",
        "<!-- a comment -->",
        "<!---->",
        "<!-->",
        "<!--x",
        "<![CDATA[ if (a < b) { c(); } ]]>",
        "<!DOCTYPE html>",
        "<!doctype html public '-//W3C//DTD XHTML 1.0//EN'>",
        "<!ELEMENT x ANY>",
        "<!>",
        "</>",
        "</ p>",
        "<br>",
        "<br/>",
        "</br>",
        "<hr>",
        "<img src='a.png' alt='x'>",
        "<wbr>",
        "<input value='v'>",
        "&nbsp;",
        "&#0;",
        "&#xD800;",
        "\x00",
        "\ufeff",
    ]
)
TAGS = st.sampled_from(
    [
        # block and inline tags the walk treats specially
        "div",
        "p",
        "span",
        "a",
        "article",
        "main",
        "section",
        "header",
        "footer",
        "nav",
        "aside",
        "form",
        "figure",
        "figcaption",
        "pre",
        "code",
        "table",
        "tr",
        "td",
        "th",
        "ul",
        "li",
        "h1",
        "h2",
        "blockquote",
        # invisible and foreign content
        "noscript",
        "script",
        "style",
        "template",
        "svg",
        "math",
        "iframe",
        "textarea",
        "select",
        "title",
        "head",
        "body",
        "html",
        "frameset",
        # unknown namespaces, custom and made-up elements
        "svg:g",
        "fb:like",
        "o:p",
        "x-widget",
        "my-element",
        "foo",
        "ruby",
        "rt",
    ]
)
ATTRS = st.sampled_from(
    [
        "",
        " class='sidebar'",
        " class='entry-content'",
        " class='comments'",
        " class",
        " id='main-content'",
        " role='main'",
        " role='navigation'",
        " itemprop='articleBody'",
        " style='display:none'",
        " style",
        " xmlns:fb='http://ogp.me/ns/fb#'",
        " class='wp-caption-text'",
        " hidden",
    ]
)


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    def build(tag: str, attrs: str, inner: list[str], closed: bool) -> str:
        body = "".join(inner)
        return f"<{tag}{attrs}>{body}</{tag}>" if closed else f"<{tag}{attrs}>{body}"

    return st.builds(build, TAGS, ATTRS, st.lists(children, max_size=4), st.booleans())


TREES = st.recursive(WORDS | ODD_NODES, _element, max_leaves=40)
PAGES = st.builds(
    lambda prefix, head, body: f"{prefix}<html><head>{head}</head><body>{body}</body></html>",
    st.sampled_from(["", "<!DOCTYPE html>", "<?xml version='1.0'?>", "<?php session_start(); ?>"]),
    st.lists(TREES, max_size=2).map("".join),
    st.lists(TREES, min_size=1, max_size=4).map("".join),
)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(PAGES)
def test_generated_trees_never_crash_the_text_engine(html: str) -> None:
    result = extract_fast(html)
    assert isinstance(result.text, str)
    assert 0.0 <= result.confidence <= 1.0


@FUZZ
@given(PAGES)
def test_generated_trees_never_crash_the_complete_record(html: str) -> None:
    page = Page(url="https://example.org/a", body=html, body_kind="html", input_format="raw")
    try:
        extracted = extract_page(page)
    except BadRecord as exc:  # a counted dead-letter reason, never an uncaught error
        assert exc.reason == "too_deep"
        return
    assert isinstance(extracted.text, str)


@pytest.mark.parametrize(
    "odd",
    [
        "<?php echo $title; ?>",
        "<![CDATA[ x ]]>",
        "<!DOCTYPE html>",
        "<!-- note -->",
        "<fb:like href='x'></fb:like>",
        "<svg:g>vector</svg:g>",
    ],
)
def test_text_around_odd_nodes_is_kept(odd: str) -> None:
    html = f"<html><body><article><p>{PROSE}</p>{odd}<p>{PROSE}</p></article></body></html>"
    text = extract_fast(html).text
    assert text.count(PROSE) == 2
    assert "echo" not in text and "CDATA" not in text
