"""A compact uint64 -> seq multimap for the in-process index.

Python dicts cost ~100 bytes per entry and every canonical text brings 34 keys
(exact hash, doc id, 32 LSH bands), so keys live in sorted numpy segments
(12 bytes an entry: ``Segment``) instead, log-structured: new keys go to a small dict, which
is sealed into a sorted segment every ``buffer_docs`` texts; adjacent segments
merge while they double in size, up to ``max_segment_docs`` so that old
segments can be dropped whole once their texts leave the window.
"""

from __future__ import annotations

import numpy as np


class Segment:
    """Sorted keys and the seq of each, held as uint32 offsets from ``first`` (12 bytes an
    entry instead of 16 with int64 seqs: 136 bytes per canonical text)."""

    __slots__ = ("first", "keys", "last", "offsets")

    def __init__(self, keys: np.ndarray, seqs: np.ndarray, first: int, last: int) -> None:
        seqs = np.asarray(seqs, dtype=np.int64)
        if seqs.size:  # a snapshot may hold keys of rows cleared below its first row
            first = min(first, int(seqs.min()))
            last = max(last, int(seqs.max()))
        if last - first >= 2**32:
            raise ValueError(f"segment spans {last - first + 1} seqs, over 2^32")
        self.keys = keys  # uint64, sorted
        self.offsets = (seqs - first).astype(np.uint32)  # same order
        self.first = first  # lowest seq it holds
        self.last = last  # highest seq it holds

    @property
    def seqs(self) -> np.ndarray:
        """The seqs (int64), in the keys' order."""
        return self.offsets.astype(np.int64) + self.first

    @property
    def docs(self) -> int:
        return self.last - self.first + 1


def merge(a: Segment, b: Segment, floor: int) -> Segment:
    """Two adjacent segments as one, without the entries below ``floor``.

    A stable argsort of two sorted runs is a linear merge (numpy's timsort).
    """
    keys = np.concatenate([a.keys, b.keys])
    seqs = np.concatenate([a.seqs, b.seqs])
    order = np.argsort(keys, kind="stable")
    return trim(Segment(keys[order], seqs[order], a.first, b.last), floor)


def trim(seg: Segment, floor: int) -> Segment:
    """``seg`` without the entries below ``floor``."""
    if floor <= seg.first:
        return seg
    live = seg.offsets >= floor - seg.first
    return Segment(seg.keys[live], seg.seqs[live], floor, seg.last)


class KeyIndex:
    def __init__(self, buffer_docs: int = 1024, max_segment_docs: int = 131_072) -> None:
        self.buffer_docs = buffer_docs
        self.max_segment_docs = max(buffer_docs, max_segment_docs)
        self.segments: list[Segment] = []
        self._buffer: dict[int, list[int]] = {}
        self._buffer_first: int | None = None
        self._buffer_last = -1

    def add(self, keys: np.ndarray, seq: int, floor: int) -> None:
        """Record ``keys`` for ``seq`` (seqs only grow); ``floor`` is the oldest live seq."""
        for key in keys.tolist():
            self._buffer.setdefault(key, []).append(seq)
        if self._buffer_first is None:
            self._buffer_first = seq
        self._buffer_last = seq
        if seq - self._buffer_first + 1 >= self.buffer_docs:
            self._seal(floor)

    def add_many(self, keys: np.ndarray, seqs: np.ndarray, floor: int) -> None:
        """Record many (key, seq) pairs at once, seqs all above those held (a rebuild):
        sorted straight into segments of at most ``max_segment_docs`` seqs, no dict."""
        if keys.size == 0:
            return
        self._seal(floor)
        first, last = int(seqs.min()), int(seqs.max())
        for lo in range(first, last + 1, self.max_segment_docs):
            hi = min(last, lo + self.max_segment_docs - 1)
            part_keys, part_seqs = keys, seqs
            if lo > first or hi < last:
                mine = (seqs >= lo) & (seqs <= hi)
                part_keys, part_seqs = keys[mine], seqs[mine]
            order = np.argsort(part_keys)  # lookups sort a key's seqs themselves
            self.segments.append(Segment(part_keys[order], part_seqs[order], lo, hi))
            self._merge_tail(floor)
        self.evict(floor)

    def lookup(self, keys: np.ndarray, per_key: int) -> set[int]:
        """The ``per_key`` highest seqs stored under each of ``keys`` (live or not)."""
        found: dict[int, list[int]] = {}
        for seg in self.segments:
            if seg.keys.size == 0:
                continue
            lo = np.searchsorted(seg.keys, keys)
            hit = seg.keys[np.minimum(lo, seg.keys.size - 1)] == keys
            for i in np.flatnonzero(hit).tolist():
                hi = np.searchsorted(seg.keys, keys[i], side="right")
                seqs = seg.offsets[lo[i] : hi].astype(np.int64) + seg.first
                found.setdefault(i, []).extend(seqs.tolist())
        buffer = self._buffer
        for i, key in enumerate(keys.tolist()):
            seqs = buffer.get(key)
            if seqs:
                found.setdefault(i, []).extend(seqs)
        out: set[int] = set()
        for seqs in found.values():
            out.update(sorted(seqs)[-per_key:])
        return out

    def evict(self, floor: int) -> None:
        """Drop the segments whose every seq is below ``floor``."""
        while self.segments and self.segments[0].last < floor:
            self.segments.pop(0)

    def entries(self) -> int:
        """Keys held, buffer included (what memory use follows)."""
        return sum(s.keys.size for s in self.segments) + sum(map(len, self._buffer.values()))

    def _seal(self, floor: int) -> None:
        if self._buffer_first is None:
            return
        keys = np.fromiter(
            (k for k, seqs in self._buffer.items() for _ in seqs),
            dtype=np.uint64,
        )
        seqs = np.fromiter((s for ss in self._buffer.values() for s in ss), dtype=np.int64)
        order = np.argsort(keys, kind="stable")
        self.segments.append(
            Segment(keys[order], seqs[order], self._buffer_first, self._buffer_last)
        )
        self._buffer, self._buffer_first = {}, None
        self._merge_tail(floor)
        self.evict(floor)

    def _merge_tail(self, floor: int) -> None:
        """Merge the newest segments while they double in size (log-structured)."""
        segs = self.segments
        while (
            len(segs) >= 2
            and segs[-2].docs <= segs[-1].docs
            and segs[-2].docs + segs[-1].docs <= self.max_segment_docs
        ):
            last = segs.pop()
            segs[-1] = merge(segs[-1], last, floor)

    def compacted(self, floor: int) -> Segment | None:
        """Everything (buffer included) as one segment at or above ``floor``: for snapshots."""
        self._seal(floor)
        if not self.segments:
            return None
        out = self.segments[0]
        for seg in self.segments[1:]:
            out = merge(out, seg, floor)
        return trim(out, floor)

    def restore(self, segment: Segment) -> None:
        self.segments = [segment]
        self._buffer, self._buffer_first = {}, None
