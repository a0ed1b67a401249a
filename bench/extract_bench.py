"""Main-content extraction benchmark: ours and two anchors on four datasets, one process.

    python -m bench.extract_bench --data DIR [--anchors trafilatura,readability-lxml|none]
        [--datasets aeb,wcxb,dragnet,readability] [--limit N] [--save OUTDIR] [--reuse OUTDIR]
    python -m bench.extract_bench --jsonl < pages.jsonl > outputs.jsonl

DIR holds ``aeb/`` (ScrapingHub Article Extraction Benchmark: ``ground-truth.json``,
``html/<id>.html.gz``), ``wcxb/`` (WCXB: ``metadata.json``, ``<split>/html/<id>.html.gz``,
``<split>/ground-truth/<id>.json``), and ``dragnet/`` and ``readability/`` (JSON lines:
``pages.jsonl.gz`` with ``{"id","url","html"}``, ``truth.jsonl.gz`` with ``{"id","text"}``).

Every page of every dataset is run through our extractor (the complete record, as the worker
runs it) and, right after it on the same page, through each anchor: trafilatura (comments
off) and readability-lxml (its summary rendered to text by html-text), exactly as the shared
harness runs them. Interleaving keeps the CPU-time ratios honest on a busy machine.

The metric on all four datasets is the shared scorers' word F1: bag-of-words P/R/F1 over
lower-cased ``\\w+`` tokens, averaged over pages (an empty reference scores 1 only for an
empty prediction). Also reported: AEB's own 4-token-shingle F1 (tokens case kept; precision
averaged over pages with a non-empty prediction, recall over pages with a non-empty
reference, F1 from the two means) and WCXB's ``with[]``/``without[]`` snippet pass rates and
per-page-type F1.

``--save OUTDIR`` writes ``OUTDIR/<extractor>.jsonl`` (``{"id","text"}``, the ids of the
truth files) for the shared scorer (``more/score.py``) and for ``bench.extract_compare``;
``--reuse OUTDIR`` reads the anchors' outputs from there instead of running them again.
``--jsonl`` speaks the reference harness's protocol (``{"id","url","html"}`` lines in,
``{"id","text","title","t"}`` lines out) so the same extractor can be cross-checked there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.kit.datasets import DATASETS, BenchPage, load_all, page_html
from tests.kit.scores import WORD_RE, score
from worker.config import Settings
from worker.extract import ENGINES, make_extractor
from worker.model import BadRecord, Page

DEFAULT_ENGINE = Settings().extractor

ANCHORS = ("trafilatura", "readability-lxml")
PAGE_TYPES = ("article", "documentation", "service", "forum", "collection", "listing", "product")

# --------------------------------------------------------------------------- extractors

Extract = Callable[[str, str], str]


def _as_page(url: str, html: str) -> Page:
    return Page(url=url, body=html, body_kind="html", input_format="json")


def ours(engine: str = DEFAULT_ENGINE) -> Extract:
    """The complete record as the worker builds it; a refused page (too deep) is empty."""
    extract = make_extractor(engine)

    def run(html: str, url: str) -> str:
        try:
            return extract(_as_page(url, html)).text
        except BadRecord:
            return ""

    return run


def trafilatura_anchor() -> Extract:
    """trafilatura with comments off, as the AEB repository and the shared harness run it."""
    import trafilatura

    def run(html: str, url: str) -> str:
        return trafilatura.extract(html, url=url or None, include_comments=False) or ""

    return run


def readability_anchor() -> Extract:
    """readability-lxml's summary rendered to text by html-text, as the shared harness does."""
    import html_text
    from readability import Document

    def run(html: str, url: str) -> str:
        fragment = Document(html, url=url or None).summary(html_partial=True)
        return html_text.extract_text(fragment) if fragment else ""

    return run


ANCHOR_FACTORIES: dict[str, Callable[[], Extract]] = {
    "trafilatura": trafilatura_anchor,
    "readability-lxml": readability_anchor,
}


