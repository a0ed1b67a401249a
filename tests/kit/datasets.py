"""The labelled page datasets benchmarks and tests read: AEB, WCXB (a split), and the
JSON-lines ones (Dragnet, Readability). One loader each, so every benchmark agrees on a
page's truth and type (WCXB's ``category`` counts as ``collection``).

A data folder holds ``aeb/`` (``ground-truth.json``, ``html/<id>.html.gz``), ``wcxb/``
(``metadata.json``, ``<split>/html/<id>.html.gz``, ``<split>/ground-truth/<id>.json``), and
``dragnet/`` and ``readability/`` (``pages.jsonl.gz`` with ``{"id","url","html"}``,
``truth.jsonl.gz`` with ``{"id","text"}``).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

DATASETS = ("aeb", "wcxb", "dragnet", "readability")
JSONL_DATASETS = ("dragnet", "readability")


@dataclass(slots=True)
class BenchPage:
    uid: str
    dataset: str  # aeb | wcxb-<split> | dragnet | readability
    url: str
    html_path: Path | None
    truth: dict = field(default_factory=dict)  # main_content (all), with/without (WCXB)
    page_type: str = "article"
    html: str | None = None  # JSON-lines datasets carry the page inline


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
