"""Main-content extraction benchmark: our extractor on AEB and WCXB, in-process, one core.

    python -m bench.extract_bench --data DIR [--split dev] [--limit N] [--save pages.jsonl]
    python -m bench.extract_bench --jsonl < pages.jsonl > outputs.jsonl

DIR holds ``aeb/`` (ScrapingHub Article Extraction Benchmark: ``ground-truth.json``,
``html/<id>.html.gz``) and ``wcxb/`` (WCXB: ``metadata.json``, ``<split>/html/<id>.html.gz``,
``<split>/ground-truth/<id>.json``). The metrics are the benchmarks' own definitions,
re-implemented here so the numbers can be compared with the published ones:

* AEB: 4-token shingles of ``\\w+`` tokens (case kept) as multisets; per page tp/fp/fn
  normalised by their sum; precision is averaged over pages with a non-empty prediction,
  recall over pages with a non-empty reference; F1 from the two means.
* WCXB: bag-of-words P/R/F1 over lower-cased ``\\w+`` tokens, averaged over pages (an empty
  reference scores 1 only for an empty prediction); ``with[]`` snippets must occur in the
  output and ``without[]`` snippets must not (lower-cased, whitespace collapsed), as
  page-averaged pass rates.

``--jsonl`` speaks the reference harness's protocol (``{"id","url","html"}`` lines in,
``{"id","text","title","t"}`` lines out) so the same extractor can be cross-checked there.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean

import trafilatura

from worker.config import Settings
from worker.extract import ENGINES, make_extractor
from worker.records import Page

DEFAULT_ENGINE = Settings().extractor

WORD_RE = re.compile(r"\w+")
SHINGLE_SIZE = 4

# The anchors measured with the reference harness on one core (WCXB dev split).
ANCHORS: dict[str, dict[str, float]] = {
    "trafilatura 2.3.1 (comments off)": {
        "aeb_f1": 0.960,
        "wcxb_f1": 0.823,
        "article_f1": 0.937,
        "with_pass": 0.754,
        "without_pass": 0.939,
        "pages_s": 33.5,
        "mb_s": 7.58,
    },
    "rs-trafilatura 0.1.1": {
        "aeb_f1": 0.956,
        "wcxb_f1": 0.847,
        "article_f1": 0.934,
        "with_pass": 0.804,
        "without_pass": 0.911,
        "pages_s": 63.7,
        "mb_s": 14.40,
    },
}
ANCHOR_TYPES: dict[str, dict[str, float]] = {
    "trafilatura 2.3.1 (comments off)": {
        "article": 0.937,
        "documentation": 0.917,
        "service": 0.765,
        "forum": 0.694,
        "collection": 0.574,
        "listing": 0.583,
        "product": 0.637,
    },
    "rs-trafilatura 0.1.1": {
        "article": 0.934,
        "documentation": 0.938,
        "service": 0.825,
        "forum": 0.760,
        "collection": 0.672,
        "listing": 0.669,
        "product": 0.636,
    },
}
PAGE_TYPES = ("article", "documentation", "service", "forum", "collection", "listing", "product")


@dataclass(slots=True)
class BenchPage:
    uid: str
    dataset: str  # aeb | wcxb-<split>
    url: str
    html_path: Path
    truth: dict = field(default_factory=dict)
    page_type: str = "article"


# --------------------------------------------------------------------------- metrics


def _tokens(text: str | None) -> list[str]:
    return WORD_RE.findall(text or "")


def _shingles(tokens: Sequence[str]) -> Counter:
    if not tokens:
        return Counter()
    if len(tokens) <= SHINGLE_SIZE:
        return Counter([tuple(tokens)])
    return Counter(
        tuple(tokens[i : i + SHINGLE_SIZE]) for i in range(len(tokens) - SHINGLE_SIZE + 1)
    )


def aeb_page(reference: str | None, prediction: str | None) -> dict:
    """Per-page precision/recall on shingles; None where the side is empty."""
    ref, pred = _shingles(_tokens(reference)), _shingles(_tokens(prediction))
    tp = sum((ref & pred).values())
    fp = sum((pred - ref).values())
    fn = sum((ref - pred).values())
    return {
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / (tp + fn) if tp + fn else None,
    }


def aeb_corpus(pages: Sequence[dict]) -> dict:
    precisions = [p["precision"] for p in pages if p["precision"] is not None]
    recalls = [p["recall"] for p in pages if p["recall"] is not None]
    precision = mean(precisions) if precisions else 0.0
    recall = mean(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"n": len(pages), "f1": f1, "precision": precision, "recall": recall}


def _normalise(text: str | None) -> str:
    return " ".join((text or "").split()).lower()


def wcxb_page(prediction: str | None, truth: dict) -> dict:
    pred = _tokens((prediction or "").lower())
    ref = _tokens((truth.get("main_content") or "").lower())
    if not ref:
        precision = recall = f1 = 0.0 if pred else 1.0
    elif not pred:
        precision = recall = f1 = 0.0
    else:
        overlap = sum((Counter(pred) & Counter(ref)).values())
        precision, recall = overlap / len(pred), overlap / len(ref)
        f1 = 2 * precision * recall / (precision + recall) if overlap else 0.0
    norm = _normalise(prediction)
    with_snippets = [s for s in map(_normalise, truth.get("with") or []) if s]
    without_snippets = [s for s in map(_normalise, truth.get("without") or []) if s]
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "with_total": len(with_snippets),
        "with_found": sum(s in norm for s in with_snippets),
        "without_total": len(without_snippets),
        "without_leaked": sum(s in norm for s in without_snippets),
    }


def wcxb_corpus(pages: Sequence[dict]) -> dict:
    if not pages:
        return {"n": 0}
    with_pages = [p for p in pages if p["with_total"]]
    without_pages = [p for p in pages if p["without_total"]]
    return {
        "n": len(pages),
        "f1": mean(p["f1"] for p in pages),
        "precision": mean(p["precision"] for p in pages),
        "recall": mean(p["recall"] for p in pages),
        "with_pass": mean(p["with_found"] / p["with_total"] for p in with_pages)
        if with_pages
        else None,
        "without_pass": mean(1 - p["without_leaked"] / p["without_total"] for p in without_pages)
        if without_pages
        else None,
    }


# --------------------------------------------------------------------------- data


def load_aeb(root: Path, limit: int | None = None) -> list[BenchPage]:
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for item_id in sorted(truth):
        path = root / "html" / f"{item_id}.html.gz"
        if path.exists():
            entry = truth[item_id]
            pages.append(
                BenchPage(
                    uid=f"aeb/{item_id}",
                    dataset="aeb",
                    url=entry.get("url") or "",
                    html_path=path,
                    truth={"articleBody": entry.get("articleBody") or ""},
                )
            )
    return pages[:limit] if limit else pages


def _wcxb_page_type(doc: dict, fallback: str | None) -> str:
    """The ground-truth file's type wins over metadata.json; 'category' is a collection."""
    info = (doc.get("_internal") or {}).get("page_type")
    page_type = info.get("primary") if isinstance(info, dict) else info
    page_type = page_type or fallback or "article"
    return "collection" if page_type == "category" else page_type


