"""Extraction on pages in other scripts: word F1 and page types, ours against trafilatura.

    python -m bench.multilingual_extract --newspaper4k DIR [--goose3 DIR] [--data ../shared/data]
        [--latin] [--engine fast] [--no-before] [--no-anchor]
    python -m bench.multilingual_extract --data ../shared/data --datasets

Pages (none of them in this repository; where they come from: ``bench/multilingual/README.md``):

* ``--newspaper4k DIR``: the test pages of newspaper4k (MIT), ``DIR`` being its
  ``tests/data``: ``html/<name>.html`` with the expected body text in ``txt/<name>.txt``
  and the page's URL in ``metadata/<name>.json``. The pages of ``PAGES`` are used
  (Chinese, Japanese, Thai, Arabic, Burmese, Latvian, Spanish, and English controls);
  a few expected texts are cut short by newspaper's own extraction, which ``PAGES`` notes.
* ``--goose3 DIR``: goose3's test pages (Apache-2.0), ``DIR`` being its
  ``tests/data/content``: the Korean one (``GOOSE3_PAGES``), whose expected text is whole.
* ``--data DIR``: the shared extraction datasets' pages whose reference text is mostly in
  a script other than Latin (Chinese, Japanese, Korean, Russian pages of AEB and
  Readability), found by script, so nothing is picked by hand.

Per language: the shared scorers' word F1 (lower-cased ``\\w+`` tokens as multisets, averaged
over pages), and the same F1 on text units (``\\w+`` tokens of spaced scripts, single letters
of scripts written without spaces, where a ``\\w+`` token is a whole clause and the first
metric all but binary); the page type each engine's record carries (a news page labelled
``service`` or anything but ``article`` is listed). "before" is the same engine in the same
process as it was before this measurement (``as_before``: block lengths in characters, the
page-type gate's old URL date rule and slug count), "ours" as it is. ``--datasets`` runs the same
before/after on every page of the four shared datasets (English and European pages: nothing
there should move).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from unittest import mock

from bench.extract_bench import trafilatura_anchor
from tests.kit.datasets import load_all, page_html
from tests.kit.scores import wcxb_page
from worker import textunits
from worker.extract import ENGINES, make_extractor, pagetype
from worker.model import BadRecord, Page
from worker.textunits import UNSPACED_CLASS

WORD_RE = re.compile(r"\w+")
UNIT_RE = re.compile(f"[{UNSPACED_CLASS}]|(?:(?![{UNSPACED_CLASS}])\\w)+")

# newspaper4k test pages used: name -> language (expected texts checked against the page by
# eye: japanese_article's page shows only the first paragraph, the rest is for subscribers)
PAGES = {
    "chinese_article": "zh",
    "chinese_article_001": "zh",
    "chinese_article_002": "zh",
    "japanese_article": "ja",
    "japanese_article2": "ja",
    "thai_article": "th",
    "arabic_article": "ar",
    "burmese_article": "my",
    "latvian_article": "lv",
    "spanish_article": "es",
    "cnn_001": "en",
    "cnn_002": "en",
    "time_001": "en",
    "wired_001": "en",
    "fox13now_001": "en",
}


# goose3 test pages with a whole expected text (its Chinese and Arabic ones are newspaper4k's
# pages with only a first paragraph expected): name -> language
GOOSE3_PAGES = {"donga_korean": "ko"}

# URLs of pages without a metadata file: from newspaper4k's tests, or (chinese_article,
# whose test URL is another story's) the page's own share links
URLS = {
    "chinese_article": "http://www.bbc.co.uk/zhongwen/simp/chinese_news/2012/12/"
    "121210_hongkong_politics.shtml",
    "latvian_article": "https://www.lsm.lv/raksts/zinas/arzemes/"
    "norvegija-pec-zemes-nogruvuma-pieci-bojagajusie.a387519/",
    "burmese_article": "https://www.bbc.com/burmese/burma-45989453",
}


# Code point ranges -> the language family a reference text in that script is counted as.
SCRIPT_RANGES = (
    (0x3040, 0x30FF, "ja"),
    (0x4E00, 0x9FFF, "zh"),
    (0xAC00, 0xD7AF, "ko"),
    (0x0E00, 0x0E7F, "th"),
    (0x0600, 0x06FF, "ar"),
    (0x0400, 0x04FF, "ru"),
    (0x0000, 0x024F, "latin"),
)


@dataclass(slots=True)
class LabelledPage:
    uid: str
    lang: str
    url: str
    html: str
    truth: str


def script_of(text: str) -> str:
    """The language family a reference text is written in, by its letters' scripts."""
    counts: Counter[str] = Counter()
    for ch in text:
        if ch.isalpha():
            cp = ord(ch)
            counts[next((lang for lo, hi, lang in SCRIPT_RANGES if lo <= cp <= hi), "other")] += 1
    if not counts:
        return "latin"
    top = counts.most_common(1)[0][0]
    return "ja" if top == "zh" and counts["ja"] > 0.1 * sum(counts.values()) else top


