"""Page-type gate accuracy on WCXB: article vs non-article, and the seven labels.

    python -m bench.pagetype_accuracy --wcxb DIR [--split dev] [--limit N] [--engine ENGINE]

DIR is the WCXB folder (``<split>/html/<id>.html.gz`` and ``<split>/ground-truth/<id>.json``,
whose ``_internal.page_type.primary`` is the label), read by the extraction benchmark's
loader (``tests/kit/datasets.load_wcxb``: ``category`` counts as ``collection``). Each page
goes through the worker's own engine (``make_extractor``: the worker's default, ``fast``, or
``trafilatura``), whose record carries the page type. One process, pages in file order.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from tests.kit.scores import confusion_matrix
from worker.extract import ENGINES
from worker.extract.pagetype import PAGE_TYPES, is_article


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
    parser.add_argument(
        "--engine", choices=ENGINES, default=ENGINES[0], help="default: the worker's"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    confusion = confusion_matrix(args.wcxb, args.split, args.engine, args.limit)
    if not confusion:
        raise SystemExit(f"no labelled pages under {args.wcxb / args.split}")
    print(report(confusion, time.perf_counter() - started))


if __name__ == "__main__":
    main()