def load_wcxb(root: Path, split: str, limit: int | None = None) -> list[BenchPage]:
    meta_path = root / "metadata.json"
    meta = (
        json.loads(meta_path.read_text(encoding="utf-8")).get("files", {})
        if meta_path.exists()
        else {}
    )
    pages = []
    for gt_path in sorted((root / split / "ground-truth").glob("*.json")):
        doc = json.loads(gt_path.read_text(encoding="utf-8"))
        gt = doc.get("ground_truth")
        path = root / split / "html" / f"{gt_path.stem}.html.gz"
        if not isinstance(gt, dict) or not path.exists():
            continue
        pages.append(
            BenchPage(
                uid=f"wcxb-{split}/{gt_path.stem}",
                dataset=f"wcxb-{split}",
                url=doc.get("url") or gt.get("url") or "",
                html_path=path,
                truth={
                    "main_content": gt.get("main_content") or "",
                    "with": list(gt.get("with") or []),
                    "without": list(gt.get("without") or []),
                },
                page_type=_wcxb_page_type(doc, meta.get(gt_path.stem, {}).get("page_type")),
            )
        )
        if limit and len(pages) >= limit:
            break
    return pages


def read_html(path: Path) -> str:
    return gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")


# --------------------------------------------------------------------------- running


@dataclass(slots=True)
class Timing:
    pages: int = 0
    mbytes: float = 0.0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    latencies: list[float] = field(default_factory=list)
    baseline_cpu_s: float = 0.0  # plain trafilatura on the same pages, interleaved (--baseline)


