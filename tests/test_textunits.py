"""Words in every script: counts and dedupe tokens of comparable weight to an English word.

The Chinese and Japanese stories are written for these tests; their copies are the ones
the syndication issue reported as published again (two words changed, a truncated copy
with a "read the rest on the original site" line).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import orjson
from hypothesis import given
from hypothesis import strategies as st

from worker.config import Settings
from worker.dedup import make_deduper
from worker.dedup.minhash import default_sketcher
from worker.dedup.normalize import folded_codepoints, prepare, words
from worker.extract import make_extractor
from worker.model import Origin
from worker.output import word_count
from worker.pipeline import Stages, process
from worker.templates.lines import headline_mask, normalise_lines
from worker.textunits import count_words, line_word_counts

ZH = [
    "新华社北京周五电，国家统计局今天发布数据显示，今年前十个月全国规模以上工业企业实现利润总额同比增长百分之三点六。",
    "统计局工业司首席统计师在解读数据时表示，十月份工业企业利润继续保持恢复态势，但增速较上月有所回落。",
    "从行业看，电子设备制造业、电气机械和器材制造业利润增长较快，对全部规模以上工业利润增长的贡献最为突出。",
    "专家指出，原材料价格下降和市场需求回暖是推动利润改善的主要原因，企业成本压力有所缓解。",
    "与此同时，部分中小企业仍然面临订单不足、资金周转困难等问题，经营压力不容忽视。",
    "报告全文共五千三百字，详细分析了四十一个工业大类行业的利润变化情况。",
    "分地区看，东部地区利润增速明显高于中西部地区，东北地区利润降幅进一步收窄。",
    "业内人士认为，随着一系列稳增长政策持续发力，工业经济有望在年底前保持平稳运行。",
    "国家统计局表示，下一步将密切跟踪工业企业效益变化，及时反映经济运行中出现的新情况新问题。",
    "明年一月下旬，统计局将公布全年工业企业利润数据，届时将有更全面的分析。",
]
JA = [
    "政府は二日、来年度の予算案の概要を発表し、一般会計の総額が過去最大となる見通しを示した。",
    "財務省によると、社会保障費の増加に加え、防衛費の大幅な拡充が予算を押し上げる主な要因となった。",
    "一方で、ガソリン価格は一リットルあたり四十円の補助が続けられる方針で、家計の負担軽減を図る。",
    "野党からは、財政規律が緩んでいるとの批判が相次ぎ、国会での審議は難航が予想される。",
    "経済学者の多くは、歳出の見直しと成長戦略の両立が欠かせないと指摘している。",
    "地方自治体からは、交付税の配分をめぐり、より手厚い支援を求める声が上がっている。",
    "政府は年内に予算案を閣議決定し、来年の通常国会に提出する予定だ。",
    "首相は記者団に対し、国民の理解を得られるよう丁寧に説明していく考えを強調した。",
]
# A different story sharing the Chinese one's wire dateline and closing sentence.
ZH_OTHER = [
    "新华社北京周五电，交通运输部今天召开新闻发布会，介绍今年冬季道路交通安全工作的总体部署。",
    "发布会上，有关负责人表示，入冬以来多地出现降雪天气，部分高速公路实施了临时交通管制。",
    "交通运输部要求各地加强路况巡查，及时清除道路积雪，确保主要干线公路安全畅通。",
    "同时，各地客运企业需加强车辆安全检查，严禁超员超载，严格落实驾驶员休息制度。",
    "据介绍，今年春运预计将于一月中旬开始，全国道路旅客运输量有望保持稳定增长。",
    "有关部门将提前发布出行提示，引导旅客错峰出行，合理安排行程，避开恶劣天气时段。",
    "国家统计局表示，下一步将密切跟踪工业企业效益变化，及时反映经济运行中出现的新情况新问题。",
]


def _verdicts(*texts: str) -> list[str]:
    deduper = make_deduper()
    return [deduper.check(f"d{i}", t).status for i, t in enumerate(texts)]


def test_chinese_copies_with_edited_words_or_truncated_are_near_duplicates() -> None:
    story = "".join(ZH)
    edited = story.replace("周五", "星期五").replace("五千三百字", "5300字")
    truncated = "".join(ZH[:5]) + "阅读全文请访问原网站"
    assert _verdicts(story, edited, truncated) == ["new", "near_duplicate", "near_duplicate"]


def test_japanese_copies_with_edited_words_or_truncated_are_near_duplicates() -> None:
    story = "".join(JA)
    edited = story.replace("二日", "2日").replace("四十円", "40円")
    truncated = story[: int(len(story) * 0.6)] + "続きは元のサイトでお読みください"
    assert _verdicts(story, edited, truncated) == ["new", "near_duplicate", "near_duplicate"]


def test_chinese_stories_sharing_a_dateline_and_a_sentence_stay_apart() -> None:
    assert _verdicts("".join(ZH), "".join(ZH_OTHER)) == ["new", "new"]


def test_unspaced_text_counts_about_as_many_words_as_its_translation() -> None:
    story = "".join(ZH)  # 420 characters: some 260 English words' worth
    assert word_count(story) == count_words(story)
    assert 200 <= count_words(story) <= 300
    assert 120 <= count_words("".join(JA)) <= 200
    assert count_words("新华社北京12月2日电") == 7  # 8 Han letters weigh 5, plus "12" and "2"
    assert count_words("iPhone手机 销量") == 3
    assert count_words("ประเทศไทย") == 2  # Thailand: vowel and tone marks weigh nothing


def test_dedupe_tokens_of_unspaced_text_weigh_about_a_word() -> None:
    story = "".join(ZH)
    tokens = words(story)
    assert abs(len(tokens) - count_words(story)) <= 0.2 * count_words(story)
    # the tokens cover the text: punctuation aside, nothing is lost
    assert "".join(tokens) == "".join(ch for ch in story if ch.isalnum())


def test_an_edit_moves_only_the_token_boundaries_next_to_it() -> None:
    story = "".join(ZH)
    edited = story.replace("五千三百字", "5300字")
    before, after = words(story), words(edited)
    changed = len(set(before) ^ set(after))
    assert changed <= 8
    assert before[:50] == after[:50]


def test_combining_marks_belong_to_their_word_and_arabic_vowel_signs_are_dropped() -> None:
    assert words("हिन्दी भाषा") == ["हिन्दी", "भाषा"]
    assert words("مُحَمَّد ذهب") == words("محمد ذهـــب") == ["محمد", "ذهب"]
    thai = "ที่นี่"
    assert "".join(words(thai)) == thai  # the marks stay inside the tokens


def test_line_counts_add_up_to_the_text_count() -> None:
    lines = ["新华社北京12月2日电", "", "Plain English line — with a dash", "ข่าว วันนี้", "日本の"]
    counts = line_word_counts(lines)
    assert counts.tolist() == [count_words(x) for x in lines]
    assert int(counts.sum()) == count_words("\n".join(lines))


# --- nothing changes for text written with spaces ---------------------------------------------

SPACED = st.text(
    alphabet=st.sampled_from(
        list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:'\"!?-_()\n\t")
        + list("éàüßçñøÆœ’“”—–…\u00a0\u200bДомгрекαβγ©®™€❤\ufe0f")
    ),
    max_size=300,
)


def _old_words(text: str) -> list[str]:
    """The tokens before scripts without spaces were cut into word-sized pieces."""
    cps = folded_codepoints(prepare(text))
    return "".join(chr(cp) if cp else " " for cp in cps.tolist()).split()


@given(SPACED)
def test_spaced_text_counts_as_wc_does(text: str) -> None:
    assert count_words(text) == len(text.split())
    assert line_word_counts(text.split("\n")).sum() == len(text.split())


@given(SPACED)
def test_spaced_text_keeps_its_tokens_and_hashes(text: str) -> None:
    assert words(text) == _old_words(text)
    hashes = default_sketcher().token_hashes(text)
    assert hashes.size == len(_old_words(text))
    assert np.array_equal(hashes, default_sketcher().token_hashes(" ".join(_old_words(text))))


MIXED = st.text(alphabet=st.sampled_from(list("ab 1。，\n中文日本のテキストไทยข่าว")), max_size=80)


@given(MIXED)
def test_counts_add_up_over_lines_in_any_script(text: str) -> None:
    lines = text.split("\n")
    assert int(line_word_counts(lines).sum()) == count_words(text)
    assert count_words(text) >= len(text.split())  # a piece is at least one word


# --- through the stages -------------------------------------------------------------------------


def _page(url: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    html = (
        '<html lang="zh"><head><title>工业企业利润</title>'
        '<meta property="og:type" content="article"></head>'
        f"<body><nav><a href='/'>首页</a></nav><article><h1>工业企业利润</h1>{body}</article>"
        "<footer>版权所有</footer></body></html>"
    )
    return orjson.dumps({"url": url, "html": html, "status": 200})


def test_a_chinese_article_passes_the_minimum_words_and_its_truncated_copy_is_a_duplicate() -> None:
    stages = Stages(replace(Settings(), min_words=100), make_extractor(), make_deduper("memory"))
    origin = Origin("pages.raw", 0, 1, 1_700_000_000_000)
    first = process(_page("https://a.example/1", ZH), [], None, origin, stages)
    assert first.kind == "published"
    article = orjson.loads(first.value)
    assert article["word_count"] >= 200
    copy = _page("https://b.example/9", [*ZH[:5], "阅读全文请访问原网站"])
    assert process(copy, [], None, origin, stages).kind == "duplicate"


def test_a_chinese_headline_with_the_site_name_appended_is_the_page_headline() -> None:
    """The site templates never remove a page's own headline: the title "headline - site"
    must match the headline line when both are weighed in words, not counted as clauses."""
    lines = ["工业企业利润同比增长百分之三点六", "首页 新闻 财经", ZH[0]]
    normals = normalise_lines(lines)
    url = "https://news.example/a/123.html"
    assert headline_mask(normals, "工业企业利润同比增长百分之三点六 - 新华网", url) == [
        True,
        False,
        False,
    ]
    assert headline_mask(normals, "新华网", url) == [False, False, False]
