"""Cost per page of counting words and cutting dedupe tokens in every script.

    python -m bench.textunits_cost --data ../shared/data [--repeat 20]

Reads the ground-truth texts of the AEB pages and of the Readability pages and groups
them by script (English and other Latin; Chinese/Japanese; Cyrillic/Hangul). For each
group it times, in one process and interleaved, what the worker did before words were
weighed per script (``len(text.split())``; ``\\w+`` token starts) against what it does
now (``count_words``, ``line_word_counts``, the dedupe tokens), as CPU microseconds per
page, the best of ``--rounds`` rounds of ``--repeat`` passes (the machine is shared).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from worker.dedup import normalize
from worker.textunits import count_words, line_word_counts

_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_OTHER = re.compile(r"[\u0400-\u04ff\uac00-\ud7af]")


def load(data: Path) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {"latin": [], "zh/ja": [], "ru/ko": []}
    truth = json.loads((data / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    texts = [v["articleBody"] for v in truth.values()]
    with gzip.open(data / "readability" / "truth.jsonl.gz", "rt", encoding="utf-8") as f:
        texts += [json.loads(line)["text"] for line in f]
    for text in texts:
        group = "zh/ja" if _CJK.search(text) else "ru/ko" if _OTHER.search(text) else "latin"
        groups[group].append(text)
    return groups


def cpu_us(fn: Callable[[str], object], texts: Sequence[str], repeat: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.process_time()
        for _ in range(repeat):
            for text in texts:
                fn(text)
        best = min(best, (time.process_time() - t0) / repeat / len(texts))
    return best * 1e6


def before_tokens(text: str) -> np.ndarray:
    """Token starts as before: one token per run of word characters."""
    cps = normalize.folded_codepoints(normalize.prepare(text))
    is_word = cps != 0
    starts = np.flatnonzero(is_word[1:] > is_word[:-1]) + 1
    if is_word.size and is_word[0]:
        starts = np.concatenate([[0], starts])
    return starts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    count = count_words.__wrapped__  # uncached: every call counts
    print(
        "| script | pages | chars/page | words/page before → now "
        "| µs/page: count | per-line counts | dedupe tokens |"
    )
    print("|---|---|---|---|---|---|---|")
    for group, texts in load(args.data).items():
        if not texts:
            continue
        lines = [t.splitlines() for t in texts]
        r, k = args.repeat, args.rounds
        timings = [
            (cpu_us(lambda t: len(t.split()), texts, r, k), cpu_us(count, texts, r, k)),
            (
                cpu_us(lambda ls: [len(x.split()) for x in ls], lines, r, k),
                cpu_us(line_word_counts, lines, r, k),
            ),
            (cpu_us(before_tokens, texts, r, k), cpu_us(normalize.token_starts, texts, r, k)),
        ]
        before = np.mean([len(t.split()) for t in texts])
        now = np.mean([count(t) for t in texts])
        cells = " | ".join(f"{a:.0f} → {b:.0f}" for a, b in timings)
        chars = np.mean([len(t) for t in texts])
        print(f"| {group} | {len(texts)} | {chars:.0f} | {before:.0f} → {now:.0f} | {cells} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
