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
  machine. ``--record`` also times the worker's ``make_extractor("fast")``: the same text plus
  page metadata, page type and language from the same parse, as the worker runs it.

Pages, metrics and scoring are ``bench.extract_bench``'s (the benchmarks' own
definitions); this module adds the engine-only timing.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson

from tests.kit.datasets import BenchPage, load_aeb, load_wcxb, read_html
from tests.kit.scores import score
from worker.extract.fast import extract_fast


@dataclass(slots=True)
class LoadedPage:
    """A benchmark page with its HTML already read, so reading is never timed."""

    page: BenchPage
    html: str

    @property
    def uid(self) -> str:
        return self.page.uid

    @property
    def url(self) -> str:
        return self.page.url


def load_pages(data: Path, split: str, limit: int = 0) -> list[LoadedPage]:
    """AEB and WCXB ``split`` pages under ``data`` (the extraction benchmark's loaders)."""
    pages: list[BenchPage] = []
    if (data / "aeb").is_dir():
        pages += load_aeb(data / "aeb", limit or None)
    if (data / "wcxb" / split).is_dir():
        pages += load_wcxb(data / "wcxb", split, limit or None)
    return [LoadedPage(page, read_html(page.html_path)) for page in pages]


# ---------------------------------------------------------------- running


def fast_extract(html: str, url: str) -> str:
    return extract_fast(html, url or None).text


def record_extractor() -> Callable[[str, str], str]:
    """The worker's own ``fast`` extractor (``make_extractor``): text, metadata, page type and
    language from one parse, as the worker runs it."""
    from worker.extract import make_extractor
    from worker.model import Page

    extract = make_extractor("fast")
    return lambda html, url: (
        extract(Page(url=url, body=html, body_kind="html", input_format="raw")).text
    )


def trafilatura_extract(html: str, url: str) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url or None, include_comments=False) or ""


def run(
    pages: list[LoadedPage], extract: Callable[[str, str], str]
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


def report(
    name: str,
    pages: list[LoadedPage],
    outputs: list[str],
    wall: float,
    cpu: float,
    save: Path | None = None,
) -> dict:
    """Scores with the extraction benchmark's metrics, and speed."""
    scores = score(((p.page, o) for p, o in zip(pages, outputs, strict=True)), save)
    mb = sum(len(p.html.encode("utf-8", "surrogatepass")) for p in pages) / 1e6
    result = {
        "name": name,
        "pages": len(pages),
        "pages_per_s_wall": len(pages) / wall if wall else 0.0,
        "pages_per_s_cpu": len(pages) / cpu if cpu else 0.0,
        "mb_per_s_cpu": mb / cpu if cpu else 0.0,
    }
    if "aeb-shingles" in scores:  # the benchmark's own metric
        aeb = scores["aeb-shingles"]
        result["aeb_f1"], result["aeb_precision"], result["aeb_recall"] = (
            aeb["f1"],
            aeb["precision"],
            aeb["recall"],
        )
    wcxb = next((v for k, v in scores.items() if k.startswith("wcxb")), None)
    if wcxb:
        result["wcxb_f1"] = wcxb["f1"]
        result["wcxb_by_type"] = {t: (c["n"], c["f1"]) for t, c in wcxb["by_type"].items()}
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
        "--record", action="store_true", help="also time the complete record (make_extractor)"
    )
    parser.add_argument("--save", type=Path, help="write per-page outputs and scores (JSONL)")
    args = parser.parse_args(argv)
    if args.jsonl:
        jsonl_mode(sys.stdin.buffer, sys.stdout.buffer)
        return 0
    if args.data is None:
        parser.error("give --jsonl or --data DIR")
    pages = load_pages(args.data, args.split, args.limit)
    if not pages:
        parser.error(f"no pages under {args.data}")
    runs = [("fast", fast_extract)]
    if args.record:
        runs.append(("fast record", record_extractor()))
    if args.baseline:
        runs.append(("trafilatura", trafilatura_extract))
    results = []
    for name, extract in runs:
        outputs, wall, cpu = run(pages, extract)
        result = report(name, pages, outputs, wall, cpu, args.save if name == "fast" else None)
        print_report(result)
        results.append(result)
    if args.baseline and results[-1]["pages_per_s_cpu"]:
        ratio = results[0]["pages_per_s_cpu"] / results[-1]["pages_per_s_cpu"]
        print(f"speed ratio fast/trafilatura (CPU time): {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
