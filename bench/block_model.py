"""Could a learned classifier decide block by block what the text is?

    python -m bench.block_model --data DIR [--datasets aeb,wcxb,dragnet,readability]

The fast engine keeps or drops each text block by rules (priors, chrome, the core and its
extent, line cleaning). This benchmark asks whether a gradient-boosted classifier over the
features the engine already computes for a block (its priors, where it sits against the
core and the extent, link share, length, punctuation, tag, markup hints, the rules' own
decision and its neighbours') makes better decisions on a dataset it was not fitted on:

- a block is content when the reference holds it: its 4-token shingles, mostly (half or
  more), or for a block of under four tokens the whole token sequence;
- the *block oracle* keeps exactly those blocks: the ceiling of any block-level decision;
- the classifier is fitted leave one dataset out (three datasets, scored on the fourth),
  each block weighed by its tokens, as word F1 weighs it; it is tried three ways: its
  decision replaces the rules' (probability 0.5), it may only drop what the rules keep
  (below 0.1), or only add what they drop (0.9 and above). Each threshold is the one value
  tried.

Needs scikit-learn (``pip install -e '.[bench]'``). Nothing here ships in the package.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import mean

from bench.extract_bench import _names
from bench.extract_compare import noise
from tests.kit.datasets import DATASETS, load_all, page_html
from tests.kit.scores import wcxb_page
from worker.extract.fast import scoring
from worker.extract.fast.clean import drop_link_lines, drop_repeats, drop_trailing_headings
from worker.extract.fast.dom import STRONG_HINT, Doc, parse
from worker.extract.fast.priors import block_prior, mark_teasers

WORD_RE = re.compile(r"\w+")
SHINGLE = 4
KINDS = ("p", "li", "h1", "h2", "h3", "h4", "td", "tr", "div", "figcaption", "dd", "dt", "pre")
# (name, how the classifier's probabilities and the rules' decision combine)
MODES = (
    ("replaces the rules", lambda rule, p: p >= 0.5),
    ("drops only", lambda rule, p: rule and p >= 0.1),
    ("adds only", lambda rule, p: rule or p >= 0.9),
)


@dataclass(slots=True)
class PageBlocks:
    page: str
    dataset: str
    truth: dict
    texts: list[str]
    features: list[list[float]]
    rule: list[bool]
    content: list[bool]


def rule_keep(doc: Doc) -> list[bool]:
    """The blocks the engine emits: its selection, then its line cleaning."""
    selection = scoring.select(doc)
    keep = list(selection.keep) if selection else [False] * len(doc.blocks)
    drop_link_lines(doc, keep)
    drop_repeats(doc, keep)
    drop_trailing_headings(doc, keep)
    return keep


def block_features(doc: Doc, keep: list[bool]) -> list[list[float]]:
    blocks, elements = doc.blocks, doc.elements
    raw = [block_prior(b) for b in blocks]
    teased = list(raw)
    mark_teasers(doc, teased)
    priors, sums, core = scoring._without_chrome(doc, raw, teased, scoring._only_of_tag(doc))
    lo = hi = 0
    density = size = 0.0
    if core >= 0:
        core = scoring._prose_core(doc, priors, sums, scoring._marked_post(doc, sums, core))
        lo, hi = elements[core].b_start, elements[core].b_end
        chars = sums.chars(lo, hi)
        density, size = (sums.links(lo, hi) / chars if chars else 0.0), math.log1p(chars)
    hinted: list[bool] = []
    chromed: list[bool] = []
    for e in elements:
        hinted.append(bool(e.content_hint) or (e.parent >= 0 and hinted[e.parent]))
        chromed.append(bool(e.chrome) or (e.parent >= 0 and chromed[e.parent]))
    n = len(blocks)
    kept_chars = sum(len(b.text) for b, k in zip(blocks, keep, strict=True) if k) or 1
    share = sum(keep) / n
    rows = []
    for i, b in enumerate(blocks):
        length = len(b.text) or 1
        distance = (lo - i) / n if i < lo else (i - hi + 1) / n if i >= hi else 0.0
        rows.append(
            [
                float(keep[i]),
                raw[i],
                teased[i],
                priors[i],
                float(lo <= i < hi),
                float(i < lo),
                distance,
                b.link_chars / length,
                b.lead_link_chars / length,
                math.log1p(len(b.text)),
                float(b.text[-1:] in '.!?"”'),
                float(b.text.count(",")),
                density,
                size,
                float(hinted[b.owner]),
                float(chromed[b.owner]),
                float(elements[b.owner].content_hint >= STRONG_HINT),
                share,
                len(b.text) / kept_chars,
                float(i > 0 and keep[i - 1]),
                float(i + 1 < n and keep[i + 1]),
                *(float(b.kind == kind) for kind in KINDS),
            ]
        )
    return rows


def held_in_reference(texts: list[str], reference: str) -> list[bool]:
    tokens = [w.lower() for w in WORD_RE.findall(reference)]
    shingles = {tuple(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1)}
    joined = f" {' '.join(tokens)} "
    out = []
    for text in texts:
        words = [w.lower() for w in WORD_RE.findall(text)]
        if len(words) < SHINGLE:
            out.append(bool(words) and f" {' '.join(words)} " in joined)
            continue
        grams = [tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)]
        out.append(2 * sum(g in shingles for g in grams) >= len(grams))
    return out


def gather(data: Path, datasets: Sequence[str]) -> list[PageBlocks]:
    found = []
    for page in load_all(data, datasets):
        doc = parse(page_html(page))
        texts = [b.text for b in doc.blocks]
        keep = rule_keep(doc) if texts else []
        found.append(
            PageBlocks(
                page.uid,
                page.dataset,
                page.truth,
                texts,
                block_features(doc, keep) if texts else [],
                keep,
                held_in_reference(texts, page.truth.get("main_content") or ""),
            )
        )
    return found


def _f1(page: PageBlocks, keep: Sequence[bool]) -> float:
    text = "\n".join(t for t, k in zip(page.texts, keep, strict=True) if k)
    return wcxb_page(text, page.truth)["f1"]


def _change(before: list[float], after: list[float]) -> str:
    diffs = [b - a for a, b in zip(before, after, strict=True)]
    return (
        f"{mean(after):.4f} ({mean(diffs):+.4f} ±{noise(diffs):.4f}, "
        f"{sum(d > 0.05 for d in diffs)} up / {sum(d < -0.05 for d in diffs)} down)"
    )


def report(found: list[PageBlocks]) -> list[str]:
    from sklearn.ensemble import HistGradientBoostingClassifier  # bench-only dependency

    lines = [
        "| dataset (pages) | rules | block oracle | "
        + " | ".join(f"learned, held out: {name}" for name, _ in MODES)
        + " |",
        "|---" * (3 + len(MODES)) + "|",
    ]
    for held in dict.fromkeys(p.dataset for p in found):
        train = [p for p in found if p.dataset != held and p.texts]
        model = HistGradientBoostingClassifier(max_iter=200, max_depth=4, random_state=0)
        model.fit(
            [row for p in train for row in p.features],
            [c for p in train for c in p.content],
            sample_weight=[max(1, len(WORD_RE.findall(t))) for p in train for t in p.texts],
        )
        test = [p for p in found if p.dataset == held]
        rules = [_f1(p, p.rule) for p in test]
        oracle = [_f1(p, p.content) for p in test]
        cells = []
        for _, combine in MODES:
            scores = []
            for p in test:
                if not p.texts:
                    scores.append(_f1(p, []))
                    continue
                probs = model.predict_proba(p.features)[:, 1]
                scores.append(_f1(p, [combine(r, q) for r, q in zip(p.rule, probs, strict=True)]))
            cells.append(_change(rules, scores))
        lines.append(
            f"| {held} ({len(test)}) | {mean(rules):.4f} | {mean(oracle):.4f} | "
            + " | ".join(cells)
            + " |"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    args = parser.parse_args(argv)
    print("\n".join(report(gather(args.data, _names(args.datasets, DATASETS)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