PROGRESS_EVERY = 500


@dataclass(slots=True)
class Timing:
    pages: int = 0
    mbytes: float = 0.0
    cpu_s: float = 0.0
    errors: int = 0


def run_all(
    pages: Sequence[BenchPage],
    extractors: dict[str, Extract],
    reused: dict[str, dict[str, str]] | None = None,
) -> tuple[dict[str, list[str]], dict[str, Timing]]:
    """Every extractor on each page in turn, timing only the extraction calls (CPU).

    An anchor that raises scores as empty on that page (as in the shared harness); so
    does ours, but its errors are counted, since ours must never raise."""
    reused = reused or {}
    outputs: dict[str, list[str]] = {name: [] for name in [*extractors, *reused]}
    timings = {name: Timing() for name in extractors}
    for done, page in enumerate(pages):
        if done and done % PROGRESS_EVERY == 0:
            print(f"{done}/{len(pages)} pages", file=sys.stderr, flush=True)
        html = page_html(page)
        size = len(html.encode("utf-8", "surrogatepass")) / 1e6
        for name, extract in extractors.items():
            timing = timings[name]
            cpu0 = time.process_time()
            try:
                text = extract(html, page.url)
            except Exception:  # noqa: BLE001 - a failure scores as empty output
                text = ""
                timing.errors += 1
            timing.cpu_s += time.process_time() - cpu0
            timing.pages += 1
            timing.mbytes += size
            outputs[name].append(text)
        for name, texts in reused.items():
            outputs[name].append(texts.get(page.uid, ""))
    return outputs, timings


# --------------------------------------------------------------------------- report


def _fmt(value: float | None, pct: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:.1%}" if pct else f"{value:.3f}"


def _empty(texts: Sequence[str]) -> int:
    return sum(1 for t in texts if not WORD_RE.search(t or ""))


