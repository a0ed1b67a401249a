"""Plain-text page cleaning: invented pages in a text-mode crawler's style."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.extract.text import (
    PARAGRAPH_SEPARATOR,
    classify_line,
    clean_lines,
    densest_block,
    extract_text_page,
)
from worker.model import Page

HEADLINE = "Harbour towns bet on tidal power as fuel bills climb"
STANDFIRST = "Three councils on the west coast have pooled their budgets for a pilot scheme."
BYLINE = "By Morwenna Price and Tomasz Kowal"
DATE = "14 March 2023"
BODY = [
    "The turbines were lowered into the channel on a grey Tuesday morning, watched by a small "
    "crowd of fishermen who had spent years arguing against them. By the afternoon, the first "
    "readings were arriving at the control hut on the quay.",
    "Council leaders say the scheme could cover a fifth of the towns' electricity demand within "
    "five years if the pilot performs as expected. The engineers are more cautious, pointing out "
    "that winter storms have wrecked similar trials further north.",
    "Residents have mixed feelings. Some welcome any project that promises lower bills, while "
    "others worry about the noise and the effect on the seal colony that breeds near the headland.",
    "The national grid operator has agreed to buy surplus power at a fixed price for the first "
    "three years, which removes the biggest financial risk from the councils' budgets.",
    "A final decision on a full-scale array is expected next spring, once a full year of data "
    "has been collected and reviewed by independent assessors.",
]
CATEGORIES = [
    "Accounting and Audit",
    "Building Trades",
    "Catering and Hospitality",
    "Data and Analytics",
    "Events Management",
    "Fleet and Logistics",
    "Graphic Design",
    "Horticulture",
]


def news_page() -> str:
    """Support banner, breadcrumb, header, body with promos, sign-up, job list, trailer."""
    jobs = "\n".join(f"  • {c}" for c in CATEGORIES)
    return f"""Keep our reporting free: support 40 years of independent journalism.

  1. Energy and Environment
{DATE}

{HEADLINE}

{STANDFIRST}

{BYLINE}

{BODY[0]}

{BODY[1]}

[See also: Why the tidal lagoon plan sank in 2018]

{BODY[2]}

{BODY[3]}

[See also: The coastal towns running out of water]

{BODY[4]}

Enter your email address to get our weekly newsletter, the best way to sign up for the news \
that matters to coastal communities. Sign up for Coast Weekly is via the form below.
{jobs}
Read our privacy policy to see how we process your personal data and how you can unsubscribe \
from our marketing communications at any time.

Content from our partners
How to plan for retirement in an uncertain market
Five ways to cut your home energy use this winter
"""


def test_news_page_keeps_header_and_body_only() -> None:
    cleaned = clean_lines(news_page().splitlines())
    assert cleaned.paragraphs == [DATE, HEADLINE, STANDFIRST, BYLINE, *BODY]


def test_news_page_fields() -> None:
    page = Page(
        url="https://news.example/a", body=news_page(), body_kind="text", input_format="raw"
    )
    out = extract_text_page(page)
    assert out.text == PARAGRAPH_SEPARATOR.join([DATE, HEADLINE, STANDFIRST, BYLINE, *BODY])
    assert out.title == HEADLINE
    assert out.authors == ["Morwenna Price", "Tomasz Kowal"]
    assert out.published_at == "2023-03-14"
    assert out.language == "en"
    assert out.extractor == "text-lines"
    assert out.page_type == "article"
    total = sum(len(ln.strip()) for ln in news_page().splitlines() if ln.strip())
    kept = sum(len(p) for p in [DATE, HEADLINE, STANDFIRST, BYLINE, *BODY])
    assert out.boilerplate_ratio == pytest.approx((total - kept) / total, abs=1e-4)


def blog_page() -> str:
    """Menu on top, a short content list inside the body, related posts and comments after."""
    menu = "\n".join(
        f"• {item}" for item in ("Home", "Recipes", "Travel", "Shop", "About", "Contact")
    )
    return f"""Skip to content
{menu}
Log in

The slow way to bake sourdough at home

Posted on June 2, 2024
Written by Ines Duarte

Most sourdough guides promise a loaf in a day, but the best bread I have made came from a \
starter that was fed twice a day for two weeks before I trusted it with a real bake.

You need very little equipment to start, and none of it is expensive:

• A glass jar with a loose lid
• A kitchen scale that reads single grams
• A heavy pot with a lid for baking

Feed the starter at the same time each day and keep it somewhere warm. When it doubles within \
six hours of a feed, it is ready, and the dough will rise without any commercial yeast at all.

The Timing

Mix the dough in the evening, let it rest overnight in the fridge, and bake it first thing in \
the morning. The cold rest makes the crumb more open and the crust darker and more blistered.

Related posts
Ten breads to bake with children
The best flour for beginners

3 Comments

