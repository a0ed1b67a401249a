"""The lxml and Lexbor gatherers lead the shared rules to the same metadata and page type."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from selectolax.lexbor import LexborHTMLParser

from worker.extract.fast import extract_fast
from worker.extract.fast.facts import classed_elements, gather_facts, gather_shape
from worker.extract.fast.page import extract_page
from worker.extract.metadata import PageMetadata, metadata_from_facts
from worker.extract.pagetype import classify_shape
from worker.extract.trafilatura_engine.facts import classify_page, extract_metadata
from worker.extract.trafilatura_engine.facts import gather_shape as lxml_shape
from worker.extract.trafilatura_engine.page import parse_html
from worker.model import Page

PARAGRAPH = (
    "The harbour board met on Tuesday to weigh three offers for the old ferry landing, "
    "and the members asked for a survey of the pier before any of them is accepted. "
)

ARTICLE = f"""<!DOCTYPE html>
<html lang="en-GB"><head>
<title>Ferry landing up for sale | Coastal Courier</title>
<link rel="Canonical stylesheet" href="/news/ferry-landing">
<meta property="og:site_name" content="Coastal Courier">
<meta property="og:image" content="/img/pier.jpg">
<script type="application/LD+JSON">
{{"@context": "https://schema.org", "@graph": [
  {{"@type": "NewsArticle", "headline": "Ferry landing up for sale",
    "author": [{{"@type": "Person", "name": "Morwenna Price"}}],
    "datePublished": "2024-03-14T08:30:00+00:00", "dateModified": "2024-03-15"}}]}}
