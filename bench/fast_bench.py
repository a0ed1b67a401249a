"""Accuracy and single-core speed of the fast extractor.

    python -m bench.fast_bench --data <datasets>            # AEB + WCXB dev, speed
    python -m bench.fast_bench --data <datasets> --baseline # also trafilatura, same process
    python -m bench.fast_bench --data <datasets> --record   # also the complete Extracted record
    python -m bench.fast_bench --jsonl < pages.jsonl         # extraction-harness protocol

Two modes:

* ``--jsonl``: the extraction-harness protocol. JSON lines ``{"id","url","html"}``
  on stdin, one ``{"id","text","title","t"}`` line per page on stdout.
* ``--data DIR`` (holding ``aeb/`` and ``wcxb/``): extracts every page, times only
  the extraction calls (wall and CPU time) and prints AEB shingle F1 and WCXB
  word F1 (overall, articles, per page type). ``--baseline`` times trafilatura
  on the same pages in the same process, so the speed ratio survives a busy
  machine. ``--record`` also times ``fast.page.extract_page``: the same text plus page
  metadata, page type and language from the same parse, as the worker runs it.

The metrics follow the benchmarks' published definitions: AEB compares
multisets of 4-token shingles per page and takes F1 of the mean precision and
recall; WCXB averages per-page bag-of-words F1 over lower-cased tokens.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import BinaryIO

import orjson

from worker.extract.fast import extract_fast

WORD_RE = re.compile(r"\w+")


@dataclass(slots=True)
class BenchPage:
    uid: str
    dataset: str  # aeb | wcxb
    url: str
    html: str
    reference: str
    page_type: str


# ---------------------------------------------------------------- loading


def _read_html(path: Path) -> str:
    return gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")


def load_aeb(root: Path) -> list[BenchPage]:
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key in sorted(truth):
        path = root / "html" / f"{key}.html.gz"
        if path.exists():
            entry = truth[key]
            pages.append(
                BenchPage(
                    f"aeb/{key}",
                    "aeb",
                    entry.get("url") or "",
                    _read_html(path),
                    entry.get("articleBody") or "",
                    "article",
                )
            )
    return pages


def _page_type(doc: dict) -> str:
    info = (doc.get("_internal") or {}).get("page_type")
    kind = info.get("primary") if isinstance(info, dict) else info
    kind = kind or "article"
    return "collection" if kind == "category" else kind


def load_wcxb(root: Path, split: str) -> list[BenchPage]:
    pages = []
    for gt_path in sorted((root / split / "ground-truth").glob("*.json")):
        doc = json.loads(gt_path.read_text(encoding="utf-8"))
        truth = doc.get("ground_truth")
        path = root / split / "html" / f"{gt_path.stem}.html.gz"
        if not isinstance(truth, dict) or not path.exists():
            continue
        pages.append(
            BenchPage(
                f"wcxb-{split}/{gt_path.stem}",
                "wcxb",
                doc.get("url") or truth.get("url") or "",
                _read_html(path),
                truth.get("main_content") or "",
                _page_type(doc),
            )
        )
    return pages


# ---------------------------------------------------------------- metrics


def aeb_page(reference: str, prediction: str) -> tuple[float | None, float | None]:
    """(precision, recall) over 4-token shingles; None where the side is empty."""
    ref, pred = _shingles(WORD_RE.findall(reference)), _shingles(WORD_RE.findall(prediction))
    tp = sum((ref & pred).values())
    fp = sum((pred - ref).values())
    fn = sum((ref - pred).values())
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    return precision, recall


def _shingles(tokens: list[str]) -> Counter:
    if len(tokens) <= 4:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3))


def word_f1(reference: str, prediction: str) -> float:
    ref = Counter(WORD_RE.findall(reference.lower()))
    pred = Counter(WORD_RE.findall(prediction.lower()))
    if not ref:
        return 0.0 if pred else 1.0
    overlap = sum((ref & pred).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(pred.values()), overlap / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def aeb_corpus(scores: list[tuple[float | None, float | None]]) -> tuple[float, float, float]:
    precisions = [p for p, _ in scores if p is not None]
    recalls = [r for _, r in scores if r is not None]
    precision = mean(precisions) if precisions else 0.0
    recall = mean(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return f1, precision, recall


# ---------------------------------------------------------------- running


def fast_extract(html: str, url: str) -> str:
    return extract_fast(html, url or None).text


def record_extract(html: str, url: str) -> str:
    from worker.extract.fast.page import extract_page
    from worker.records import Page

    return extract_page(Page(url=url, body=html, body_kind="html", input_format="raw")).text


def trafilatura_extract(html: str, url: str) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url or None, include_comments=False) or ""


def run(
    pages: list[BenchPage], extract: Callable[[str, str], str]
) -> tuple[list[str], float, float]:
    """Outputs plus the summed wall and CPU seconds of the extraction calls alone."""
    extract(pages[0].html, pages[0].url)  # warm-up: imports, lazy compiles
    outputs, wall, cpu = [], 0.0, 0.0
    for page in pages:
        w0, c0 = time.perf_counter(), time.process_time()
        text = extract(page.html, page.url)
        wall += time.perf_counter() - w0
        cpu += time.process_time() - c0
        outputs.append(text)
    return outputs, wall, cpu


def report(name: str, pages: list[BenchPage], outputs: list[str], wall: float, cpu: float) -> dict:
    aeb = [
        aeb_page(p.reference, o) for p, o in zip(pages, outputs, strict=True) if p.dataset == "aeb"
    ]
    by_type: dict[str, list[float]] = defaultdict(list)
    for page, out in zip(pages, outputs, strict=True):
        if page.dataset == "wcxb":
            by_type[page.page_type].append(word_f1(page.reference, out))
    wcxb = [f for scores in by_type.values() for f in scores]
    mb = sum(len(p.html.encode("utf-8", "surrogatepass")) for p in pages) / 1e6
    result = {
        "name": name,
        "pages": len(pages),
        "pages_per_s_wall": len(pages) / wall if wall else 0.0,
        "pages_per_s_cpu": len(pages) / cpu if cpu else 0.0,
        "mb_per_s_cpu": mb / cpu if cpu else 0.0,
    }
    if aeb:
        result["aeb_f1"], result["aeb_precision"], result["aeb_recall"] = aeb_corpus(aeb)
    if wcxb:
        result["wcxb_f1"] = mean(wcxb)
        result["wcxb_by_type"] = {k: (len(v), mean(v)) for k, v in sorted(by_type.items())}
    return result


def print_report(result: dict) -> None:
    print(f"== {result['name']}: {result['pages']} pages")
    if "aeb_f1" in result:
        print(
            f"AEB F1 {result['aeb_f1']:.3f} "
            f"(P {result['aeb_precision']:.3f} / R {result['aeb_recall']:.3f})"
        )
    if "wcxb_f1" in result:
        types = result["wcxb_by_type"]
        article = types.get("article", (0, 0.0))[1]
        print(f"WCXB F1 {result['wcxb_f1']:.3f}  articles {article:.3f}")
        print("  " + "  ".join(f"{k} ({n}) {f:.3f}" for k, (n, f) in types.items()))
    cpu_ms = 1000 / result["pages_per_s_cpu"] if result["pages_per_s_cpu"] else 0.0
    print(
        f"pages/s wall {result['pages_per_s_wall']:.1f}  CPU {result['pages_per_s_cpu']:.1f}"
        f"  ({result['mb_per_s_cpu']:.1f} MB/s CPU, {cpu_ms:.2f} ms/page CPU)"
    )


def jsonl_mode(lines: Iterator[bytes], out: BinaryIO) -> None:
    """One output line per input line; ``t`` is the extraction time alone."""
    for line in lines:
        if not line.strip():
            continue
        item = orjson.loads(line)
        t0 = time.perf_counter()
        result = extract_fast(item.get("html") or "", item.get("url") or None)
        elapsed = time.perf_counter() - t0
        record = {"id": item["id"], "text": result.text, "title": result.title, "t": elapsed}
        out.write(orjson.dumps(record) + b"\n")
    out.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jsonl", action="store_true", help="harness protocol on stdin/stdout")
    parser.add_argument("--data", type=Path, help="folder holding aeb/ and wcxb/")
    parser.add_argument("--split", default="dev", help="WCXB split folder (default: dev)")
    parser.add_argument("--limit", type=int, default=0, help="first N pages per dataset")
    parser.add_argument("--baseline", action="store_true", help="also time trafilatura")
    parser.add_argument(
        "--record", action="store_true", help="also time the complete record (fast.page)"
    )
    parser.add_argument("--save", type=Path, help="write per-page outputs and scores (JSONL)")
    args = parser.parse_args(argv)
    if args.jsonl:
        jsonl_mode(sys.stdin.buffer, sys.stdout.buffer)
        return 0
    if args.data is None:
        parser.error("give --jsonl or --data DIR")
    pages: list[BenchPage] = []
    if (args.data / "aeb").is_dir():
        pages += load_aeb(args.data / "aeb")[: args.limit or None]
    if (args.data / "wcxb" / args.split).is_dir():
        pages += load_wcxb(args.data / "wcxb", args.split)[: args.limit or None]
    if not pages:
        parser.error(f"no pages under {args.data}")
    runs = [("fast", fast_extract)]
    if args.record:
        runs.append(("fast record", record_extract))
    if args.baseline:
        runs.append(("trafilatura", trafilatura_extract))
    results = []
    for name, extract in runs:
        outputs, wall, cpu = run(pages, extract)
        result = report(name, pages, outputs, wall, cpu)
        print_report(result)
        results.append(result)
        if args.save and name == "fast":
            _save(args.save, pages, outputs)
    if args.baseline and results[-1]["pages_per_s_cpu"]:
        ratio = results[0]["pages_per_s_cpu"] / results[-1]["pages_per_s_cpu"]
        print(f"speed ratio fast/trafilatura (CPU time): {ratio:.1f}x")
    return 0


def _save(path: Path, pages: list[BenchPage], outputs: list[str]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for page, text in zip(pages, outputs, strict=True):
            record = {"id": page.uid, "page_type": page.page_type, "text": text}
            if page.dataset == "aeb":
                record["aeb"] = aeb_page(page.reference, text)
            else:
                record["f1"] = word_f1(page.reference, text)
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    sys.exit(main())
