"""Could a learned model choose how far out from the core the text reaches?

    python -m bench.extent_model --data DIR [--datasets aeb,wcxb,dragnet,readability]

The fast engine picks its extent (the core, or one of its ancestors) by a soft
expected-F1 rule. This benchmark asks how much a better choice could gain and whether a
model learned on some datasets makes that choice on another:

- every distinct extent on the core's chain of ancestors (without the lift to the nearest
  ``<article>``/``<main>``) is rendered through the rest of the engine and scored;
- the *ring oracle* is the best of them per page: the ceiling of any extent chooser;
- a gradient-boosted regressor over ring features (sizes, link density, teaser share,
  markup hints, the rule's own expected F1) predicts each extent's gain over the rule's
  choice, fitted leave one dataset out (three datasets, scored on the fourth); the
  extent it ranks first replaces the rule's when its predicted gain is positive.

Needs scikit-learn (``pip install -e '.[bench]'``). Nothing here ships in the package.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from statistics import mean

from bench.extract_bench import _names
from bench.extract_compare import noise
from tests.kit.datasets import DATASETS, load_all, page_html
from tests.kit.scores import wcxb_page
from worker.extract.fast import scoring
from worker.extract.fast.clean import render
from worker.extract.fast.dom import STRONG_HINT, Doc, parse
from worker.extract.fast.priors import block_prior, mark_teasers
from worker.extract.fast.selectors import HEADING_TAGS

TAGS = ("article", "main", "section", "div", "body", "td", "table", "ul", "form")


@dataclass(slots=True)
class Candidate:
    page: str
    dataset: str
    features: list[float]
    f1: float
    chosen: bool  # the rule's own choice


@contextmanager
def forced_extent(lo: int, hi: int) -> Iterator[None]:
    """The engine with its extent fixed to blocks [lo, hi)."""
    original = scoring._extent
    scoring._extent = lambda doc, chain, sums: ((lo, hi), 0.5)
    try:
        yield
    finally:
        scoring._extent = original


def full_chain(doc: Doc, core: int) -> list[int]:
    """The core and its ancestors up to the capping article body, never lifted."""
    elements = doc.elements
    chain = [core]
    while elements[chain[-1]].parent >= 0:
        chain.append(elements[chain[-1]].parent)
    for k, index in enumerate(chain):
        if elements[index].content_hint >= STRONG_HINT and not any(
            scoring._repeated(doc, c) for c in chain[k : k + scoring.REPEAT_LEVELS]
        ):
            return chain[: k + 1]
    return chain


def candidates(html: str) -> list[tuple[list[float], tuple[int, int], bool]]:
    """(features, block range, chosen by the rule) of each distinct extent of a page."""
    doc = parse(html)
    blocks, elements = doc.blocks, doc.elements
    if not blocks:
        return []
    raw = [block_prior(b) for b in blocks]
    teased = list(raw)
    mark_teasers(doc, teased)
    only = scoring._only_of_tag(doc)
    priors, sums, core = scoring._without_chrome(doc, raw, teased, only)
    if core < 0:
        return []
    core = scoring._marked_post(doc, sums, core)
    core = scoring._prose_core(doc, priors, sums, core)
    lifted = scoring._chain(doc, core, only)
    (clo, chi), confidence = scoring._extent(doc, lifted, sums)
    chain = full_chain(doc, core)
    lift_at = chain.index(lifted[0]) if lifted[0] in chain else 0
    raw_sums = scoring._Sums.of_priors(doc, raw)
    total = sums.kept_mass[-1] or 1.0
    c = elements[core]
    core_chars = sums.chars(c.b_start, c.b_end) or 1
    core_mass = sums.mass(c.b_start, c.b_end) or 1.0
    core_density = sums.links(c.b_start, c.b_end) / core_chars
    expected = scoring._expected_f1s(doc, chain, sums)
    out: list[tuple[list[float], tuple[int, int], bool]] = []
    seen: set[tuple[int, int]] = set()
    for k, index in enumerate(chain):
        e = elements[index]
        lo, hi = e.b_start, e.b_end
        if (lo, hi) in seen:
            continue
        seen.add((lo, hi))
        chars, links = sums.chars(lo, hi), sums.links(lo, hi)
        mass, raw_mass = sums.mass(lo, hi), raw_sums.mass(lo, hi)
        kept = [i for i in range(lo, hi) if priors[i] >= scoring.KEEP_THRESHOLD]
        heads = sum(1 for i in kept if blocks[i].kind in HEADING_TAGS)
        paragraphs = sum(1 for i in kept if scoring._paragraph(doc, priors, i))
        features = [
            k,
            k / len(chain),
            len(chain),
            float(k == lift_at),
            float(k >= lift_at),
            expected[k],
            expected[k] - max(expected),
            confidence,
            math.log1p(chars),
            mass / total,
            mass / core_mass,
            chars / core_chars,
            links / chars if chars else 0.0,
            core_density,
            1 - mass / raw_mass if raw_mass else 0.0,
            heads,
            paragraphs,
            len(kept),
            heads / len(kept) if kept else 0.0,
            paragraphs / len(kept) if kept else 0.0,
            e.content_hint,
            e.chrome,
            float(scoring._repeated(doc, index)),
            e.depth,
            *(float(e.tag == tag) for tag in TAGS),
        ]
        out.append((features, (lo, hi), (lo, hi) == (clo, chi)))
    return out


def gather(data: Path, datasets: Sequence[str]) -> list[Candidate]:
    found: list[Candidate] = []
    for page in load_all(data, datasets):
        html = page_html(page)
        options = candidates(html)
        for features, (lo, hi), chosen in options:
            with forced_extent(lo, hi):
                doc = parse(html)
                selection = scoring.select(doc)
                text = render(doc, selection) if selection else ""
            found.append(
                Candidate(
                    page.uid, page.dataset, features, wcxb_page(text, page.truth)["f1"], chosen
                )
            )
    return found


def report(found: list[Candidate]) -> list[str]:
    from sklearn.ensemble import GradientBoostingRegressor  # bench-only dependency

    pages: dict[str, list[Candidate]] = {}
    for c in found:
        pages.setdefault(c.page, []).append(c)
    rule = {
        page: next(c.f1 for c in cs if c.chosen)
        for page, cs in pages.items()
        if any(c.chosen for c in cs)
    }
    datasets = list(dict.fromkeys(c.dataset for c in found))
    lines = [
        "| dataset (pages) | rule | ring oracle | learned, held out | change | noise (2 SE)"
        " | pages up / down |",
        "|---|---|---|---|---|---|---|",
    ]
    for held in datasets:
        test = [p for p in rule if pages[p][0].dataset == held]
        train = [c for p in rule if pages[p][0].dataset != held for c in pages[p]]
        model = GradientBoostingRegressor(
            n_estimators=150,
            max_depth=3,
            learning_rate=0.05,
            subsample=0.8,
            min_samples_leaf=20,
            random_state=0,
        )
        model.fit(
            [c.features for c in train],
            [c.f1 - rule[c.page] for c in train],
            sample_weight=[1.0 / len(pages[c.page]) for c in train],
        )
        diffs = []
        for p in test:
            gains = model.predict([c.features for c in pages[p]])
            best = max(range(len(gains)), key=gains.__getitem__)
            diffs.append(pages[p][best].f1 - rule[p] if gains[best] > 0 else 0.0)
        before = mean(rule[p] for p in test)
        oracle = mean(max(c.f1 for c in pages[p]) for p in test)
        lines.append(
            f"| {held} ({len(test)}) | {before:.4f} | {oracle:.4f} | {before + mean(diffs):.4f} "
            f"| {mean(diffs):+.4f} | ±{noise(diffs):.4f} "
            f"| {sum(d > 0.05 for d in diffs)} / {sum(d < -0.05 for d in diffs)} |"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    args = parser.parse_args(argv)
    found = gather(args.data, _names(args.datasets, DATASETS))
    print("\n".join(report(found)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