</script><style>.x {{ color: red }}</style>
</head><body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>Ferry landing up <br>for sale</h1><p>{PARAGRAPH * 6}</p></article>
<footer><a href="/about">About</a></footer></body></html>"""

FALLBACKS = f"""<html><head><title>Pier survey: what the board found - Harbour Notes</title>
<meta name="description" content="  What the survey &amp;amp; the board found. ">
</head><body>
<div class="entry-meta"><span class="posted-on">Posted on <b>3 March 2024</b></span>
<span class="byline">By <a rel="author" href="/u/ana">Ana Ruiz</a> and Tom Kerr</span></div>
<h1>A logo</h1><h1>Pier survey: what the <i>harbour</i><br>board found</h1>
<div itemprop="author"><span itemprop="name">Ana Ruiz</span></div>
<time class="updated" datetime="2024-03-05">5 March</time>
<p>{PARAGRAPH * 3}</p><!-- a comment --></body></html>"""

MICRODATA = """<html xml:lang="de"><head><meta http-equiv="content-language" content="fr"></head>
<body><div itemscope><time itemprop="datePublished" datetime="2023-07-01T10:00:00+02:00">1.7.
</time><meta itemprop="dateModified" content="2023-07-02"><span itemprop="author">Jana
Novak</span></div><time pubdate datetime="2023-06-30">x</time><p>Kurz.</p></body></html>"""

FORUM = (
    "<html><body><h1>Tides question</h1>"
    + "".join(
        f"<div class='post message-{i}'><span>Joined: 2020</span><p>Reply {i}: {PARAGRAPH}</p>"
        "<a href='#'>Quote</a> <a href='#'>Report post</a></div>"
        for i in range(22)
    )
    + "</body></html>"
)

SHOP = (
    "<html><body><h1>Kettles</h1>"
    + "".join(
        f"<div class='card'><a href='/p/{i}'>Copper kettle {i}</a><span>$ {20 + i}.99</span>"
        "<button>Add to cart</button> <em>In stock</em></div>"
        for i in range(20)
    )
    + "<script>var price = '$1.00 add to cart add to cart';</script></body></html>"
)

LISTING = (
    "<html><body>"
    + "".join(
        f"<article><h2><a href='/story-{i}'>Story number {i} about the harbour</a></h2>"
        "<p>Short teaser.</p></article>"
        for i in range(8)
    )
    + "<noscript>Enable scripts</noscript></body></html>"
)

DOCS = (
    "<html><body><h1>Tide API</h1>"
    + "<p>Call it so:</p><pre>tide.level(port)</pre>" * 3
    + "</body></html>"
)

PAGES = {
    "article": (ARTICLE, "https://courier.example/news/2024/03/14/ferry-landing"),
    "fallbacks": (FALLBACKS, "https://notes.example/pier-survey"),
    "microdata": (MICRODATA, "https://zeitung.example/a/1"),
    "forum": (FORUM, "https://talk.example/t/tides-question"),
    "shop": (SHOP, "https://shop.example/kettles-and-more"),
    "listing": (LISTING, "https://news.example/"),
    "docs": (DOCS, "https://tide.example/guide/levels"),
    "empty": ("", "https://example.org/x"),
}


def lxml_record(html: str, url: str, text: str) -> tuple[PageMetadata, str]:
    tree = parse_html(html)
    if tree is None:
        return PageMetadata(), classify_shape(None, url, text, None)
    meta = extract_metadata(tree, url)
    return meta, classify_page(tree, url, text, meta)


def lexbor_record(html: str, url: str, text: str) -> tuple[PageMetadata, str]:
    tree = LexborHTMLParser(html)
    classed = classed_elements(tree)
    meta = metadata_from_facts(gather_facts(tree, classed), url)
    return meta, classify_shape(gather_shape(tree, classed), url, text, meta)


@pytest.mark.parametrize("name", [n for n in PAGES if n != "empty"])
def test_both_gatherers_give_the_same_metadata_and_page_type(name: str) -> None:
    html, url = PAGES[name]
    text = extract_fast(html).text
    lxml_meta, lxml_type = lxml_record(html, url, text)
    lexbor_meta, lexbor_type = lexbor_record(html, url, text)
    assert asdict(lexbor_meta) == asdict(lxml_meta)
    assert lexbor_type == lxml_type


def test_the_pages_exercise_every_source() -> None:
    """The pages above reach the sources they are meant to, so agreement means something."""
    records = {name: lexbor_record(html, url, "")[0] for name, (html, url) in PAGES.items()}
    article = records["article"]
    assert article.title == "Ferry landing up for sale"
    assert article.authors == ["Morwenna Price"]
    assert article.published_at == "2024-03-14T08:30:00+00:00"
    assert article.canonical_url == "https://courier.example/news/ferry-landing"
    assert article.image_url == "https://courier.example/img/pier.jpg"
    assert article.language_hint == "en-GB"
    notes = records["fallbacks"]
    assert notes.title == "Pier survey: what the harbour board found"  # h1 restating the title
    assert notes.description == "What the survey & the board found."
    assert notes.published_at == "2024-03-05"  # <time> before date-classed text
    assert notes.authors == ["Ana Ruiz"]  # microdata before the visible byline
    micro = records["microdata"]
    assert (micro.published_at, micro.modified_at) == ("2023-07-01T10:00:00+02:00", "2023-07-02")
    assert micro.authors == ["Jana Novak"]
    assert micro.language_hint == "de"
    assert records["empty"] == PageMetadata()


@pytest.mark.parametrize("name", ["article", "fallbacks", "forum", "shop", "docs"])
def test_both_gatherers_see_the_same_page_shape(name: str) -> None:
    """Text outside scripts, link text, post blocks, teasers and code. (The text differs
    where lxml keeps what Lexbor hides: template content, or noscript's own text.)"""
    html, _ = PAGES[name]
    tree = LexborHTMLParser(html)
    lexbor = gather_shape(tree, classed_elements(tree))
    lxml = lxml_shape(parse_html(html))
    assert " ".join(lexbor.text.split()) == " ".join(lxml.text.split())
    assert "var price" not in lexbor.text and "color: red" not in lexbor.text
    assert (lexbor.link_chars, lexbor.post_blocks, lexbor.teasers, lexbor.code_blocks) == (
        lxml.link_chars,
        lxml.post_blocks,
        lxml.teasers,
        lxml.code_blocks,
    )


@pytest.mark.parametrize(
    ("name", "page_type"),
    [("forum", "forum"), ("shop", "collection"), ("listing", "listing"), ("docs", "documentation")],
)
def test_page_shape_decides_the_type(name: str, page_type: str) -> None:
    html, url = PAGES[name]
    assert lexbor_record(html, url, extract_fast(html).text)[1] == page_type


def test_visible_byline_and_date_fallbacks_agree() -> None:
    html = f"""<html><body><p class="article-date">Updated 4 May 2024 at noon</p>
    <div class="author-name">Written by <b>Li Wei</b><script>track("byline")</script></div>
    <p>{PARAGRAPH}</p></body></html>"""
    url = "https://blog.example/notes"
    lexbor_meta = lexbor_record(html, url, "")[0]
    assert asdict(lexbor_meta) == asdict(lxml_record(html, url, "")[0])
    assert (lexbor_meta.published_at, lexbor_meta.authors) == ("2024-05-04", ["Li Wei"])


def test_fast_record_is_complete_and_keeps_the_engine_text() -> None:
    html, url = PAGES["article"]
    page = Page(url=url, body=html, body_kind="html", input_format="raw")
    record = extract_page(page)
    assert record.text == extract_fast(html).text
    assert PARAGRAPH.strip() in record.text
    assert record.title == "Ferry landing up for sale"
    assert record.authors == ["Morwenna Price"]
    assert record.published_at == "2024-03-14T08:30:00+00:00"
    assert record.modified_at == "2024-03-15"
    assert record.site_name == "Coastal Courier"
    assert record.page_type == "article"
    assert record.language == "en" and record.language_confidence
    assert record.boilerplate_ratio is not None and 0 < record.boilerplate_ratio < 1
