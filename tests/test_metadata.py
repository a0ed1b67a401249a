"""Page metadata from JSON-LD, meta tags, links and fallbacks."""

from __future__ import annotations

import lxml.html
import pytest

from worker.extract.metadata import (
    PageMetadata,
    clean_title,
    find_date,
    normalise_date,
    parse_jsonld,
    split_authors,
)
from worker.extract.trafilatura_engine.facts import element_text, extract_metadata

JSONLD_PAGE = """<!DOCTYPE html>
<html lang="en-GB"><head>
<title>Harbour towns bet on tidal power | The Coastal Courier</title>
<link rel="canonical" href="/energy/harbour-tidal-power">
<script type="application/ld+json">
{"@context": "https://schema.org", "@graph": [
  {"@type": "WebSite", "name": "The Coastal Courier", "url": "https://courier.example/"},
  {"@type": ["NewsArticle"], "headline": "Harbour towns bet on tidal power",
   "description": "Three councils pool their budgets.",
   "author": [{"@type": "Person", "name": "Morwenna Price"},
              {"@type": "Person", "name": "Tomasz Kowal", "url": "https://courier.example/tk"}],
   "datePublished": "2023-03-14T08:30:00+00:00", "dateModified": "2023-03-15T10:00:00Z",
   "publisher": {"@type": "Organization", "name": "The Coastal Courier"},
   "image": {"@type": "ImageObject", "url": "https://cdn.courier.example/tide.jpg"}},
  {"@type": "BreadcrumbList", "itemListElement": []}
]}
</script>
</head><body><h1>Harbour towns bet on tidal power</h1><p>Body.</p></body></html>
"""

META_PAGE = """<html><head>
<title>How to keep a sourdough starter alive - Crumb &amp; Crust</title>
<meta property="og:title" content="How to keep a sourdough starter alive - Crumb &amp; Crust">
<meta property="og:site_name" content="Crumb &amp; Crust">
<meta property="og:type" content="article">
<meta property="og:image" content="/img/starter.jpg">
<meta name="author" content="By Ines Duarte and Paul Okafor">
<meta property="article:published_time" content="2024-06-02">
<meta name="description" content="A starter needs less care than you think.">
</head><body><p>Body.</p></body></html>
"""


def parse(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(html)


def test_jsonld_graph_article() -> None:
    meta = extract_metadata(parse(JSONLD_PAGE), "https://courier.example/energy/x?utm=1")
    assert meta == PageMetadata(
        title="Harbour towns bet on tidal power",
        description="Three councils pool their budgets.",
        authors=["Morwenna Price", "Tomasz Kowal"],
        published_at="2023-03-14T08:30:00+00:00",
        modified_at="2023-03-15T10:00:00+00:00",
        site_name="The Coastal Courier",
        canonical_url="https://courier.example/energy/harbour-tidal-power",
        image_url="https://cdn.courier.example/tide.jpg",
        language_hint="en-GB",
        schema_types=["WebSite", "NewsArticle", "BreadcrumbList"],
        og_type=None,
    )


def test_meta_tags_without_jsonld() -> None:
    meta = extract_metadata(parse(META_PAGE), "https://crumb.example/guides/starter")
    assert meta.title == "How to keep a sourdough starter alive"
    assert meta.site_name == "Crumb & Crust"
    assert meta.authors == ["Ines Duarte", "Paul Okafor"]
    assert meta.published_at == "2024-06-02"
    assert meta.image_url == "https://crumb.example/img/starter.jpg"
    assert meta.description == "A starter needs less care than you think."
    assert meta.og_type == "article"
    assert meta.canonical_url is None


def test_tree_is_not_modified() -> None:
    for html in (JSONLD_PAGE, META_PAGE):
        tree = parse(html)
        before = lxml.html.tostring(tree)
        extract_metadata(tree, "https://example.org/a")
        assert lxml.html.tostring(tree) == before


def test_malformed_jsonld_is_tolerated() -> None:
    html = """<html><head><script type="application/ld+json">
    <!-- {"@type": "BlogPosting", "headline": "Tidal notes", "author": {"name": "Ana Ruiz"},
      "datePublished": "2022-11-05",} -->
    </script><script type="application/ld+json">{"@type": "Article", broken</script>
    </head><body></body></html>"""
    meta = extract_metadata(parse(html), None)
    assert meta.title == "Tidal notes"
    assert meta.authors == ["Ana Ruiz"]
    assert meta.published_at == "2022-11-05"


def test_parse_jsonld_reads_concatenated_values() -> None:
    assert parse_jsonld('{"a": 1}\n{"b": 2}') == [{"a": 1}, {"b": 2}]
    assert parse_jsonld("not json") == []


def test_date_fallbacks_url_then_time_element() -> None:
    page = "<html><body><time datetime='2021-07-09T12:00:00+02:00'>9 July</time></body></html>"
    from_url = extract_metadata(parse(page), "https://news.example/2020/01/31/story")
    assert from_url.published_at == "2020-01-31"
    from_time = extract_metadata(parse(page), "https://news.example/story")
    assert from_time.published_at == "2021-07-09T12:00:00+02:00"


def test_microdata_and_visible_byline() -> None:
    html = """<html><body><article>
    <span class="byline">By Kofi Mensah</span>
    <time itemprop="datePublished" datetime="2019-04-01">1 April 2019</time>
    </article></body></html>"""
    meta = extract_metadata(parse(html), "https://blog.example/p")
    assert meta.authors == ["Kofi Mensah"]
    assert meta.published_at == "2019-04-01"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-05", "2024-03-05"),
        ("2024-03-05T10:15:30Z", "2024-03-05T10:15:30+00:00"),
        ("2024-03-05T10:15:30.123+0530", "2024-03-05T10:15:30+05:30"),
        ("2024-03-05 10:15", "2024-03-05T10:15:00"),
        ("Tue, 05 Mar 2024 10:15:30 GMT", "2024-03-05T10:15:30+00:00"),
        ("5 March 2024", "2024-03-05"),
        ("March 5th, 2024", "2024-03-05"),
        ("Published: Mar. 5, 2024 at 9am", "2024-03-05"),
        ("05.03.2024", "2024-03-05"),
        ("1709633730", "2024-03-05T10:15:30+00:00"),
        ("not a date", None),
        ("2024-02-30", None),
        ("", None),
    ],
)
def test_normalise_date(raw: str, expected: str | None) -> None:
    assert normalise_date(raw) == expected


