"""Per-dataset effect of a change: two saved outputs of one extractor, paired page by page.

    python -m bench.extract_compare --data DIR BEFORE.jsonl AFTER.jsonl [--datasets ...]

The outputs are ``bench.extract_bench --save`` files (``{"id","text"}`` lines). For each
dataset: word F1 before and after, the change, and its noise: twice the standard error of
the mean per-page difference (a change smaller than that is not distinguishable from
which pages happen to be in the set), and how many pages moved by more than 0.05 each way.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from statistics import mean, stdev

from bench.extract_bench import _names, read_outputs
from tests.kit.datasets import DATASETS, load_all
from tests.kit.scores import wcxb_page

MOVED = 0.05


def noise(diffs: list[float]) -> float:
    """Twice the standard error of the mean paired difference: a change smaller than this
    is not distinguishable from which pages happen to be in the set."""
    return 2 * stdev(diffs) / math.sqrt(len(diffs)) if len(diffs) > 1 else 0.0


def compare(pages, before: dict[str, str], after: dict[str, str]) -> list[dict]:
    by_dataset: dict[str, list[tuple[float, float]]] = {}
    for page in pages:
        f0 = wcxb_page(before.get(page.uid, ""), page.truth)["f1"]
        f1 = wcxb_page(after.get(page.uid, ""), page.truth)["f1"]
        by_dataset.setdefault(page.dataset, []).append((f0, f1))
    rows = []
    for dataset, pairs in by_dataset.items():
        diffs = [b - a for a, b in pairs]
        rows.append(
            {
                "dataset": dataset,
                "n": len(pairs),
                "before": mean(a for a, _ in pairs),
                "after": mean(b for _, b in pairs),
                "delta": mean(diffs),
                "noise": noise(diffs),
                "up": sum(1 for d in diffs if d > MOVED),
                "down": sum(1 for d in diffs if d < -MOVED),
            }
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--split", default="dev")
    parser.add_argument(
        "--datasets", default=",".join(DATASETS), type=lambda v: _names(v, DATASETS)
    )
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    pages = load_all(args.data, args.datasets, args.split)
    rows = compare(pages, read_outputs(args.before), read_outputs(args.after))
    print("| dataset | before | after | change | noise (2 SE) | pages up / down |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['dataset']} ({r['n']}) | {r['before']:.4f} | {r['after']:.4f} "
            f"| {r['delta']:+.4f} | ±{r['noise']:.4f} | {r['up']} / {r['down']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
