"""Behaviour of the fast extractor on small hand-written pages."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worker.extract.fast import FastResult, extract_fast

PARAGRAPHS = [
    "The harbour council met on Tuesday evening to settle the question of the old ferry "
    "landing, which has stood unused since the storm two winters ago, and to hear from the "
    "fishermen who still tie up along its northern side.",
    "Several members argued that repairing the timber pilings would cost less than building "
    "a new concrete pier, although the engineer's report warned that the wood below the "
    "waterline had softened far more than anyone expected.",
    "After a long discussion the council agreed to commission a second survey, with a final "
    "vote planned for the spring session once the tides and the budget are both better known.",
]


def page(body: str, head: str = "<title>Harbour news</title>") -> str:
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"


def site_chrome(main: str) -> str:
    """A typical page frame around ``main``: menu, site header, sidebar, footer."""
    return page(
        """
        <header class="site-header"><a href="/">Harbour Gazette</a>
          <nav><ul><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li>
          <li><a href="/weather">Weather</a></li></ul></nav></header>
        """
        + main
        + """
        <div class="sidebar"><h3>Most read</h3><ul>
          <li><a href="/a">Lighthouse keeper retires after forty years</a></li>
          <li><a href="/b">New bakery opens on Quay Street</a></li></ul></div>
        <footer><p>Contact the newsroom</p><p>Terms of use and privacy</p></footer>
        """
    )


def article(*extra: str) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    headline = "<h1>Council debates the ferry landing</h1>"
    return f"<article>{headline}{paragraphs}{''.join(extra)}</article>"


def test_keeps_article_paragraphs_and_drops_site_chrome() -> None:
    result = extract_fast(site_chrome(article()), "https://example.org/news/ferry")
    for paragraph in PARAGRAPHS:
        assert paragraph in result.text
    for chrome in (
        "Harbour Gazette",
        "Sport",
        "Weather",
        "Most read",
        "Lighthouse keeper",
        "Contact the newsroom",
        "Terms of use",
    ):
        assert chrome not in result.text
    assert isinstance(result, FastResult)


def test_headings_and_lists_are_kept_as_lines() -> None:
    body = article(
        "<h2>What happens next</h2>",
        "<p>The survey team will start work after the holiday weekend, weather permitting, "
        "and will report back to the full council.</p>",
        "<ul><li>Measure the pilings at low tide</li><li>Test samples of the timber</li>"
        "<li>Estimate the cost of both options</li></ul>",
    )
    lines = extract_fast(site_chrome(body)).text.split("\n")
    assert "What happens next" in lines
    assert "- Measure the pilings at low tide" in lines
    assert "- Estimate the cost of both options" in lines


def test_known_boilerplate_blocks_are_removed() -> None:
    body = article(
        '<div class="share-buttons"><a href="#">Share on Facebook</a> <a href="#">Tweet</a></div>',
        '<div class="newsletter-signup"><h4>Get the morning briefing</h4>'
        "<p>Our editors pick the stories that matter for the coast every weekday.</p></div>",
        '<div class="related-posts"><h3>Related</h3><p><a href="/c">Dredging starts in the '
        "inner harbour next month after a delay</a></p></div>",
        '<div id="cookie-consent">We use cookies to improve your visit to this website.</div>',
        '<div style="display: none">Hidden promotional text for search engines only.</div>',
        "<p>Advertisement</p>",
    )
    text = extract_fast(site_chrome(body)).text
    assert PARAGRAPHS[0] in text
    for junk in (
        "Share on Facebook",
        "morning briefing",
        "Dredging starts",
        "cookies",
        "Hidden promotional",
        "Advertisement",
    ):
        assert junk not in text


def test_body_split_across_two_containers_is_kept_whole() -> None:
    body = f"""
    <article><h1>Council debates the ferry landing</h1>
      <div class="story-part"><p>{PARAGRAPHS[0]}</p><p>{PARAGRAPHS[1]}</p></div>
      <div class="ad-slot"><p>Advertisement</p>
        <p>Buy boat insurance today from our partner.</p></div>
      <div class="story-part"><p>{PARAGRAPHS[2]}</p></div>
    </article>"""
    text = extract_fast(site_chrome(body)).text
    for paragraph in PARAGRAPHS:
        assert paragraph in text
    assert "boat insurance" not in text


def test_wrapper_named_like_chrome_is_not_dropped() -> None:
    body = f"""
    <div class="page with-sidebar ad-free">
      <div class="column">{"".join(f"<p>{p}</p>" for p in PARAGRAPHS)}</div>
      <div class="sidebar"><p>Subscribe to the print edition for half price.</p></div>
    </div>"""
    text = extract_fast(page(body)).text
    for paragraph in PARAGRAPHS:
        assert paragraph in text
    assert "print edition" not in text


def test_link_only_lines_inside_prose_are_dropped() -> None:
    body = article(
        '<p><a href="/d">Read also: the history of the ferry service on the north shore</a></p>'
    )
    text = extract_fast(site_chrome(body)).text
    assert PARAGRAPHS[2] in text
    assert "history of the ferry service" not in text


def test_listing_page_keeps_its_links() -> None:
    items = [
        "Harbour council approves new survey",
        "Fishing fleet returns early as storm nears",
        "Volunteers repaint the lifeboat station",
        "School choir performs at the quay festival",
        "Ferry timetable changes for the winter",
        "Coastal path reopens after landslip repairs",
    ]
    listing = "".join(f'<li><a href="/n/{i}">{title}</a></li>' for i, title in enumerate(items))
    text = extract_fast(site_chrome(f"<main><h1>Latest news</h1><ul>{listing}</ul></main>")).text
    for title in items:
        assert title in text


def test_all_posts_of_a_thread_are_kept() -> None:
    posts = [
        "Has anyone tried launching a kayak from the old ferry landing since the storm? "
        "The steps on the south side look loose to me and I would rather not find out "
        "the hard way.",
        "I went down last week at high tide. The top three steps are fine but the lower ones "
        "move when you stand on them, so I carried the boat round to the slipway instead.",
        "The council notice on the gate says the survey starts next month, so it might be "
        "worth waiting until they have checked the pilings before anyone uses it again.",
    ]
    thread = "".join(
        f'<div class="post"><div class="author">user{i}</div>'
        f'<div class="post-content"><p>{text}</p></div></div>'
        for i, text in enumerate(posts)
    )
    result = extract_fast(site_chrome(f'<div class="thread">{thread}</div>'))
    for post in posts:
        assert post in result.text


def test_table_rows_become_lines() -> None:
    table = (
        "<table><tr><th>Boat</th><th>Length</th></tr>"
        "<tr><td>Morning Star</td><td>12 m</td></tr>"
        "<tr><td>Grey Heron</td><td>9 m</td></tr></table>"
    )
    text = extract_fast(site_chrome(article(table))).text
    assert "Boat | Length" in text
    assert "Morning Star | 12 m" in text


def test_line_breaks_split_lines() -> None:
    verse = (
        "<p>The tide comes in at dawn and goes<br>The gulls are loud above the shore<br/>"
        "And nets are drying on the wall</p>"
    )
    lines = extract_fast(site_chrome(article(verse))).text.split("\n")
    assert "The gulls are loud above the shore" in lines


def test_dateline_and_byline_are_dropped() -> None:
    body = article().replace(
        "</h1>", "</h1><p>By Ann Example</p><p>Published March 3, 2024 10:15</p>"
    )
    text = extract_fast(site_chrome(body)).text
    assert PARAGRAPHS[0] in text
    assert "Ann Example" not in text
    assert "March 3" not in text


def test_title_comes_from_og_title_then_title() -> None:
    og = '<meta property="og:title" content="Ferry landing survey"><title>Site | Ferry</title>'
    assert extract_fast(page("<p>x</p>", og)).title == "Ferry landing survey"
    assert extract_fast(page("<p>x</p>", "<title> Site | Ferry </title>")).title == "Site | Ferry"
    assert extract_fast(page("<p>x</p>", "")).title is None


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "plain words without any markup at all",
        "<<<>>></p></div><div",
        "<html><head><script>var a = 1;</script></head><body></body></html>",
        "<table><td><td><tr><li><p><h1>",
        "\x00\x01\x02 binary \xff\xfe garbage",
        "<div class='   '><span class=''>text</span></div>",
    ],
)
def test_empty_or_garbage_input_does_not_crash(html: str) -> None:
    result = extract_fast(html)
    assert isinstance(result.text, str)


def test_deeply_nested_markup_does_not_crash() -> None:
    deep_divs = "<div>" * 5000 + f"<p>{PARAGRAPHS[0]}</p>" + "</div>" * 5000
    assert PARAGRAPHS[0] in extract_fast(page(deep_divs)).text
    deep_spans = "<span>" * 5000 + PARAGRAPHS[1] + "</span>" * 5000
    assert PARAGRAPHS[1] in extract_fast(page(f"<p>{deep_spans}</p>")).text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>/=\"' abcdivpspanli&#;\n")), max_size=300))
def test_arbitrary_markup_never_raises(html: str) -> None:
    assert isinstance(extract_fast(html).text, str)


def test_page_adapter_fills_extracted_record() -> None:
    from worker.extract.fast.page import extract_page
    from worker.model import Page

    html = site_chrome(article())
    extracted = extract_page(
        Page(url="https://example.org/a", body=html, body_kind="html", input_format="raw")
    )
    assert PARAGRAPHS[1] in extracted.text
    assert extracted.title == "Harbour news"
    assert extracted.extractor == "fast"
    assert extracted.boilerplate_ratio is not None
    assert 0.0 < extracted.boilerplate_ratio < 1.0


@pytest.mark.parametrize(
    ("names", "chrome"),
    [
        ("sidebar", True),
        ("sidebar-right widget", True),
        ("post-share", True),
        ("comments-area", True),
        ("l-sidebar-fixed", False),  # a layout modifier, not the sidebar itself
        ("content-sidebar-wrap", False),  # names the content
        ("post tag-newsletter category-ads", False),  # taxonomy classes on an article
        ("shared-history", False),
    ],
)
def test_chrome_words_match_whole_class_segments(names: str, chrome: bool) -> None:
    from worker.extract.fast.dom import NOT_CHROME, chrome_kind

    assert (chrome_kind("div", names, "") != NOT_CHROME) is chrome


@pytest.mark.parametrize(
    ("line", "low"),
    [
        ("Share this article", True),
        ("12 comments", True),
        ("Read more about the harbour", True),
        ("Published March 3, 2024 10:15", True),
        ("By Ann Example", True),
        ("Photo: Harbour Gazette", True),
        ("Sign up for our weekly newsletter to get the best stories.", True),
        ("Posts: 1,077", True),
        ("Join Date: Aug 2008", True),
        ("Showing 24 of 291 results", True),
        ("Was this helpful?", True),
        ("See all products", True),
        ("The contents of this site are ©2019 Harbour Gazette Ltd.", True),
        ("Related coverage from the harbour desk:", True),
        ("Posts on the quay were repainted in the spring by volunteers.", False),
        ("See you at the harbour festival, the mayor told the crowd.", False),
        ("The council met on May 5 to discuss the pilings.", False),
        ("By the time the ferry arrived, the tide had turned and the quay was empty.", False),
        ("Share prices fell sharply after the announcement on the harbour works.", False),
    ],
)
def test_line_priors_separate_furniture_from_prose(line: str, low: bool) -> None:
    from worker.extract.fast.dom import Block
    from worker.extract.fast.priors import block_prior
    from worker.extract.fast.scoring import KEEP_THRESHOLD

    assert (block_prior(Block(line, "p", 0, 0, 0)) < KEEP_THRESHOLD) is low


def test_captions_marked_by_class_are_dropped() -> None:
    figure = (
        '<div class="image-embed"><img src="x.jpg">'
        '<div class="InlineImage-imageEmbedCaption"><span>Fishermen mend their nets on the '
        "northern side of the old landing, where the pilings have softened.</span></div></div>"
    )
    wp = '<p class="wp-caption-text">The ferry landing seen from the harbour wall at dawn.</p>'
    result = extract_fast(page(article(figure, wp)), None)
    assert PARAGRAPHS[2] in result.text
    assert "Fishermen mend" not in result.text
    assert "harbour wall at dawn" not in result.text


SLIDE = (
    "Stallholders set out their crates of apples and pears under the arches of the old corn "
    "exchange, as the first buyers arrive from the villages along the valley road."
)


def test_legends_are_captions() -> None:
    """A slideshow's legends (each slide's title and caption) are its pictures' captions,
    however long they run; a word merely starting with "legend" names nothing."""
    slides = "".join(
        f"<li><h2><span class='counter'>{i}/3</span> Market day {i}</h2><p>{i}: {SLIDE}</p></li>"
        for i in range(1, 4)
    )
    gallery = f"<div class='gallery'><ul class='legends'>{slides}</ul></div>"
    result = extract_fast(page(article(gallery)), None)
    assert PARAGRAPHS[2] in result.text
    assert "Market day" not in result.text
    assert SLIDE not in result.text
    legendary = f"<div class='legendary-story'><p>{PARAGRAPHS[0]}</p></div>"
    assert PARAGRAPHS[0] in extract_fast(page(article(legendary)), None).text


def test_caption_text_class_alone_is_not_a_caption() -> None:
    """Design systems use "caption" for small type: a card's text is not a photo caption."""
    body = "".join(f'<p class="caption-m">{p}</p>' for p in PARAGRAPHS)
    result = extract_fast(page(f"<main>{body}</main>"), None)
    for paragraph in PARAGRAPHS:
        assert paragraph in result.text