def test_find_date_in_free_text() -> None:
    assert find_date("Updated 12th February 2025, 10:04") == "2025-02-12"
    assert find_date("Chapter 12 of 2025") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("By Jane Roe", ["Jane Roe"]),
        ("Jane Roe, John Doe and Ana Ruiz", ["Jane Roe", "John Doe", "Ana Ruiz"]),
        ("Jane Roe & John Doe", ["Jane Roe", "John Doe"]),
        ("Jane Roe, PhD", ["Jane Roe, PhD"]),
        ("Written by: Jane Roe", ["Jane Roe"]),
        ("https://example.org/authors/jane", []),
        ("jane@example.org", []),
        ("@janeroe", []),
    ],
)
def test_split_authors(raw: str, expected: list[str]) -> None:
    assert split_authors(raw) == expected


@pytest.mark.parametrize(
    ("title", "site", "url", "expected"),
    [
        ("Tidal power arrives | The Coastal Courier", None, None, "Tidal power arrives"),
        ("Coastal Courier - Tidal power arrives", "Coastal Courier", None, "Tidal power arrives"),
        (
            "Tidal power arrives – courier",
            None,
            "https://www.courier.example/x",
            "Tidal power arrives",
        ),
        ("Spider-Man: a history", None, None, "Spider-Man: a history"),
        ("Why tides matter", None, None, "Why tides matter"),
    ],
)
def test_clean_title(title: str, site: str | None, url: str | None, expected: str) -> None:
    assert clean_title(title, site, url) == expected


def test_visible_headline_preferred_when_it_restates_the_title() -> None:
    html = """<html><head><title>Tidal power: 5 things to know | Courier</title></head>
    <body><h1>Logo</h1><h1>Tidal power: five things <br>you need to know</h1></body></html>"""
    meta = extract_metadata(parse(html), "https://courier.example/a")
    assert meta.title == "Tidal power: five things you need to know"


def test_element_text_separates_lines_and_skips_comments() -> None:
    el = lxml.html.fromstring("<h1>Tidal<!-- x --> power<br>arrives<span>!</span></h1>")
    assert element_text(el) == "Tidal power arrives!"
    deep = lxml.html.fromstring("<div>" * 200 + "deep" + "</div>" * 200)
    assert element_text(deep).strip() == "deep"
