"""Page-type gate accuracy on WCXB: article vs non-article, and the seven labels.

    python -m bench.pagetype_accuracy --wcxb DIR [--split dev] [--limit N] [--engine fast]

DIR is the WCXB folder (``<split>/html/<id>.html.gz`` and ``<split>/ground-truth/<id>.json``,
whose ``_internal.page_type.primary`` is the label). Each page goes through the same steps
as in the worker. ``--engine lxml`` (default): lxml parse, page metadata, main text
(trafilatura, standing in for the body extractor), then ``classify_page``. ``--engine fast``:
the fast engine's complete record (``fast.page.extract_page``: one Lexbor parse for
metadata, page shape and its own main text). One process, pages in file order.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import lxml.html
import trafilatura

from worker.extract.metadata import extract_metadata
from worker.extract.pagetype import PAGE_TYPES, classify_page, is_article


def load_pages(root: Path, split: str, limit: int | None) -> Iterator[tuple[str, str, str, str]]:
    """(id, url, html, label) per page."""
    truth_files = sorted((root / split / "ground-truth").glob("*.json"))
    for truth_file in truth_files[:limit]:
        truth = json.loads(truth_file.read_text(encoding="utf-8"))
        label = truth.get("_internal", {}).get("page_type", {}).get("primary")
        if label not in PAGE_TYPES:
            continue
        html_file = root / split / "html" / f"{truth_file.stem}.html.gz"
        html = gzip.decompress(html_file.read_bytes()).decode("utf-8", errors="replace")
        yield truth_file.stem, truth.get("url") or "", html, label


def predict_fast(url: str, html: str) -> str:
    from worker.extract.fast.page import extract_page
    from worker.records import Page

    page = Page(url=url, body=html, body_kind="html", input_format="raw")
    return extract_page(page).page_type or ""


def predict(url: str, html: str) -> str:
    try:
        tree = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return classify_page(None, url, "", None)
    meta = extract_metadata(tree, url or None)
    text = trafilatura.extract(html, url=url or None, include_comments=False) or ""
    return classify_page(tree, url, text, meta)


def report(confusion: Counter[tuple[str, str]], seconds: float) -> str:
    total = sum(confusion.values())
    exact = sum(n for (truth, pred), n in confusion.items() if truth == pred)
    binary = sum(n for (t, p), n in confusion.items() if is_article(t) == is_article(p))
    tp = confusion[("article", "article")]
    predicted = sum(n for (_, p), n in confusion.items() if is_article(p))
    actual = sum(n for (t, _), n in confusion.items() if is_article(t))
    lines = [
        f"pages {total}  ({total / seconds:.1f} pages/s)",
        f"article vs non-article accuracy {binary / total:.3f}",
        f"article precision {tp / max(predicted, 1):.3f}  recall {tp / max(actual, 1):.3f}",
        f"7-way accuracy {exact / total:.3f}",
        "",
        "truth \\ predicted " + " ".join(f"{t[:7]:>8}" for t in PAGE_TYPES),
    ]
    for truth in PAGE_TYPES:
        row = " ".join(f"{confusion[(truth, pred)]:8d}" for pred in PAGE_TYPES)
        lines.append(f"{truth:<18}{row}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wcxb", type=Path, required=True, help="the WCXB folder")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--limit", type=int, default=None, help="first N pages only")
    parser.add_argument("--engine", choices=("lxml", "fast"), default="lxml")
    args = parser.parse_args()
    predictor = predict_fast if args.engine == "fast" else predict

    confusion: Counter[tuple[str, str]] = Counter()
    started = time.perf_counter()
    for _, url, html, label in load_pages(args.wcxb, args.split, args.limit):
        confusion[(label, predictor(url, html))] += 1
    if not confusion:
        raise SystemExit(f"no labelled pages under {args.wcxb / args.split}")
    print(report(confusion, time.perf_counter() - started))


if __name__ == "__main__":
    main()