def test_heading_left_without_its_section_is_dropped() -> None:
    onward = (
        "<h2>Ready for more?</h2><ul>"
        '<li><a href="/a">Lighthouse keeper retires after forty years of service</a></li>'
        '<li><a href="/b">New bakery opens on Quay Street with a queue at the door</a></li></ul>'
    )
    result = extract_fast(
        page(article("<h2>What happens next</h2>", f"<p>{PARAGRAPHS[0]}</p>", onward)), None
    )
    assert "What happens next" in result.text
    assert "Ready for more" not in result.text
    assert "Lighthouse keeper" not in result.text


def test_page_nested_beyond_the_limit_is_refused_before_parsing() -> None:
    from worker.extract.fast.page import MAX_NESTING, check_nesting, extract_page
    from worker.model import BadRecord, Page

    deep = "<html><body>" + "<section>" * (MAX_NESTING + 1) + "deep"
    with pytest.raises(BadRecord) as raised:
        extract_page(
            Page(url="https://example.org/deep", body=deep, body_kind="html", input_format="raw")
        )
    assert raised.value.reason == "too_deep"
    # as deep as real pages get, and many siblings, are fine
    check_nesting("<div>" * 800 + "x" + "</div>" * 800)
    check_nesting("<div><p>row</p></div>" * (MAX_NESTING * 2))


