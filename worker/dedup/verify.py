"""The decision, shared by every index backend: is this text a copy of a candidate?

Backends only find candidates (canonical texts sharing an LSH band or the exact
hash) and store sketches; this module alone decides, so the in-process and the
Redis index cannot disagree.

A copy is kept when its shingles are mostly *contained* in the other text
(|A∩B| / min(|A|,|B|)), not only when the two are similar overall: a truncated
republication keeps half of the article and its Jaccard drops to ~0.5 while its
containment stays high. (Jaccard >= 0.5 implies containment >= 0.67, so this one
rule also accepts everything a Jaccard rule at 0.5 would.) Three guards keep
hard negatives apart:

* containment must exceed what a follow-up quoting an earlier story, or an
  outlet's shared footer, reaches (both stay below ~45 % of either text; 0.6
  was chosen on the dev stream and held on other seeds);
* the smaller text must be at least ``min_ratio`` of the larger one: a short
  teaser is not the article;
* very short texts (template briefs share most of their 5-grams) count as
  copies only when every shingle of the smaller one is in the other; they are
  always compared exactly (a short text's sample is its whole set).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worker.dedup.minhash import Sketch
from worker.model import DedupVerdict

# The near-duplicate threshold (see above): the one default, exposed as the setting
# INGEST_DEDUP_CONTAINMENT.
CONTAINMENT = 0.6

# Candidates are the MAX_PER_KEY most recent canonicals under each index key:
# template briefs share band keys by the thousand, and this bounds the work.
MAX_PER_KEY = 16


@dataclass(frozen=True, slots=True)
class Thresholds:
    containment: float = CONTAINMENT  # shared shingles / shingles of the smaller text
    min_ratio: float = 0.3  # smaller text's shingles / larger text's shingles
    short: int = 50  # below this many shingles a text is "short"
    short_containment: float = 1.0  # what a short text needs: all of it (exact sets)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A canonical text already in the index."""

    doc_id: str
    sketch: Sketch


def cluster_of(sketch: Sketch) -> str:
    """A canonical's cluster id: its exact hash, so a re-inserted story keeps its id."""
    return sketch.exact.hex()


def containment(query: Sketch, stored: Sketch) -> float:
    """|A∩B| / min(|A|,|B|): exact while ``stored`` is whole, else estimated.

    ``stored`` keeps its SAMPLE smallest shingle hashes, a uniform sample of its
    set; the query's shingles up to the sample's largest value that are in it
    count ``shared * SAMPLE / |B|`` on average.
    """
    small = min(query.size, stored.size)
    if small == 0 or query.shingles is None:
        return 0.0
    sample, mine = stored.sample, query.shingles
    if stored.size > sample.size:
        mine = mine[: np.searchsorted(mine, sample[-1], side="right")]
    if mine.size == 0:
        return 0.0
    at = np.minimum(np.searchsorted(mine, sample), mine.size - 1)
    shared: float = np.count_nonzero(mine[at] == sample)
    if stored.size > sample.size:
        shared = shared * stored.size / sample.size
    return min(1.0, shared / small)


def is_copy(query: Sketch, other: Sketch, c: float, t: Thresholds) -> bool:
    small, large = sorted((query.size, other.size))
    if small == 0 or small < t.min_ratio * large:
        return False
    return c >= (t.short_containment if small < t.short else t.containment)


def decide(query: Sketch, candidates: list[Candidate], t: Thresholds) -> DedupVerdict | None:
    """The verdict for a copy of the best-matching candidate; None when the text is new.

    Ties go to the smaller doc id so that every backend names the same canonical.
    """
    best: tuple[float, str, Candidate] | None = None
    for cand in candidates:
        if cand.sketch.exact == query.exact:
            c = 2.0  # exact beats any near match
        else:
            c = containment(query, cand.sketch)
            if not is_copy(query, cand.sketch, c, t):
                continue
        if best is None or (-c, cand.doc_id) < (-best[0], best[1]):
            best = (c, cand.doc_id, cand)
    if best is None:
        return None
    c, doc_id, cand = best
    cluster = cluster_of(cand.sketch)
    if c > 1.0:
        return DedupVerdict("exact_duplicate", cluster, duplicate_of=doc_id, similarity=1.0)
    return DedupVerdict("near_duplicate", cluster, duplicate_of=doc_id, similarity=round(c, 4))
