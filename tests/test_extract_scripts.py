"""Extraction and page types on pages in scripts written without spaces (issue: a Japanese
news page was labelled ``service``; rules written for English weighed such text as empty)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.extract import make_extractor
from worker.extract.fast.dom import Block
from worker.extract.fast.priors import block_prior
from worker.extract.pagetype import SLUG_WORDS, dated_url, slug_words, url_hint
from worker.model import Page
from worker.textunits import count_words, has_unspaced, weighed_length

PARAGRAPHS = [
    "新华社北京3月5日电 国家统计局今天发布数据显示，"
    "今年前两个月全国规模以上工业企业实现利润总额同比增长百分之十点二，增速比去年全年加快明显。",
    "统计局工业司首席统计师在解读数据时表示，工业生产恢复向好，市场需求逐步改善，带动企业利润较快增长。",
    "从行业看，电子设备制造业、电气机械和器材制造业利润增长较快，对全部规模以上工业利润增长的贡献最为突出。",
    "专家指出，原材料价格回落和产品销量回升是推动利润改善的主要原因，企业成本压力有所缓解。",
    "与此同时，部分中小企业仍然面临订单不足、资金周转困难等问题，经营压力不容忽视。",
    "分地区看，东部地区利润增速明显高于中西部地区，东北地区利润降幅进一步收窄。",
    "业内人士认为，随着一系列稳增长政策持续发力，工业经济有望在今年保持平稳运行。",
]
SIDEBAR = [
    "两会代表热议高质量发展",
    "多地出台措施促进消费回暖",
    "春季农业生产全面展开",
    "新能源汽车出口持续增长",
    "全国铁路客运量创同期新高",
    "科技创新成果加快转化应用",
]


def chinese_news_page() -> str:
    """A portal story as such sites lay it out: a channel menu, the headline, a source and
    time line, the story, the editor's name, a "hot news" list and the footer; no
    structured data and no date in the metadata."""
    menu = "".join(
        f"<li><a href='/{c}/'>{n}</a></li>"
        for c, n in [("", "首页"), ("politics", "时政"), ("world", "国际"), ("fortune", "财经")]
    )
    hot = "".join(f"<li><a href='/hot/{i}.htm'>{t}</a></li>" for i, t in enumerate(SIDEBAR))
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (
        "<html><head><meta charset='utf-8'><title>前两月工业企业利润同比增长-新华网</title></head>"
        f"<body><div class='header'><ul class='nav'>{menu}</ul></div>"
        "<div class='main'><div class='left'>"
        "<h1>前两月全国规模以上工业企业利润同比增长百分之十点二</h1>"
        "<div class='info'>2024-03-05 10:21:36　来源：新华网</div>"
        f"<div id='detail'>{body}<p class='editor'>【责任编辑：王明】</p></div></div>"
        f"<div class='right'><h3>热点新闻</h3><ul>{hot}</ul></div></div>"
        "<div class='footer'>版权所有 新华网 京ICP证000000号</div></body></html>"
    )


@pytest.mark.parametrize("engine", ["fast", "trafilatura"])
def test_a_chinese_news_page_keeps_its_body_and_is_an_article(engine: str) -> None:
    url = "http://www.news.example.cn/fortune/2024-03/05/c_1130012345.htm"
    record = make_extractor(engine)(
        Page(url=url, body=chinese_news_page(), body_kind="html", input_format="json")
    )
    for paragraph in PARAGRAPHS:
        assert paragraph in record.text
    assert not any(title in record.text for title in SIDEBAR)
    assert record.page_type == "article"


def test_a_japanese_line_of_200_characters_counts_as_many_units() -> None:
    line = (
        "政府は二日、来年度の予算案の概要を発表し、一般会計の総額が過去最大となる見通しを示した。"
        "財務省によると、社会保障費の増加に加え、防衛費の大幅な拡充が予算を押し上げる主な要因となった。"
        "一方で、ガソリン価格は一リットルあたり四十円の補助が続けられる方針で、家計の負担軽減を図る。"
        "野党からは、財政規律が緩んでいるとの批判が相次いだ。"
        "経済学者の多くは、歳出の見直しと成長戦略の両立が欠かせないと指摘している。"
    )
    assert len(line) == 200 and len(line.split()) == 1
    assert count_words(line) >= 80
    # the fast engine's length rules read it as about as long as its English translation
    assert weighed_length(line) >= 4 * len(line) / 2


def test_a_short_chinese_paragraph_gets_the_prior_of_its_english_translation() -> None:
    """60 Chinese characters say what some 225 English ones do: the length tiers of the
    fast engine's priors (written in English characters) must read them so."""
    chinese = PARAGRAPHS[4]
    english = "At the same time, some small firms still face thin order books and tight cash."
    assert len(english) > len(chinese)

    def prior(text: str) -> float:
        return block_prior(Block(text=text, kind="p", owner=0, link_chars=0, lead_link_chars=0))

    assert prior(chinese) >= 0.9
    assert prior(english) < prior(chinese)
    assert weighed_length(english) == len(english)


@pytest.mark.parametrize(
    "url",
    [
        "http://www.news.example.cn/fortune/2023-11/17/c_1129981476.htm",
        "https://china.example.com.cn/a/202311/17/WS65571297a310d5acd876f404.html",
        "http://news.example.com/20050601/n225789219.shtml",
        "http://politics.example.com.cn/n1/2023/1117/c1001-40120000.html",
        "https://prachatai.example/journal/2019/01/80642",
    ],
)
def test_a_story_filed_under_a_date_is_a_dated_article_url(url: str) -> None:
    assert url_hint(url) == "article"
    assert dated_url(url)


@pytest.mark.parametrize(
    "url",
    ["https://blog.example/2019/01/", "https://blog.example/2019/01/05/", "https://x.example/a"],
)
def test_date_archives_and_undated_urls_are_not_dated(url: str) -> None:
    assert not dated_url(url)


def test_a_slug_in_a_script_without_spaces_counts_its_words() -> None:
    url = "https://blog.example/entry/" + quote("東京で大雪、交通に乱れ")
    assert slug_words(url) >= SLUG_WORDS
    assert slug_words("https://news.example/a/80642") == 0
    assert slug_words("https://news.example/why-tides-matter-more") == 4


@given(st.text(max_size=200))
def test_text_without_unspaced_letters_weighs_its_length(text: str) -> None:
    if not has_unspaced(text):
        assert weighed_length(text) == len(text)
    else:
        assert weighed_length(text) > 0
