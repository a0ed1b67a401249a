"""The in-process index: bounds, eviction, snapshots, and its key index."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.kit.stories import article, brief, syndicate, text
from worker.dedup import make_deduper
from worker.dedup.keyindex import KeyIndex
from worker.dedup.memory import MemoryDeduper


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_copy_outside_the_time_window_is_new() -> None:
    clock = Clock()
    d = MemoryDeduper(window_s=3600, clock=clock)
    paras = article(20)
    d.check("a", text(paras))
    clock.now += 3000
    assert d.check("b", syndicate(paras, 1)).duplicate_of == "a"
    clock.now += 700  # "a" is now 3700 s old
    assert d.check("c", syndicate(paras, 2)).status == "new"


def test_copy_beyond_the_size_cap_is_new() -> None:
    d = MemoryDeduper(max_docs=5)
    paras = article(21)
    d.check("a", text(paras))
    for i in range(4):
        d.check(f"other-{i}", text(article(200 + i, paragraphs=3)))
    assert d.check("b", syndicate(paras, 1)).duplicate_of == "a"
    d.check("other-4", text(article(204, paragraphs=3)))  # the sixth canonical pushes "a" out
    assert d.check("c", syndicate(paras, 2)).status == "new"


def test_memory_is_freed_as_records_leave_the_bounds() -> None:
    d = MemoryDeduper(max_docs=100, chunk_docs=64)
    for i in range(640):
        d.check(f"d{i}", f"Item {i} of the ledger was filed by clerk {i * 7919 % 10007}.")
    assert len(d) <= 100 + 64
    assert d._keys.entries() <= 300 * 34  # 640 * 34 were inserted
    late, early = (
        f"Item {i} of the ledger was filed by clerk {i * 7919 % 10007}." for i in (600, 20)
    )
    assert d.check("late", late).status == "exact_duplicate"
    assert d.check("early", early).status == "new"


def test_snapshot_restores_decisions_and_clusters(tmp_path: Path) -> None:
    path = str(tmp_path / "dedup.snap")
    d = make_deduper("memory", snapshot_path=path)
    story, other = article(22), article(23)
    first = d.check("a", text(story))
    d.check("b", text(other))
    d.check("c", brief(3))
    for i in range(1500):  # enough to seal and merge index segments
        d.check(f"n{i}", f"Notice {i}: the {i % 13}th meeting of committee {i * 31 % 997} is off.")
    d.close()
    assert os.path.exists(path)
    assert not [p for p in os.listdir(tmp_path) if p != "dedup.snap"]  # no temp file left

    restored = make_deduper("memory", snapshot_path=path)
    assert restored.check("a", text(story)) == first  # replay after a restart
    copy = restored.check("z", syndicate(story, 5))
    assert (copy.status, copy.duplicate_of, copy.cluster_id) == (
        "near_duplicate",
        "a",
        first.cluster_id,
    )
    assert restored.check("y", brief(3)).duplicate_of == "c"
    notice = f"Notice 77: the {77 % 13}th meeting of committee {77 * 31 % 997} is off."
    assert restored.check("x", notice).status == "exact_duplicate"
    assert restored.check("w", text(article(24))).status == "new"


def test_an_empty_index_snapshot_loads(tmp_path: Path) -> None:
    """A worker stopped before it indexed anything must still start again."""
    path = str(tmp_path / "dedup.snap")
    make_deduper("memory", snapshot_path=path).close()
    assert os.path.exists(path)
    restored = make_deduper("memory", snapshot_path=path)
    assert restored.check("a", text(article(27))).status == "new"


def test_snapshot_is_replaced_atomically(tmp_path: Path) -> None:
    path = tmp_path / "dedup.snap"
    d = MemoryDeduper()
    d.check("a", text(article(25)))
    d.snapshot(str(path))
    before = path.read_bytes()
    d.check("b", text(article(26)))
    d.snapshot(str(path))
    assert path.read_bytes() != before
    assert sorted(os.listdir(tmp_path)) == ["dedup.snap"]


def test_incompatible_snapshot_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dedup.snap"
    with path.open("wb") as f:
        np.savez(f, meta=np.frombuffer(b'{"version": 99, "format": 1, "next": 0}', np.uint8))
    with pytest.raises(ValueError, match="incompatible"):
        MemoryDeduper(snapshot_path=str(path))


def test_key_index_finds_keys_across_segments_and_caps_each_key() -> None:
    index = KeyIndex(buffer_docs=4, max_segment_docs=16)
    for seq in range(40):
        index.add(np.array([seq, 1000 + seq % 3, 5000], dtype=np.uint64), seq, floor=0)
    assert len(index.segments) > 1
    assert index.lookup(np.array([7], dtype=np.uint64), per_key=16) == {7}
    assert index.lookup(np.array([1001], dtype=np.uint64), per_key=3) == {31, 34, 37}
    assert index.lookup(np.array([5000, 39], dtype=np.uint64), per_key=2) == {38, 39}
    index.evict(floor=32)
    assert all(seg.last >= 32 for seg in index.segments)
    assert index.lookup(np.array([3], dtype=np.uint64), per_key=16) == set()