def load_labelled(
    newspaper4k: Path | None, goose3: Path | None, data: Path | None, latin: bool = False
) -> list[LabelledPage]:
    """The labelled set: whichever of its three sources were given."""
    pages: list[LabelledPage] = []
    if newspaper4k:
        pages += load_newspaper4k(newspaper4k)
    if goose3:
        pages += load_goose3(goose3)
    if data:
        pages += load_shared(data, latin)
    return pages


def load_newspaper4k(root: Path) -> list[LabelledPage]:
    pages = []
    for name, lang in PAGES.items():
        meta_path = root / "metadata" / f"{name}.json"
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        pages.append(
            LabelledPage(
                f"newspaper4k/{name}",
                lang,
                URLS.get(name) or meta.get("url") or "",
                (root / "html" / f"{name}.html").read_text(encoding="utf-8", errors="replace"),
                (root / "txt" / f"{name}.txt").read_text(encoding="utf-8"),
            )
        )
    return pages


def load_goose3(root: Path) -> list[LabelledPage]:
    """goose3's test pages (``tests/data/content``): ``test_<name>.html`` and
    ``test_<name>.json`` holding the URL and ``expected.cleaned_text``."""
    pages = []
    for name, lang in GOOSE3_PAGES.items():
        spec = json.loads((root / f"test_{name}.json").read_text(encoding="utf-8"))
        html = (root / f"test_{name}.html").read_text(encoding="utf-8", errors="replace")
        truth = spec["expected"]["cleaned_text"]
        pages.append(LabelledPage(f"goose3/{name}", lang, spec["url"], html, truth))
    return pages