Lovely guide, my first loaf came out flat but the second was much better than anything I buy \
in the shop, thank you for the detailed timings and the tips on flour.
"""


def test_blog_page_drops_menu_related_posts_and_comments() -> None:
    cleaned = clean_lines(blog_page().splitlines())
    text = "\n".join(cleaned.paragraphs)
    assert cleaned.title == "The slow way to bake sourdough at home"
    assert cleaned.authors == ["Ines Duarte"]
    assert cleaned.published_at == "2024-06-02"
    assert "• A kitchen scale that reads single grams" in cleaned.paragraphs  # content list kept
    assert "The Timing" in cleaned.paragraphs  # a heading inside the body stays
    assert cleaned.paragraphs[-1].startswith("Mix the dough in the evening")
    for chrome in ("Skip to content", "• Recipes", "Log in", "Related posts", "3 Comments"):
        assert chrome not in text
    assert "Lovely guide" not in text


def test_header_skips_reading_time_and_photo_credit() -> None:
    byline = "By Morwenna Price"
    lines = ["Menu", "• News", "• Sport", HEADLINE, STANDFIRST, byline, DATE, "4 min read"]
    lines += ["Photo: Lena Berg/Getty Images", *BODY[:3]]
    cleaned = clean_lines(lines)
    assert cleaned.title == HEADLINE
    assert cleaned.paragraphs == [HEADLINE, STANDFIRST, byline, DATE, *BODY[:3]]


def test_hard_wrapped_paragraphs_are_joined_again() -> None:
    wrapped: list[str] = []
    for para in BODY[:3]:
        words = para.split()
        wrapped += [" ".join(words[i : i + 11]) for i in range(0, len(words), 11)]
        wrapped.append("")
    lines = ["• Home", "• Weather", "", *wrapped, "Related posts", "• Wind farm vote delayed"]
    assert clean_lines(lines).paragraphs == BODY[:3]


JAPANESE = [
    "港町の議会は、燃料費の高騰を受けて潮力発電の試験事業を始めると発表した。"
    "地元の漁師たちは長年反対してきたが、最初の測定値は予想を上回った。",
    "技術者たちは慎重な姿勢を崩していない。冬の嵐が北の海で同じような試験設備を壊した例があるからだ。",
    "最終的な判断は来年の春に下される予定で、それまでに一年分のデータが集められる。",
]


def test_text_without_spaces_between_words() -> None:
    lines = ["ホーム", "ニュース", "ログイン", *JAPANESE, "関連記事", "天気予報"]
    page = Page(url="u", body="\n".join(lines), body_kind="text", input_format="raw")
    out = extract_text_page(page)
    assert out.text.split(PARAGRAPH_SEPARATOR) == JAPANESE
    assert out.language == "ja"


def test_long_comment_thread_does_not_outweigh_the_article() -> None:
    comment = (
        "I have lived in one of these towns for thirty years and I can tell you that nobody "
        "here believes the bills will come down, whatever the council promises this time."
    )
    thread: list[str] = []
    for n in range(12):
        thread += [f"reader{n}", comment, "Reply"]
    closing = (
        "Whatever the assessors conclude, the councils say the pilot has already changed how "
        "the towns think about the sea on their doorstep, and about who should profit from it."
    )
    lines = [HEADLINE, *BODY, closing, "12 Comments", *thread]
    assert clean_lines(lines).paragraphs == [HEADLINE, *BODY, closing]


def test_long_link_list_inside_body_is_dropped() -> None:
    links = [f"• {c}" for c in CATEGORIES]
    lines = [BODY[0], BODY[1], *links, BODY[2], BODY[3]]
    assert clean_lines(lines).paragraphs == [BODY[0], BODY[1], BODY[2], BODY[3]]


def test_inline_promos_do_not_split_the_body() -> None:
    lines = [
        BODY[0],
        "Read more: Councils weigh up wind farms",
        BODY[1],
        "[Watch: the launch]",
        BODY[2],
    ]
    assert clean_lines(lines).paragraphs == [BODY[0], BODY[1], BODY[2]]


def test_single_chrome_line_does_not_split_a_short_article() -> None:
    lines = ["• Home", "• News", BODY[3], "Advertisement", BODY[4]]
    assert clean_lines(lines).paragraphs == [BODY[3], BODY[4]]


def test_paragraph_mentioning_a_newsletter_is_kept() -> None:
    para = (
        "The council first announced the scheme in its monthly newsletter, which is delivered to "
        "every household in the three towns, and the response surprised even its supporters."
    )
    assert not classify_line(para).chrome
    assert clean_lines([BODY[0], para, BODY[1]]).paragraphs == [BODY[0], para, BODY[1]]


def test_page_without_prose_yields_nothing() -> None:
    page = Page(url="u", body="Home\nNews\nSport\n\nLog in", body_kind="text", input_format="raw")
    out = extract_text_page(page)
    assert out.text == ""
    assert out.language is None
    assert out.boilerplate_ratio == 1.0


def test_empty_page() -> None:
    out = extract_text_page(Page(url="u", body="", body_kind="text", input_format="raw"))
    assert out.text == ""
    assert out.boilerplate_ratio is None


def test_densest_block_finds_the_heaviest_run() -> None:
    assert densest_block([-3, 5, -1, 7, -20, 4]) == (1, 3)
    assert densest_block([-1, -2]) is None


EXAMPLE = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "examples" / "000_0def909262b42e62.txt"
)


@pytest.mark.skipif(not EXAMPLE.exists(), reason="shared example page not available")
def test_shared_example_page() -> None:
    """The clean article is date, headline, standfirst, byline and every body paragraph."""
    lines = [ln.strip() for ln in EXAMPLE.read_text(encoding="utf-8").splitlines() if ln.strip()]
    start = lines.index("3 February 2022")
    first_bullet = next(i for i in range(start, len(lines)) if lines[i].startswith("•"))
    body = [ln for ln in lines[start + 4 : first_bullet - 1] if not ln.startswith("[See also")]
    page = Page(
        url="u", body=EXAMPLE.read_text(encoding="utf-8"), body_kind="text", input_format="raw"
    )
    out = extract_text_page(page)
    assert out.text.split(PARAGRAPH_SEPARATOR) == lines[start : start + 4] + body
    assert lines[start + 3] == "By Katie Stallard"
    assert out.title == lines[start + 1]
    assert out.authors == ["Katie Stallard"]
    assert out.published_at == "2022-02-03"
    assert out.language == "en"
