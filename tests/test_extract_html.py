"""The HTML path end to end: one parse, metadata, cleaned body, every Extracted field."""

from __future__ import annotations

from worker.extract import make_extractor
from worker.extract.trafilatura_engine.page import parse_html, visible_chars
from worker.model import Page

PARAGRAPHS = [
    "The regional rail operator confirmed on Monday that the coastal line will reopen in "
    "early spring, after eight months of repairs to the sea wall near the old fishing harbour.",
    "Engineers replaced more than four hundred metres of masonry and raised the track bed by "
    "half a metre, a measure the operator says should protect the route from winter storms.",
    "Commuters who have relied on replacement buses since the summer welcomed the news, "
    "although several said the timetable would need more early trains to be useful to them.",
    "The operator expects the first trains to run at reduced speed for two weeks while the "
    "new embankment settles, before the normal timetable is restored across the whole line.",
    "Local councillors asked for a public meeting to discuss further flood defences, citing "
    "the growing number of storm surges recorded along this stretch of coast in recent years.",
]

NEWSLETTER = "Sign up for our newsletter to get the best stories in your inbox every morning"
COOKIE = "We use cookies to give you the best experience on our website"
HIDDEN = "Exclusive offer for new subscribers only this week"


def _article_page() -> str:
    first = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[:3])
    second = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[3:])
    related = "".join(
        f'<li><a href="/news/{i}">Another headline about trains number {i}</a></li>'
        for i in range(8)
    )
    return f"""<!DOCTYPE html><html lang="en"><head>
<title>Coastal line to reopen in spring | The Harbour Gazette</title>
<meta property="og:type" content="article">
<meta property="og:title" content="Coastal line to reopen in spring">
<meta property="og:site_name" content="The Harbour Gazette">
<meta name="author" content="Jane Example">
<meta property="article:published_time" content="2024-03-04T09:30:00+00:00">
<link rel="canonical" href="https://gazette.example/news/coastal-line">
</head><body>
<div class="cookie-notice">{COOKIE}. <button>Accept</button></div>
<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav></header>
<main><article>
<h1>Coastal line to reopen in spring</h1>
<div class="share-bar"><a href="#">Share</a> <a href="#">Tweet</a> <a href="#">Email</a></div>
{first}
<h2>What changes for passengers</h2>
<ul><li>Trains every thirty minutes on weekdays</li><li>Two extra early services</li></ul>
{second}
<p>Advertisement</p>
<div style="display:none"><p>{HIDDEN}</p></div>
<div class="newsletter-signup"><h3>Newsletter</h3><p>{NEWSLETTER}</p>
<form><input type="email"><button>Subscribe</button></form></div>
</article>
<section class="related"><h2>Related articles</h2><ul>{related}</ul></section>
</main>
<footer><p>Copyright The Harbour Gazette</p></footer>
</body></html>"""


def _shop_page(head: str = "") -> str:
    """A shop page whose intro sits in a content-classed block and whose grid sits outside it:
    trafilatura keeps the intro only."""
    cards = "".join(
        f'<div class="product-card"><a href="/p/{i}">Handmade ceramic mug model {i}</a>'
        f'<div class="price">${20 + i}.00</div></div>'
        for i in range(24)
    )
    return f"""<!DOCTYPE html><html><head><title>Mugs - Pottery Shop</title>{head}</head><body>
<header><a href="/">Pottery Shop</a></header>
<main><h1>Mugs</h1><div class="entry-content">
<p>Every mug is thrown by hand in our studio on the coast.</p>
<p>Each one is glazed with stoneware glazes we mix ourselves.</p></div>
<div class="grid">{cards}</div></main>
<footer>Pottery Shop, 1 Clay Street</footer></body></html>"""


def _extract(html: str, url: str):
    return make_extractor("trafilatura")(
        Page(url=url, body=html, body_kind="html", input_format="json")
    )


def test_article_keeps_paragraphs_headings_and_lists() -> None:
    result = _extract(_article_page(), "https://gazette.example/news/coastal-line")
    for paragraph in PARAGRAPHS:
        assert paragraph in result.text
    assert "What changes for passengers" in result.text
    assert "Trains every thirty minutes on weekdays" in result.text


def test_article_drops_boilerplate() -> None:
    text = _extract(_article_page(), "https://gazette.example/news/coastal-line").text
    for boilerplate in (NEWSLETTER, COOKIE, HIDDEN, "Another headline about trains", "Copyright"):
        assert boilerplate not in text
    lines = {line.strip("- ").strip() for line in text.split("\n")}
    assert not lines & {"Advertisement", "Share", "Tweet", "Subscribe"}


def test_article_fields_are_filled() -> None:
    result = _extract(_article_page(), "https://gazette.example/news/coastal-line")
    assert result.title == "Coastal line to reopen in spring"
    assert result.authors == ["Jane Example"]
    assert result.published_at is not None and result.published_at.startswith("2024-03-04")
    assert result.site_name == "The Harbour Gazette"
    assert result.canonical_url == "https://gazette.example/news/coastal-line"
    assert result.language == "en"
    assert result.language_confidence is not None
    assert result.page_type is not None
    assert result.extractor and result.extractor_version
    assert result.boilerplate_ratio is not None and 0.0 < result.boilerplate_ratio < 1.0


def test_boilerplate_ratio_compares_with_visible_text() -> None:
    html = _article_page()
    result = _extract(html, "https://gazette.example/news/coastal-line")
    tree = parse_html(html)
    assert tree is not None
    expected = 1 - len(result.text) / visible_chars(tree)
    assert abs(result.boilerplate_ratio - expected) < 1e-3


def test_product_grid_falls_back_to_the_main_region() -> None:
    text = _extract(_shop_page(), "https://pottery.example/collections/mugs").text
    assert all(f"Handmade ceramic mug model {i}" in text for i in range(24))
    assert "Every mug is thrown by hand in our studio on the coast." in text
    assert "1 Clay Street" not in text
    assert "Pottery Shop" not in text


def test_declared_article_never_falls_back() -> None:
    html = _shop_page('<meta property="og:type" content="article">')
    text = _extract(html, "https://pottery.example/blog/mugs").text
    assert "Every mug is thrown by hand in our studio on the coast." in text
    assert "Handmade ceramic mug model" not in text


def test_pages_without_content_give_empty_text() -> None:
    for html in ("", "   ", "<html><body></body></html>", "<html><body><p> </p></body></html>"):
        result = _extract(html, "https://example.org/")
        assert result.text == ""
        assert result.extractor


def test_text_is_trimmed() -> None:
    result = _extract("a page that is only a sentence ", "https://example.org/")
    assert result.text == result.text.strip()
