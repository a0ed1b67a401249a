"""The embedded index: canonical texts in process, bounded, snapshotted to disk.

Only canonical texts are indexed (a copy is found through its canonical), each
under a sequence number. Records live in fixed-size numpy chunks and keys in a
log-structured ``KeyIndex``; a record is visible while it is among the last
``max_docs`` canonicals and younger than ``window_s``, and whole chunks and
segments are freed once they fall out of both bounds.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

import numpy as np

from worker.dedup import minhash, snapshot
from worker.dedup.keyindex import KeyIndex, Segment
from worker.dedup.minhash import Sketch, Sketcher, doc_key, pack_sample, unpack_sample
from worker.dedup.verify import MAX_PER_KEY, Candidate, Thresholds, cluster_of, decide
from worker.records import DedupVerdict

SNAPSHOT_VERSION = 1


class _Chunk:
    """``rows`` consecutive records, column by column (-inf ``ts``: no record)."""

    __slots__ = ("doc_ids", "exact", "samples", "shingles", "ts")

    def __init__(self, rows: int) -> None:
        self.shingles = np.zeros(rows, dtype=np.int32)  # distinct shingle count
        self.exact = np.zeros((rows, 16), dtype=np.uint8)
        self.ts = np.full(rows, -np.inf)
        self.doc_ids: list[str | None] = [None] * rows
        self.samples: list[bytes | None] = [None] * rows

    def put(self, row: int, doc_id: str, sketch: Sketch, ts: float) -> None:
        self.shingles[row] = sketch.size
        self.exact[row] = np.frombuffer(sketch.exact, dtype=np.uint8)
        self.ts[row] = ts
        self.doc_ids[row] = doc_id
        self.samples[row] = pack_sample(sketch.sample)

    def get(self, row: int) -> Candidate:
        sketch = Sketch(
            exact=self.exact[row].tobytes(),
            size=int(self.shingles[row]),
            sample=unpack_sample(self.samples[row] or b""),
        )
        return Candidate(self.doc_ids[row] or "", sketch)


class MemoryDeduper:
    def __init__(
        self,
        *,
        window_s: float = 7 * 86400,
        max_docs: int = 1_000_000,
        thresholds: Thresholds | None = None,
        snapshot_path: str | None = None,
        clock: Callable[[], float] = time.time,
        chunk_docs: int = 4096,
    ) -> None:
        """``chunk_docs``: records per chunk, the unit in which memory is freed."""
        self.window_s = window_s
        self.max_docs = max_docs
        self.thresholds = thresholds or Thresholds()
        self.snapshot_path = snapshot_path
        self._clock = clock
        self.chunk_docs = chunk_docs
        self._sketcher = Sketcher()
        self._keys = KeyIndex(min(1024, chunk_docs), max(chunk_docs, max_docs // 8))
        self._chunks: dict[int, _Chunk] = {}
        self._next = 0  # seq of the next canonical
        self._last_ts = -np.inf
        if snapshot_path and os.path.exists(snapshot_path):
            self.load(snapshot_path)

    # --- the Deduper protocol ---------------------------------------------------------------

    def check(self, doc_id: str, text: str, tokens: np.ndarray | None = None) -> DedupVerdict:
        """``tokens``: the text's ``Sketcher.token_hashes``, when computed elsewhere."""
        sketch = self._sketcher.sketch(text, tokens)
        now = self._clock()
        id_key = doc_key(doc_id)
        keys = np.append(sketch.keys, np.uint64(id_key))
        candidates = []
        for seq in sorted(self._keys.lookup(keys, MAX_PER_KEY)):
            cand = self._visible(seq, now)
            if cand is None:
                continue
            if cand.doc_id == doc_id:  # a replay: the same article, never its own copy
                return DedupVerdict("new", cluster_of(cand.sketch))
            candidates.append(cand)
        verdict = decide(sketch, candidates, self.thresholds)
        if verdict is not None:
            return verdict
        self._insert(doc_id, sketch, keys, now)
        return DedupVerdict("new", cluster_of(sketch))

    def close(self) -> None:
        if self.snapshot_path:
            self.snapshot(self.snapshot_path)

    # --- bounds -----------------------------------------------------------------------------

    def __len__(self) -> int:
        """Records still held (visible or awaiting eviction)."""
        return sum(int(np.isfinite(c.ts).sum()) for c in self._chunks.values())

    def _floor(self, now: float) -> int:
        """The oldest seq that may still be visible; frees the chunks below it."""
        floor = self._next - self.max_docs
        horizon = now - self.window_s
        while self._chunks:
            first = min(self._chunks)
            chunk = self._chunks[first]
            base = first * self.chunk_docs
            full = base + self.chunk_docs <= self._next
            if base + self.chunk_docs <= floor or (full and chunk.ts.max() < horizon):
                del self._chunks[first]
                continue
            return max(floor, base)
        return max(floor, self._next)

    def _visible(self, seq: int, now: float) -> Candidate | None:
        chunk = self._chunks.get(seq // self.chunk_docs)
        row = seq % self.chunk_docs
        if chunk is None or seq < self._next - self.max_docs:
            return None
        if chunk.ts[row] < now - self.window_s:
            return None
        return chunk.get(row)

    def _insert(self, doc_id: str, sketch: Sketch, keys: np.ndarray, now: float) -> None:
        seq = self._next
        self._next += 1
        self._last_ts = max(self._last_ts, now)
        chunk = self._chunks.get(seq // self.chunk_docs)
        if chunk is None:
            chunk = self._chunks[seq // self.chunk_docs] = _Chunk(self.chunk_docs)
        chunk.put(seq % self.chunk_docs, doc_id, sketch, self._last_ts)
        self._keys.add(keys, seq, self._floor(now))

    # --- snapshots --------------------------------------------------------------------------

    def snapshot(self, path: str) -> None:
        """Write the index to ``path`` atomically."""
        snapshot.write_atomically(path, self._export())

    def load(self, path: str) -> None:
        """Replace the index with the snapshot at ``path``."""
        self._import(snapshot.read(path))

    def _export(self) -> dict[str, np.ndarray]:
        floor = self._floor(self._clock())
        seqs = [
            base * self.chunk_docs + row
            for base, chunk in sorted(self._chunks.items())
            for row in np.flatnonzero(np.isfinite(chunk.ts)).tolist()
            if base * self.chunk_docs + row >= floor
        ]
        rows = [(self._chunks[s // self.chunk_docs], s % self.chunk_docs) for s in seqs]
        ids = [c.doc_ids[r] or "" for c, r in rows]
        samples = [c.samples[r] or b"" for c, r in rows]
        segment = self._keys.compacted(floor)
        meta = {"version": SNAPSHOT_VERSION, "format": minhash.FORMAT, "next": self._next}
        return {
            "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
            "seq": np.array(seqs, dtype=np.int64),
            "ts": np.array([c.ts[r] for c, r in rows], dtype=np.float64),
            "size": np.array([c.shingles[r] for c, r in rows], dtype=np.int32),
            "exact": np.array([c.exact[r] for c, r in rows], dtype=np.uint8).reshape(-1, 16),
            **snapshot.pack_bytes("id", [i.encode() for i in ids]),
            **snapshot.pack_bytes("sample", samples),
            "key": np.empty(0, np.uint64) if segment is None else segment.keys,
            "key_seq": np.empty(0, np.int64) if segment is None else segment.seqs,
        }

    def _import(self, z: dict[str, np.ndarray]) -> None:
        meta = json.loads(z["meta"].tobytes())
        if meta.get("version") != SNAPSHOT_VERSION or meta.get("format") != minhash.FORMAT:
            raise ValueError(f"incompatible dedup snapshot: {meta}")
        seqs, ts, size, exact = z["seq"], z["ts"], z["size"], z["exact"]
        ids = snapshot.unpack_bytes(z, "id")
        samples = snapshot.unpack_bytes(z, "sample")
        keys, key_seqs = z["key"], z["key_seq"]
        self._chunks = {}
        self._next = int(meta["next"])
        for i, seq in enumerate(seqs.tolist()):
            chunk = self._chunks.get(seq // self.chunk_docs)
            if chunk is None:
                chunk = self._chunks[seq // self.chunk_docs] = _Chunk(self.chunk_docs)
            row = seq % self.chunk_docs
            chunk.shingles[row], chunk.exact[row], chunk.ts[row] = size[i], exact[i], ts[i]
            chunk.doc_ids[row] = ids[i].decode()
            chunk.samples[row] = samples[i]
        self._last_ts = float(ts.max()) if ts.size else -np.inf
        first = int(seqs[0]) if seqs.size else self._next
        self._keys = KeyIndex(self._keys.buffer_docs, self._keys.max_segment_docs)
        if keys.size:
            self._keys.restore(Segment(keys, key_seqs, first, self._next - 1))