def render(
    pages: Sequence[BenchPage],
    outputs: dict[str, list[str]],
    reports: dict[str, dict],
    timings: dict[str, Timing],
) -> str:
    names = list(reports)
    datasets = list(dict.fromkeys(p.dataset for p in pages))
    lines = [
        "Word F1 (precision / recall), mean per page; empty = pages with no words out",
        "",
        "| dataset (pages) | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for dataset in datasets:
        index = [i for i, p in enumerate(pages) if p.dataset == dataset]
        cells = []
        for name in names:
            r = reports[name][dataset]
            empty = _empty([outputs[name][i] for i in index])
            cells.append(
                f"{_fmt(r['f1'])} ({_fmt(r['precision'])} / {_fmt(r['recall'])}), {empty} empty"
            )
        lines.append(f"| {dataset} ({len(index)}) | " + " | ".join(cells) + " |")
    if len(names) > 1:
        first, anchors = names[0], names[1:]
        margins = []
        for dataset in datasets:
            floor = max(reports[a][dataset]["f1"] for a in anchors)
            margins.append(f"{dataset} {reports[first][dataset]['f1'] - floor:+.3f}")
        lines += ["", f"{first} minus the best anchor: " + ", ".join(margins)]
    if all("aeb-shingles" in reports[n] for n in names):
        lines += [
            "",
            "AEB's own shingle F1 (P / R): "
            + ", ".join(
                f"{n} {_fmt(reports[n]['aeb-shingles']['f1'])} "
                f"({_fmt(reports[n]['aeb-shingles']['precision'])} / "
                f"{_fmt(reports[n]['aeb-shingles']['recall'])})"
                for n in names
            ),
        ]
    wcxb = next((d for d in datasets if d.startswith("wcxb")), None)
    if wcxb:
        counts = Counter(p.page_type for p in pages if p.dataset == wcxb)
        lines += [
            "",
            f"{wcxb}: word F1 by page type, snippet pass rates",
            "",
            "| extractor | "
            + " | ".join(f"{t} ({counts[t]})" for t in PAGE_TYPES)
            + " | with ✓ | without ✓ |",
            "|---|" + "---|" * (len(PAGE_TYPES) + 2),
        ]
        for name in names:
            r = reports[name][wcxb]
            by_type = r.get("by_type", {})
            lines.append(
                f"| {name} | "
                + " | ".join(_fmt(by_type.get(t, {}).get("f1")) for t in PAGE_TYPES)
                + f" | {_fmt(r['with_pass'], True)} | {_fmt(r['without_pass'], True)} |"
            )
    timed = [n for n in names if n in timings and timings[n].cpu_s]
    if timed:
        lines += ["", "CPU time of the extraction calls, same pages, same process:"]
        base = timings[timed[0]]
        for name in timed:
            t = timings[name]
            ratio = f" ({timed[0]} {t.cpu_s / base.cpu_s:.1f}x as fast)" if name != timed[0] else ""
            errors = f", {t.errors} errors" if t.errors else ""
            lines.append(
                f"- {name}: {t.pages / t.cpu_s:.1f} pages/s, {t.mbytes / t.cpu_s:.1f} MB/s"
                f"{ratio}{errors}"
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


def _names(value: str, allowed: Sequence[str]) -> list[str]:
    names = [n for n in value.split(",") if n and n != "none"]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown {unknown}; choose from {list(allowed)}")
    return names


def read_outputs(path: Path) -> dict[str, str]:
    """``{"id","text"}`` lines, the last line of an id winning (as the shared scorer)."""
    texts: dict[str, str] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                doc = json.loads(line)
                texts[str(doc["id"])] = doc.get("text") or ""
    return texts


def write_outputs(path: Path, pages: Sequence[BenchPage], texts: Sequence[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for page, text in zip(pages, texts, strict=True):
            f.write(json.dumps({"id": page.uid, "text": text}, ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="folder holding the datasets")
    parser.add_argument("--split", default="dev", help="WCXB split (default: dev)")
    parser.add_argument(
        "--datasets",
        default=",".join(DATASETS),
        type=lambda v: _names(v, DATASETS),
        help="comma list (default: all four)",
    )
    parser.add_argument(
        "--anchors",
        default=",".join(ANCHORS),
        type=lambda v: _names(v, ANCHORS),
        help="comma list, or 'none' (default: both)",
    )
    parser.add_argument("--limit", type=int, help="first N pages of each dataset")
    parser.add_argument("--core", type=int, help="pin the process to this CPU core")
    parser.add_argument("--save", type=Path, help="write OUTDIR/<extractor>.jsonl outputs")
    parser.add_argument("--reuse", type=Path, help="read the anchors' outputs from OUTDIR")
    parser.add_argument("--json", type=Path, help="write the corpus scores as JSON")
    parser.add_argument("--jsonl", action="store_true", help="serve the JSON-lines protocol")
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
    pages = load_all(args.data, args.datasets, args.split, args.limit)
    if not pages:
        parser.error(f"none of {args.datasets} under {args.data}")
    extractors: dict[str, Extract] = {"ours": ours(args.extractor)}
    reused: dict[str, dict[str, str]] = {}
    for name in args.anchors:
        saved = args.reuse / f"{name}.jsonl" if args.reuse else None
        if saved is not None and saved.exists():
            reused[name] = read_outputs(saved)
        else:
            extractors[name] = ANCHOR_FACTORIES[name]()
    outputs, timings = run_all(pages, extractors, reused)
    reports = {name: score(zip(pages, texts, strict=True)) for name, texts in outputs.items()}
    print(render(pages, outputs, reports, timings))
    if args.save:
        for name, texts in outputs.items():
            write_outputs(args.save / f"{name}.jsonl", pages, texts)
    if args.json:
        speed = {
            n: {"pages": t.pages, "mb": t.mbytes, "cpu_s": t.cpu_s} for n, t in timings.items()
        }
        args.json.write_text(json.dumps({**reports, "speed": speed}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