def _as_page(url: str, html: str) -> Page:
    return Page(url=url, body=html, body_kind="html", input_format="json")


def _time_baseline(html: str, url: str) -> float:
    """CPU seconds of the anchor (trafilatura, comments off) on one page."""
    cpu0 = time.process_time()
    trafilatura.extract(html, url=url or None, include_comments=False)
    return time.process_time() - cpu0


def run_pages(
    pages: Iterable[BenchPage], timing: Timing, baseline: bool = False, engine: str = DEFAULT_ENGINE
) -> Iterator[tuple[BenchPage, str]]:
    """Extract each page, timing only the extraction call (reading/decompressing is outside).

    With ``baseline`` the anchor runs on the same page right before ours, so their CPU-time
    ratio holds even when other processes compete for the cores."""
    extract = make_extractor(engine)
    for page in pages:
        html = read_html(page.html_path)
        if baseline:
            timing.baseline_cpu_s += _time_baseline(html, page.url)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        text = extract(_as_page(page.url, html)).text
        wall = time.perf_counter() - wall0
        timing.cpu_s += time.process_time() - cpu0
        timing.wall_s += wall
        timing.latencies.append(wall)
        timing.pages += 1
        timing.mbytes += len(html.encode("utf-8", "surrogatepass")) / 1e6
        yield page, text


def score(results: Iterable[tuple[BenchPage, str]], save: Path | None = None) -> dict:
    aeb: list[dict] = []
    wcxb: dict[str, list[tuple[str, dict]]] = {}
    out = save.open("w", encoding="utf-8") if save else None
    try:
        for page, text in results:
            if page.dataset == "aeb":
                row = aeb_page(page.truth["articleBody"], text)
                aeb.append(row)
            else:
                row = wcxb_page(text, page.truth)
                wcxb.setdefault(page.dataset, []).append((page.page_type, row))
            if out:
                record = {"id": page.uid, "type": page.page_type, "text": text, **row}
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        if out:
            out.close()
    report: dict = {}
    if aeb:
        report["aeb"] = aeb_corpus(aeb)
    for dataset, rows in wcxb.items():
        by_type: dict[str, list[dict]] = {}
        for page_type, row in rows:
            by_type.setdefault(page_type, []).append(row)
        report[dataset] = wcxb_corpus([row for _, row in rows])
        report[dataset]["by_type"] = {t: wcxb_corpus(r) for t, r in sorted(by_type.items())}
    return report


# --------------------------------------------------------------------------- report