def load_shared(root: Path, latin: bool = False) -> list[LabelledPage]:
    """Pages of the shared datasets whose reference is mostly in a non-Latin script; with
    ``latin`` also AEB's other pages (English and a few European languages), as ``latin``,
    the control: what the same rules do on the pages they were written for."""
    pages = []
    truth = json.loads((root / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    for uid, item in truth.items():
        lang = script_of(item["articleBody"])
        if lang != "latin" or latin:
            html = gzip.decompress((root / "aeb" / "html" / f"{uid}.html.gz").read_bytes())
            pages.append(
                LabelledPage(
                    f"aeb/{uid[:12]}",
                    lang,
                    item.get("url") or "",
                    html.decode("utf-8", errors="replace"),
                    item["articleBody"],
                )
            )
    for name in ("dragnet", "readability"):
        with gzip.open(root / name / "truth.jsonl.gz", "rt", encoding="utf-8") as f:
            refs = {r["id"]: r["text"] for r in map(json.loads, f)}
        chosen = {uid: script_of(text) for uid, text in refs.items()}
        chosen = {uid: lang for uid, lang in chosen.items() if lang != "latin"}
        if not chosen:
            continue
        with gzip.open(root / name / "pages.jsonl.gz", "rt", encoding="utf-8") as f:
            for r in map(json.loads, f):
                if r["id"] in chosen:
                    pages.append(
                        LabelledPage(r["id"], chosen[r["id"]], r["url"], r["html"], refs[r["id"]])
                    )
    return pages


def f1(prediction: str, reference: str, pattern: re.Pattern[str]) -> float:
    """The shared scorers' bag-of-tokens F1 with the given tokeniser."""
    pred = Counter(pattern.findall(prediction.lower()))
    ref = Counter(pattern.findall(reference.lower()))
    if not ref:
        return 0.0 if pred else 1.0
    overlap = sum((pred & ref).values())
    if not overlap:
        return 0.0
    p, r = overlap / sum(pred.values()), overlap / sum(ref.values())
    return 2 * p * r / (p + r)


Run = Callable[[str, str], tuple[str, str]]


def ours(engine: str) -> Run:
    extract = make_extractor(engine)

    def run(html: str, url: str) -> tuple[str, str]:
        try:
            record = extract(Page(url=url, body=html, body_kind="html", input_format="json"))
        except BadRecord:
            return "", "refused"
        return record.text, record.page_type or ""

    return run


def trafilatura() -> Run:
    anchor = trafilatura_anchor()
    return lambda html, url: (anchor(html, url), "")


OLD_DATE_PATH = re.compile(r"/(?:19|20)\d{2}/\d{1,2}/")


def _old_slug_words(url: str) -> int:
    return len([w for w in re.split(r"[-_+\s]+", pagetype.last_segment(url)) if w.isalpha()])


@contextmanager
def as_before() -> Iterator[None]:
    """The engine as it was before pages in other scripts were measured: the fast engine
    weighs blocks by characters, the page-type gate knows only /yyyy/mm/ dates in URLs, takes
    no date from them, and counts only Latin-letter slug words."""
    rules = (("article", OLD_DATE_PATH), *pagetype.URL_RULES[1:])
    with (
        mock.patch.object(textunits, "weighed_length", len),
        mock.patch.object(pagetype, "dated_url", lambda url: False),
        mock.patch.object(pagetype, "URL_RULES", rules),
        mock.patch.object(pagetype, "slug_words", _old_slug_words),
    ):
        yield


def measure(pages: Sequence[LabelledPage], runs: dict[str, Run]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for page in pages:
        for name, run in runs.items():
            if name == "before":
                with as_before():
                    text, page_type = run(page.html, page.url)
            else:
                text, page_type = run(page.html, page.url)
            out[name].append(
                {
                    "uid": page.uid,
                    "lang": page.lang,
                    "word_f1": f1(text, page.truth, WORD_RE),
                    "unit_f1": f1(text, page.truth, UNIT_RE),
                    "page_type": page_type,
                }
            )
    return out


def render(pages: Sequence[LabelledPage], results: dict[str, list[dict]]) -> str:
    names = list(results)
    langs = sorted({p.lang for p in pages}, key=lambda x: (x in ("en", "latin"), x))
    head = f"{'lang':<6}{'pages':>6}" + "".join(
        f"{n + ' word':>18}{n + ' unit':>18}" for n in names
    )
    lines = [head]
    for lang in [*langs, "all"]:
        rows = {n: [r for r in results[n] if lang in ("all", r["lang"])] for n in names}
        count = len(rows[names[0]])
        cells = "".join(
            f"{mean(r['word_f1'] for r in rows[n]):>18.3f}"
            f"{mean(r['unit_f1'] for r in rows[n]):>18.3f}"
            for n in names
        )
        lines.append(f"{lang:<6}{count:>6}{cells}")
    lines.append("")
    lines.append("page types (news pages: anything but article is listed)")
    for n in names:
        types = Counter(r["page_type"] for r in results[n] if r["page_type"])
        if not types:
            continue
        wrong = [f"{r['uid']}={r['page_type']}" for r in results[n] if r["page_type"] != "article"]
        lines.append(f"  {n}: {dict(types)}  not article: {wrong or 'none'}")
    lines.append("")
    lines.append("per page (word F1 / unit F1)")
    for i, page in enumerate(pages):
        if page.lang == "latin":
            continue
        cells = "  ".join(
            f"{n} {results[n][i]['word_f1']:.2f}/{results[n][i]['unit_f1']:.2f}" for n in names
        )
        lines.append(f"  {page.lang:<3}{page.uid[:40]:<42}{cells}")
    return "\n".join(lines)


def compare_datasets(data: Path, engine: str) -> str:
    """Ours before/after on every page of the four shared datasets, same process: mean word
    F1 (the shared scorers' metric) per dataset and the pages whose text changed at all."""
    run = ours(engine)
    rows: dict[str, list[tuple[float, float, bool]]] = defaultdict(list)
    for page in load_all(data):
        html = page_html(page)
        with as_before():
            before, _ = run(html, page.url)
        after, _ = run(html, page.url)
        rows[page.dataset].append(
            (
                wcxb_page(before, page.truth)["f1"],
                wcxb_page(after, page.truth)["f1"],
                before != after,
            )
        )
    lines = [f"{'dataset':<12}{'pages':>6}{'before':>9}{'after':>9}{'changed':>9}"]
    for name, r in rows.items():
        lines.append(
            f"{name:<12}{len(r):>6}{mean(x[0] for x in r):>9.4f}{mean(x[1] for x in r):>9.4f}"
            f"{sum(x[2] for x in r):>9}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--newspaper4k", type=Path, help="newspaper4k's tests/data folder")
    parser.add_argument("--goose3", type=Path, help="goose3's tests/data/content folder")
    parser.add_argument("--data", type=Path, help="the shared extraction datasets' folder")
    parser.add_argument("--engine", default=ENGINES[0], choices=ENGINES)
    parser.add_argument(
        "--latin", action="store_true", help="with --data: AEB's Latin-script pages too"
    )
    parser.add_argument(
        "--datasets",
        action="store_true",
        help="with --data: ours before/after on all pages of the four shared datasets instead",
    )
    parser.add_argument("--no-before", action="store_true", help="skip the before run")
    parser.add_argument("--no-anchor", action="store_true", help="skip trafilatura")
    args = parser.parse_args(argv)
    if args.datasets:
        if not args.data:
            parser.error("--datasets needs --data")
        print(compare_datasets(args.data, args.engine))
        return 0
    pages = load_labelled(args.newspaper4k, args.goose3, args.data, args.latin)
    if not pages:
        parser.error("give --newspaper4k and/or --data")
    runs: dict[str, Run] = {}
    if not args.no_before:
        runs["before"] = ours(args.engine)
    runs["ours"] = ours(args.engine)
    if not args.no_anchor:
        runs["trafilatura"] = trafilatura()
    print(render(pages, measure(pages, runs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