@pytest.mark.parametrize("tag", ["center", "address", "pre", "optgroup", "summary", "dialog"])
def test_every_element_the_parser_nests_at_quadratic_cost_counts(tag: str) -> None:
    from worker.extract.fast.page import MAX_NESTING, check_nesting
    from worker.model import BadRecord

    with pytest.raises(BadRecord, match="too_deep"):
        check_nesting(f"<{tag}>" * (MAX_NESTING + 1))
    check_nesting("<span>" * (MAX_NESTING * 3))  # linear for the parser: not counted


def test_an_element_with_thousands_of_distinct_attributes_is_refused_before_parsing() -> None:
    from worker.extract.fast.page import MAX_ATTRIBUTES, check_attributes
    from worker.model import BadRecord

    many = " ".join(f"data-a{i}=1" for i in range(MAX_ATTRIBUTES + 1))
    with pytest.raises(BadRecord, match="too_many_attributes"):
        check_attributes(f"<html><body><div {many}>x</div></body></html>")
    # the same attribute repeated, long quoted values, and "a<b" in a script are fine
    check_attributes("<div " + "data-x=1 " * (MAX_ATTRIBUTES * 2) + ">x</div>")
    check_attributes('<img src="data:' + "A " * 50_000 + '">')
    check_attributes("<script>if (a<b " + many + ") {}</script>")