def _fmt(value: float | None, pct: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:.1%}" if pct else f"{value:.3f}"


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def render(report: dict, timing: Timing, split: str) -> str:
    wcxb = report.get(f"wcxb-{split}", {})
    by_type = wcxb.get("by_type", {})
    pages_s = timing.pages / timing.wall_s if timing.wall_s else 0.0
    ours = {
        "aeb_f1": report.get("aeb", {}).get("f1"),
        "wcxb_f1": wcxb.get("f1"),
        "article_f1": by_type.get("article", {}).get("f1"),
        "with_pass": wcxb.get("with_pass"),
        "without_pass": wcxb.get("without_pass"),
        "pages_s": pages_s,
        "mb_s": timing.mbytes / timing.wall_s if timing.wall_s else 0.0,
    }
    rows = [("**ours**", ours), *ANCHORS.items()]
    lines = [
        f"| extractor | AEB F1 | WCXB {split} F1 | article F1 | with ✓ | without ✓ "
        "| pages/s | MB/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows:
        lines.append(
            f"| {name} | {_fmt(r['aeb_f1'])} | {_fmt(r['wcxb_f1'])} | {_fmt(r['article_f1'])} "
            f"| {_fmt(r['with_pass'], True)} | {_fmt(r['without_pass'], True)} "
            f"| {r['pages_s']:.1f} | {r['mb_s']:.2f} |"
        )
    counts = {t: by_type.get(t, {}).get("n", 0) for t in PAGE_TYPES}
    lines += [
        "",
        f"WCXB {split}: word F1 by page type",
        "",
        "| extractor | " + " | ".join(f"{t} ({counts[t]})" for t in PAGE_TYPES) + " |",
        "|---|" + "---|" * len(PAGE_TYPES),
        "| **ours** | " + " | ".join(_fmt(by_type.get(t, {}).get("f1")) for t in PAGE_TYPES) + " |",
    ]
    for name, types in ANCHOR_TYPES.items():
        lines.append(f"| {name} | " + " | ".join(_fmt(types[t]) for t in PAGE_TYPES) + " |")
    if "aeb" in report:
        a = report["aeb"]
        lines += ["", f"AEB precision {_fmt(a['precision'])}, recall {_fmt(a['recall'])}"]
    if wcxb:
        lines.append(
            f"WCXB {split} precision {_fmt(wcxb['precision'])}, recall {_fmt(wcxb['recall'])}"
        )
    cpu_pages_s = timing.pages / timing.cpu_s if timing.cpu_s else 0.0
    lines.append(
        f"Speed: {timing.pages} pages, {timing.mbytes:.1f} MB, {pages_s:.1f} pages/s wall "
        f"({cpu_pages_s:.1f} pages/s CPU), p50 {_percentile(timing.latencies, 0.5) * 1e3:.1f} ms, "
        f"p95 {_percentile(timing.latencies, 0.95) * 1e3:.1f} ms (anchors: reference harness, "
        "one pinned core; ours: in-process, shared machine)"
    )
    if timing.baseline_cpu_s:
        lines.append(
            f"Same pages, same process: trafilatura {timing.pages / timing.baseline_cpu_s:.1f} "
            f"pages/s CPU, ours {cpu_pages_s:.1f} (ours takes "
            f"{timing.cpu_s / timing.baseline_cpu_s:.2f}x its CPU time)"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- entry points


def serve_jsonl(stdin: Iterable[str], stdout, engine: str = DEFAULT_ENGINE) -> None:
    """The reference harness's protocol; a failing page yields empty text, never a stop."""
    extract = make_extractor(engine)
    for line in stdin:
        if not line.strip():
            continue
        doc = json.loads(line)
        t0 = time.perf_counter()
        try:
            result = extract(_as_page(doc.get("url") or "", doc["html"]))
            text, title = result.text, result.title
        except Exception:  # noqa: BLE001 - one bad page must not end the stream
            text, title = "", None
        elapsed = time.perf_counter() - t0
        record = {"id": doc["id"], "text": text, "title": title, "t": elapsed}
        stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    stdout.flush()


def _pin_to_core(core: int | None) -> None:
    if core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="folder holding aeb/ and wcxb/")
    parser.add_argument("--split", default="dev", help="WCXB split (default: dev)")
    parser.add_argument("--limit", type=int, help="first N pages of each dataset")
    parser.add_argument("--core", type=int, help="pin the process to this CPU core")
    parser.add_argument("--save", type=Path, help="write per-page outputs and scores (JSON lines)")
    parser.add_argument("--json", type=Path, help="write the corpus scores as JSON")
    parser.add_argument("--jsonl", action="store_true", help="serve the JSON-lines protocol")
    parser.add_argument(
        "--baseline", action="store_true", help="also time plain trafilatura on every page"
    )
    parser.add_argument(
        "--extractor", default=DEFAULT_ENGINE, choices=ENGINES, help="engine (worker's default)"
    )
    args = parser.parse_args(argv)

    if args.jsonl:
        serve_jsonl(sys.stdin, sys.stdout, args.extractor)
        return 0
    if args.data is None:
        parser.error("--data is required (or --jsonl)")
    _pin_to_core(args.core)
    pages: list[BenchPage] = []
    if (args.data / "aeb").is_dir():
        pages += load_aeb(args.data / "aeb", args.limit)
    if (args.data / "wcxb" / args.split).is_dir():
        pages += load_wcxb(args.data / "wcxb", args.split, args.limit)
    if not pages:
        parser.error(f"no aeb/ or wcxb/{args.split}/ pages under {args.data}")
    timing = Timing()
    report = score(run_pages(pages, timing, args.baseline, args.extractor), args.save)
    print(render(report, timing, args.split))
    if args.json:
        speed = {
            "pages": timing.pages,
            "mb": timing.mbytes,
            "wall_s": timing.wall_s,
            "cpu_s": timing.cpu_s,
            "baseline_cpu_s": timing.baseline_cpu_s,
        }
        args.json.write_text(json.dumps({**report, "speed": speed}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
