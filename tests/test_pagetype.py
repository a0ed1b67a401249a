"""Page-type gate on small invented pages."""

from __future__ import annotations

import lxml.html
import pytest

from worker.extract.metadata import PageMetadata
from worker.extract.pagetype import PAGE_TYPES, classify_shape, is_article, url_hint
from worker.extract.trafilatura_engine.facts import classify_page, extract_metadata

PARAGRAPH = (
    "The turbines were lowered into the channel on a grey Tuesday morning, watched by a small "
    "crowd of fishermen who had argued against them for years. "
)
LONG_TEXT = PARAGRAPH * 30  # about 500 words


def page(head: str = "", body: str = "") -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


def jsonld(data: str) -> str:
    return f'<script type="application/ld+json">{data}</script>'


def classify(html: str, url: str, text: str = "") -> str:
    tree = lxml.html.fromstring(html)
    return classify_page(tree, url, text, extract_metadata(tree, url))


def test_declared_news_article() -> None:
    html = page(jsonld('{"@type": "NewsArticle", "headline": "Tides", "author": "Ana Ruiz"}'))
    assert classify(html, "https://news.example/energy/tides", LONG_TEXT) == "article"


def test_review_declaring_article_and_product_is_an_article() -> None:
    head = jsonld('[{"@type": "Review"}, {"@type": "Product", "name": "Kettle"}]')
    assert classify(page(head), "https://reviews.example/best-kettles", LONG_TEXT) == "article"


def test_product_page() -> None:
    head = jsonld('{"@type": "Product", "name": "Copper kettle", "offers": {"price": "49.00"}}')
    body = "<h1>Copper kettle</h1><p>$49.00</p><button>Add to cart</button><p>In stock</p>"
    assert classify(page(head, body), "https://shop.example/kettle", "Copper kettle") == "product"


def test_shop_page_without_structured_data() -> None:
    cards = "".join(
        f"<div><a href='/p/{i}1'>Kettle {i}</a> ${i}9.99 Add to cart</div>" for i in range(30)
    )
    url = "https://shop.example/kitchen/kettles"
    assert classify(page(body=cards), url, "Kettles") == "collection"


def test_forum_thread() -> None:
    head = jsonld('{"@type": "DiscussionForumPosting", "headline": "Tide tables?"}')
    assert classify(page(head), "https://boards.example/t/tide-tables/42", LONG_TEXT) == "forum"


def test_forum_by_url_and_repeated_posts() -> None:
    posts = "".join(
        f"<div class='post'><span>Joined: 2019</span><p>Reply {i}</p></div>" for i in range(25)
    )
    assert classify(page(body=posts), "https://example.org/viewtopic.php?t=9", "x") == "forum"


def test_documentation() -> None:
    body = "<h1>Install</h1>" + "<pre>pip install tide</pre>" * 4
    assert (
        classify(page(body=body), "https://tide.example/docs/install", LONG_TEXT) == "documentation"
    )


def test_home_page_with_teasers_is_a_listing() -> None:
    teasers = "".join(
        f"<article><h2><a href='/a{i}'>Story {i}</a></h2></article>" for i in range(12)
    )
    assert classify(page(body=teasers), "https://news.example/", "Story") == "listing"


def test_service_page() -> None:
    head = '<meta property="og:type" content="website">'
    url = "https://agency.example/services/harbour-consulting"
    assert classify(page(head, "<p>Call us.</p>"), url, PARAGRAPH * 5) == "service"


def test_blog_post_declared_by_opengraph() -> None:
    head = (
        '<meta property="og:type" content="article">'
        '<meta property="article:published_time" content="2024-06-02">'
        '<meta name="author" content="Ines Duarte">'
    )
    url = "https://crumb.example/keeping-a-sourdough-starter-alive"
    assert classify(page(head), url, LONG_TEXT) == "article"


def test_short_dated_signed_story_in_one_article_element() -> None:
    head = (
        '<meta property="article:published_time" content="2026-03-02">'
        '<meta name="author" content="Ines Duarte">'
    )
    story = f"<article><h1>Tidal turbines lowered</h1><p>{PARAGRAPH * 5}</p></article>"
    url = "https://coastal.example/story/88213"
    assert classify(page(head, story), url, PARAGRAPH * 5) == "article"
    # without a date or an author it is not enough, nor is one of several teasers
    assert classify(page("", story), url, PARAGRAPH * 5) != "article"
    assert classify(page(head, story * 7), url, PARAGRAPH * 5) != "article"


def test_bundled_news_samples_are_articles() -> None:
    """The stories shipped for `make run` each sit in one <article>, dated and signed."""
    import json
    from pathlib import Path

    from worker.extract import make_extractor
    from worker.model import Page

    extract = make_extractor("fast")
    samples = Path(__file__).parent.parent / "worker" / "samples" / "pages.jsonl"
    stories = []
    for line in samples.read_text(encoding="utf-8").splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue  # the truncated line the samples carry on purpose
        if doc.get("status") == 200 and "<article" in (doc.get("html") or ""):
            page_ = Page(url=doc["url"], body=doc["html"], body_kind="html", input_format="json")
            stories.append(extract(page_).page_type)
    assert len(stories) >= 3
    assert set(stories) == {"article"}


def test_plain_text_pages_use_length_and_url() -> None:
    url = "https://news.example/harbour-towns-bet-on-tidal-power"
    assert classify_shape(None, url, LONG_TEXT, None) == "article"
    assert classify_shape(None, url, "Home News Sport", None) != "article"
    assert classify_shape(None, "https://example.org/forum/thread/1", LONG_TEXT, None) == "forum"
    signed = PageMetadata(authors=["Ana Ruiz"], published_at="2024-01-02")
    short = PARAGRAPH * 8  # about 170 words
    assert classify_shape(None, url, short, None) != "article"
    assert classify_shape(None, url, short, signed) == "article"


def test_tree_is_not_modified() -> None:
    html = page(jsonld('{"@type": "Product"}'), "<div class='post'><pre>x</pre><a>y</a></div>")
    tree = lxml.html.fromstring(html)
    before = lxml.html.tostring(tree)
    classify_page(tree, "https://example.org/p/1", "text", extract_metadata(tree, None))
    classify_page(tree, "https://example.org/p/1", "text", None)
    assert lxml.html.tostring(tree) == before


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("https://news.example/2024/03/05/tides", "article"),
        ("https://forum.example/threads/tides.123/", "forum"),
        ("https://example.org/questions/42/how-do-tides-work", "forum"),
        ("https://tide.readthedocs.io/en/latest/usage.html", "documentation"),
        ("https://shop.example/products/copper-kettle", "product"),
        ("https://shop.example/collections/kettles", "collection"),
        ("https://news.example/tag/energy", "listing"),
        ("https://blog.example/blog/why-tides-matter-more-than-you-think", "article"),
        ("https://example.org/about", None),
    ],
)
def test_url_hint(url: str, hint: str | None) -> None:
    assert url_hint(url) == hint


def test_is_article() -> None:
    assert is_article("article")
    assert not any(is_article(t) for t in PAGE_TYPES if t != "article")
    assert not is_article(None)
