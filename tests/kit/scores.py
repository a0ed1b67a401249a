"""The extraction scores benchmarks report and tests check on hand-counted examples: the
shared scorers' word F1 (all datasets), AEB's 4-token-shingle F1 and WCXB's snippet pass
rates and per-page-type F1 (see ``bench.extract_bench``)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from statistics import mean

from tests.kit.datasets import BenchPage, load_wcxb, page_html
from worker.extract import ENGINES, make_extractor
from worker.extract.pagetype import PAGE_TYPES
from worker.model import Page

WORD_RE = re.compile(r"\w+")
SHINGLE_SIZE = 4


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


def confusion_matrix(
    root: Path, split: str, engine: str = ENGINES[0], limit: int | None = None
) -> Counter[tuple[str, str]]:
    """(label, predicted) counts over the split's labelled pages, with the worker's engine."""
    extract = make_extractor(engine)
    confusion: Counter[tuple[str, str]] = Counter()
    for bench_page in load_wcxb(root, split, limit):
        if bench_page.page_type not in PAGE_TYPES:
            continue
        page = Page(
            url=bench_page.url, body=page_html(bench_page), body_kind="html", input_format="raw"
        )
        confusion[(bench_page.page_type, extract(page).page_type or "")] += 1
    return confusion
