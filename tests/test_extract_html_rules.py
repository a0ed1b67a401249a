"""Behaviour of the boilerplate rules and the region candidate on small hand-written pages."""

from __future__ import annotations

import lxml.etree
import lxml.html
import pytest

from worker.extract.trafilatura_engine.cleanup import (
    drop_hidden,
    drop_related_sections,
    filter_lines,
)
from worker.extract.trafilatura_engine.region import block_lines, drop_link_menus, region_text
from worker.extract.vocabulary import is_furniture_line

PARAGRAPHS = [
    "The harbour authority approved the new ferry timetable on Tuesday after a long debate.",
    "Residents of the outer islands had asked for an earlier morning crossing for two years.",
    "The first boat will now leave at half past five, forty minutes earlier than before.",
]


def _tree(body: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(f"<html><head><title>t</title></head><body>{body}</body></html>")


def _text(tree: lxml.html.HtmlElement) -> str:
    return " ".join(tree.text_content().split())


def _article(extra: str = "") -> str:
    paras = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return f"<article><h1>Ferry timetable changes</h1>{paras}{extra}</article>"


# --------------------------------------------------------------------------- hidden elements


@pytest.mark.parametrize(
    "hidden",
    [
        '<div style="display:none">Win a free cruise today</div>',
        '<div style="visibility: hidden">Win a free cruise today</div>',
        "<div hidden>Win a free cruise today</div>",
    ],
)
def test_hidden_elements_are_dropped(hidden: str) -> None:
    tree = _tree(_article(hidden))
    assert drop_hidden(tree) == 1
    text = _text(tree)
    assert "free cruise" not in text
    assert all(p in text for p in PARAGRAPHS)


def test_hidden_disclosure_content_is_kept() -> None:
    faq = (
        '<div class="faq-answer" style="display:none">Tickets can be bought on board.</div>'
        '<div role="tabpanel" hidden>Timetables for the winter season.</div>'
    )
    tree = _tree(_article(faq))
    drop_hidden(tree)
    text = _text(tree)
    assert "Tickets can be bought on board." in text
    assert "Timetables for the winter season." in text


def test_streamed_chunks_and_aria_hidden_slides_are_kept() -> None:
    body = (
        '<div hidden id="S:1"><p>Streamed paragraph about the ferry.</p></div>'
        '<ul><li aria-hidden="true">Second carousel slide about the islands.</li></ul>'
    )
    tree = _tree(_article(body))
    drop_hidden(tree)
    text = _text(tree)
    assert "Streamed paragraph" in text
    assert "Second carousel slide" in text


def test_hidden_wrapper_of_the_whole_page_is_kept() -> None:
    tree = _tree(f'<div style="display:none">{_article()}</div>')
    assert drop_hidden(tree) == 0
    assert PARAGRAPHS[0] in _text(tree)


# --------------------------------------------------------------------------- related lists


def _related_block(heading: str) -> str:
    links = "".join(f'<li><a href="/s{i}">Other story number {i}</a></li>' for i in range(6))
    return f'<div class="more"><h3>{heading}</h3><ul>{links}</ul></div>'


@pytest.mark.parametrize(
    "heading", ["Related articles", "You may also like", "More from Travel", "Most read"]
)
def test_related_link_lists_are_dropped(heading: str) -> None:
    filler = "".join(f"<p>{p * 3}</p>" for p in PARAGRAPHS)
    tree = _tree(_article() + f"<section>{filler}</section>" + _related_block(heading))
    assert drop_related_sections(tree) == 1
    text = _text(tree)
    assert "Other story number" not in text
    assert all(p in text for p in PARAGRAPHS)


def test_related_heading_over_prose_is_kept() -> None:
    prose = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    tree = _tree(_article() + f"<div><h2>Related</h2>{prose}<p>Unlinked closing remark.</p></div>")
    assert drop_related_sections(tree) == 0
    assert "Unlinked closing remark." in _text(tree)


def test_related_block_that_is_the_page_is_kept() -> None:
    """A product grid under "Recommended for you" is the content of a shop page."""
    tree = _tree(_related_block("Recommended for you"))
    assert drop_related_sections(tree) == 0
    assert "Other story number 3" in _text(tree)


# --------------------------------------------------------------------------- output lines


@pytest.mark.parametrize(
    "line",
    [
        "Advertisement",
        "ADVERTISEMENT",
        "- Share this article",
        "Sign up for our newsletter",
        "Subscribe to our weekly newsletter for more stories like this.",
        "Follow us on Instagram",
        "Skip to main content",
    ],
)
def test_boilerplate_lines_are_recognised(line: str) -> None:
    assert is_furniture_line(line)


@pytest.mark.parametrize(
    "line",
    [
        PARAGRAPHS[0],
        "Share prices fell sharply on Monday.",
        "Advertisement revenue at the paper grew by a tenth last year.",
        "She decided to subscribe to a local newspaper after the election. " * 4,
    ],
)
def test_content_lines_are_not_boilerplate(line: str) -> None:
    assert not is_furniture_line(line)


def test_filter_lines_keeps_paragraphs_headings_and_lists() -> None:
    text = "\n".join(
        ["Ferry timetable changes", PARAGRAPHS[0], "Advertisement", "- first stop", "- second stop"]
    )
    assert filter_lines(text).split("\n") == [
        "Ferry timetable changes",
        PARAGRAPHS[0],
        "- first stop",
        "- second stop",
    ]


# --------------------------------------------------------------------------- region candidate


def test_region_text_drops_chrome_keeps_content() -> None:
    page = (
        '<header><a href="/">Home</a> <a href="/news">News</a></header>'
        '<nav><ul><li><a href="/a">Sections</a></li></ul></nav>'
        '<div class="cookie-banner">We use cookies to improve your experience.</div>'
        "<main><h1>Ferry timetable changes</h1>"
        + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
        + "<h2>Stops</h2><ul><li>Harbour pier, 5:30</li><li>North island, 6:10</li></ul>"
        '<div class="share"><a href="#">Facebook</a><a href="#">X</a></div>'
        "<p>Advertisement</p></main>"
        "<footer>Copyright the harbour authority</footer>"
    )
    text = region_text(_tree(page))
    lines = text.split("\n")
    assert lines[0] == "Ferry timetable changes"
    assert all(p in lines for p in PARAGRAPHS)
    assert "Stops" in lines
    assert "Harbour pier, 5:30" in lines
    for chrome in ("Sections", "cookies", "Facebook", "Copyright", "Advertisement"):
        assert chrome not in text


def test_link_menus_are_dropped_but_content_lists_kept() -> None:
    menu = "".join(f'<li><a href="/{w}">{w}</a></li>' for w in ("Home", "About", "Blog", "Shop"))
    items = "".join(
        f'<li><a href="/p{i}">Canvas tote bag no. {i}</a> hand stitched, $25</li>' for i in range(4)
    )
    tree = _tree(f"<div><ul>{menu}</ul><ul>{items}</ul></div>")
    drop_link_menus(tree)
    text = _text(tree)
    assert "About" not in text
    assert "Canvas tote bag no. 2" in text


def test_chrome_named_blocks_are_dropped_unless_they_hold_the_page() -> None:
    content = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    page = (
        f'<div class="page-with-sidebar">{content}'
        '<div class="site-footer__inner">Harbour authority, Quay Road</div>'
        '<div id="mega_menu_top">Timetables Fares Contact</div></div>'
    )
    text = region_text(_tree(page))
    assert all(p in text for p in PARAGRAPHS)
    assert "Quay Road" not in text
    assert "Fares" not in text


def test_div_link_menus_are_dropped() -> None:
    links = "".join(
        f'<div><a href="/{w}">{w}</a></div>' for w in ("Ferries", "Buses", "Trains", "Bikes")
    )
    tree = _tree(f"<div>{links}</div><div><p>{PARAGRAPHS[0]}</p></div>")
    drop_link_menus(tree)
    text = _text(tree)
    assert "Buses" not in text
    assert PARAGRAPHS[0] in text


def test_block_lines_survives_nesting_deeper_than_the_recursion_limit() -> None:
    root = node = lxml.html.Element("div")
    for _ in range(5000):
        node = lxml.etree.SubElement(node, "div")
    node.text = "deep text"
    assert block_lines(root) == ["deep text"]
