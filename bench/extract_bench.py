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
import gzip
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean

from worker.config import Settings
from worker.extract import ENGINES, make_extractor
from worker.records import BadRecord, Page

DEFAULT_ENGINE = Settings().extractor

WORD_RE = re.compile(r"\w+")
SHINGLE_SIZE = 4

DATASETS = ("aeb", "wcxb", "dragnet", "readability")
JSONL_DATASETS = ("dragnet", "readability")
ANCHORS = ("trafilatura", "readability-lxml")
PAGE_TYPES = ("article", "documentation", "service", "forum", "collection", "listing", "product")


@dataclass(slots=True)
class BenchPage:
    uid: str
    dataset: str  # aeb | wcxb-<split> | dragnet | readability
    url: str
    html_path: Path | None
    truth: dict = field(default_factory=dict)  # main_content (all), with/without (WCXB)
    page_type: str = "article"
    html: str | None = None  # JSON-lines datasets carry the page inline


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
                    truth={
                        "articleBody": entry.get("articleBody") or "",
                        "main_content": entry.get("articleBody") or "",
                    },
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


def load_jsonl(root: Path, name: str, limit: int | None = None) -> list[BenchPage]:
    """A JSON-lines dataset (``pages.jsonl.gz`` + ``truth.jsonl.gz``), pages held in memory."""
    with gzip.open(root / "truth.jsonl.gz", "rt", encoding="utf-8") as f:
        truth = {doc["id"]: doc.get("text") or "" for doc in map(json.loads, f)}
    pages = []
    with gzip.open(root / "pages.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            if doc["id"] not in truth:
                continue
            pages.append(
                BenchPage(
                    uid=doc["id"],
                    dataset=name,
                    url=doc.get("url") or "",
                    html_path=None,
                    truth={"main_content": truth[doc["id"]]},
                    html=doc.get("html") or "",
                )
            )
            if limit and len(pages) >= limit:
                break
    return pages


def load_all(
    data: Path, datasets: Sequence[str] = DATASETS, split: str = "dev", limit: int | None = None
) -> list[BenchPage]:
    """The named datasets that exist under ``data``, in a fixed order."""
    pages: list[BenchPage] = []
    for name in datasets:
        if name == "aeb" and (data / "aeb").is_dir():
            pages += load_aeb(data / "aeb", limit)
        elif name == "wcxb" and (data / "wcxb" / split).is_dir():
            pages += load_wcxb(data / "wcxb", split, limit)
        elif name in JSONL_DATASETS and (data / name / "pages.jsonl.gz").exists():
            pages += load_jsonl(data / name, name, limit)
    return pages


def read_html(path: Path) -> str:
    return gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")


def page_html(page: BenchPage) -> str:
    if page.html is not None:
        return page.html
    assert page.html_path is not None
    return read_html(page.html_path)


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


def score(results: Iterable[tuple[BenchPage, str]], save: Path | None = None) -> dict:
    """Per-dataset word P/R/F1 (all datasets), AEB shingles, WCXB snippets and page types."""
    shingles: list[dict] = []
    words: dict[str, list[tuple[str, dict]]] = {}
    out = save.open("w", encoding="utf-8") if save else None
    try:
        for page, text in results:
            row = wcxb_page(text, page.truth)
            words.setdefault(page.dataset, []).append((page.page_type, row))
            if page.dataset == "aeb":
                shingles.append(aeb_page(page.truth["articleBody"], text))
            if out:
                record = {"id": page.uid, "type": page.page_type, "text": text, **row}
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        if out:
            out.close()
    report: dict = {}
    for dataset, rows in words.items():
        report[dataset] = wcxb_corpus([row for _, row in rows])
        if dataset.startswith("wcxb"):
            by_type: dict[str, list[dict]] = {}
            for page_type, row in rows:
                by_type.setdefault(page_type, []).append(row)
            report[dataset]["by_type"] = {t: wcxb_corpus(r) for t, r in sorted(by_type.items())}
    if shingles:
        report["aeb-shingles"] = aeb_corpus(shingles)
    return report


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
