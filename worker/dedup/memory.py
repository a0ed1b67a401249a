"""The embedded index: canonical texts in process, bounded, snapshotted to disk.

Each version of a page (``pages``) is a row under a sequence number, found by its page
id; only canonical versions are indexed by text (a copy is found through its
canonical). Records live in fixed-size numpy chunks and keys in a
log-structured ``KeyIndex``; a record is visible while it is among the last
``max_docs`` canonicals and younger than ``window_s``, and whole chunks and
segments are freed once they fall out of both bounds.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Collection
from dataclasses import replace

import numpy as np

from worker.dedup import MAX_DOCS, WINDOW_S, changelog, minhash, pages, race, snapshot
from worker.dedup.kept import KeptOutputs
from worker.dedup.keyindex import KeyIndex, Segment
from worker.dedup.minhash import Sketch, Sketcher, doc_key, pack_sample, unpack_sample
from worker.dedup.verify import MAX_PER_KEY, Candidate, Thresholds, cluster_of, decide
from worker.model import Correction, DedupVerdict, Reservation, Sighting

SNAPSHOT_VERSION = 2
MAX_PENDING = 100_000  # unconfirmed rows remembered for ``release``; older ones are kept
_HASHES = ("raw", "chash", "prev", "cluster")  # 16-byte columns: see _Chunk


class _Chunk:
    """``rows`` consecutive records, column by column (-inf ``ts``: no record).

    A row is one version of a page: its text's sketch (canonical versions only), the hash
    of its text as extracted (``raw``), its published ``content_hash`` (``chash``), the
    previous version's (``prev``), and the verdict it was published with."""

    __slots__ = (
        "chash",
        "cluster",
        "doc_ids",
        "dup_of",
        "exact",
        "fetched",
        "origins",
        "prev",
        "raw",
        "samples",
        "shingles",
        "similarity",
        "status",
        "ts",
        "version",
    )

    def __init__(self, rows: int) -> None:
        self.shingles = np.zeros(rows, dtype=np.int32)  # distinct shingle count
        self.exact = np.zeros((rows, 16), dtype=np.uint8)
        self.ts = np.full(rows, -np.inf)
        self.fetched = np.full(rows, np.nan)  # fetch time (``race.fetch_time``), nan: unknown
        self.doc_ids: list[str | None] = [None] * rows
        self.samples: list[bytes | None] = [None] * rows
        for name in _HASHES:
            setattr(self, name, np.zeros((rows, 16), dtype=np.uint8))
        self.status = np.zeros(rows, dtype=np.uint8)  # index in pages.STATUSES
        self.version = np.zeros(rows, dtype=np.int32)
        self.similarity = np.full(rows, np.nan, dtype=np.float32)
        self.origins: list[str | None] = [None] * rows
        self.dup_of: list[str | None] = [None] * rows

    def put(
        self, row: int, doc_id: str, sketch: Sketch, ts: float, seen: Sighting, v: DedupVerdict
    ) -> None:
        self.shingles[row] = sketch.size
        self.exact[row] = np.frombuffer(sketch.exact, dtype=np.uint8)
        self.ts[row] = ts
        self.fetched[row] = np.nan if seen.fetched_at is None else seen.fetched_at
        self.doc_ids[row] = doc_id
        canonical = v.status in ("new", "updated")
        self.samples[row] = pack_sample(sketch.sample) if canonical else None
        self.raw[row] = _hex16(seen.raw_hash)
        self.chash[row] = _hex16(seen.content_hash)
        self.prev[row] = _hex16(v.previous_content_hash or "")
        self.cluster[row] = _hex16(v.cluster_id)
        self.status[row] = pages.STATUSES.index(v.status)
        self.version[row] = v.version
        self.similarity[row] = np.nan if v.similarity is None else v.similarity
        self.origins[row] = seen.origin
        self.dup_of[row] = v.duplicate_of

    def verdict(self, row: int, reservation: Reservation) -> DedupVerdict:
        """The verdict this row was published with (a replay's)."""
        sim = float(self.similarity[row])
        version = int(self.version[row])
        return DedupVerdict(
            pages.STATUSES[int(self.status[row])],
            self.cluster[row].tobytes().hex(),
            self.dup_of[row],
            None if np.isnan(sim) else round(sim, 4),
            version,
            self.prev[row].tobytes().hex() if version > 1 else None,
            reservation,
        )

    def clear(self, row: int) -> None:
        self.ts[row] = -np.inf
        self.doc_ids[row] = self.origins[row] = self.dup_of[row] = self.samples[row] = None

    def get(self, row: int) -> Candidate:
        sketch = Sketch(
            exact=self.exact[row].tobytes(),
            size=int(self.shingles[row]),
            sample=unpack_sample(self.samples[row] or b""),
        )
        return Candidate(self.doc_ids[row] or "", sketch)


def _legacy_columns(rows: int) -> dict[str, np.ndarray]:
    """A version-1 snapshot's rows as first versions published ``new`` from an unknown
    origin, extracted-text hash unknown (so the next crawl of each is one update)."""
    empty = [b""] * rows
    return {
        **{name: np.zeros((rows, 16), dtype=np.uint8) for name in _HASHES},
        "status": np.zeros(rows, dtype=np.uint8),
        "version": np.ones(rows, dtype=np.int32),
        "similarity": np.full(rows, np.nan, dtype=np.float32),
        **snapshot.pack_bytes("origin", empty),
        **snapshot.pack_bytes("dup_of", empty),
    }


def _hex16(digest: str) -> np.ndarray:
    """A 32-digit hex digest as 16 bytes (zeros when absent)."""
    return np.frombuffer(bytes.fromhex(digest) if digest else bytes(16), dtype=np.uint8)


class MemoryDeduper:
    def __init__(
        self,
        *,
        window_s: float = WINDOW_S,
        max_docs: int = MAX_DOCS,
        thresholds: Thresholds | None = None,
        snapshot_path: str | None = None,
        clock: Callable[[], float] = time.time,
        chunk_docs: int = 4096,
        race_window_s: float = race.WINDOW_S,
        kept_outputs: int = race.KEPT_OUTPUTS,
    ) -> None:
        """``chunk_docs``: records per chunk, the unit in which memory is freed;
        ``race_window_s``: how late an earlier-fetched copy may take over (``dedup.race``),
        0: never; ``kept_outputs``: published canonicals kept for corrections."""
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
        # rows not yet confirmed, oldest first, with their index keys (for the changelog)
        self._pending: dict[int, np.ndarray] = {}
        # The race rule's state (``dedup.race``): besides each row's fetch time (a column),
        # the outputs of canonicals published ``new`` (to correct them) and, per unconfirmed
        # takeover, the row it demoted (restored if the takeover is released). A demotion
        # rewrites the demoted row in place (status, duplicate_of, similarity).
        self.race_window_s = race_window_s
        self._kept = KeptOutputs(kept_outputs)
        # takeover row -> the canonical row it demoted, and the correction (again on a replay)
        self._demoted: dict[int, tuple[int, Correction]] = {}
        if snapshot_path and os.path.exists(snapshot_path):
            self.load(snapshot_path)

    # --- the Deduper protocol ---------------------------------------------------------------

    def check(
        self,
        doc_id: str,
        text: str,
        tokens: np.ndarray | None = None,
        sighting: Sighting | None = None,
    ) -> DedupVerdict:
        """``tokens``: the text's ``Sketcher.token_hashes``, when computed elsewhere;
        ``sighting``: the record's origin and hashes (default: ``pages.default_sighting``).
        A new version is stored at once (reserved): ``confirm`` or ``release`` it."""
        seen = sighting or pages.default_sighting(doc_id, text)
        sketch = self._sketcher.sketch(text, tokens)
        now = self._clock()
        id_key = doc_key(doc_id)
        keys = np.append(sketch.keys, np.uint64(id_key))
        candidates, own, rows = [], [], {}
        for seq in sorted(self._keys.lookup(keys, MAX_PER_KEY)):
            found = self._row(seq, now)
            if found is None:
                continue
            chunk, row = found
            if chunk.doc_ids[row] == doc_id:  # a version of this page, never its own copy
                if chunk.origins[row] == seen.origin:  # a replay: the same verdict again
                    verdict = chunk.verdict(row, Reservation(doc_id, seen.origin, seq))
                    taken = self._demoted.get(seq)  # an unsettled takeover: correct again
                    return verdict if taken is None else replace(verdict, correction=taken[1])
                own.append((chunk, row))
            elif chunk.status[row] < pages.CANONICAL:
                candidate = chunk.get(row)
                candidates.append(candidate)
                rows[(candidate.doc_id, cluster_of(candidate.sketch))] = seq
        latest = None
        if own:
            chunk, row = max(own, key=lambda cr: int(cr[0].version[cr[1]]))
            version, chash = int(chunk.version[row]), chunk.chash[row].tobytes().hex()
            if chunk.raw[row].tobytes().hex() == seen.raw_hash:
                return pages.unchanged(chunk.cluster[row].tobytes().hex(), version, chash)
            latest = (version, chash)
        decided = decide(sketch, candidates, self.thresholds)
        if decided is not None:  # the canonical's own cluster (a takeover keeps its copy's)
            seq = rows[(decided.duplicate_of or "", decided.cluster_id)]
            chunk = self._chunks[seq // self.chunk_docs]
            cluster = chunk.cluster[seq % self.chunk_docs].tobytes().hex()
            decided = replace(decided, cluster_id=cluster)
            if latest is None:
                taken = self._take_over(doc_id, sketch, keys, now, seen, decided, seq)
                if taken is not None:
                    return taken
        verdict = pages.new_version(
            decided, cluster_of(sketch), latest, doc_id, seen.origin, self._next
        )
        self._insert(doc_id, sketch, keys if decided is None else keys[-1:], now, seen, verdict)
        return verdict

    def keep_output(self, reservation: Reservation, topic: str | None, value: bytes) -> None:
        """The output a verdict ``new`` is published with, kept for a correction."""
        if self.race_window_s > 0:
            self._kept.put(reservation.doc_id, reservation.origin, topic, value)

    def confirm(self, reservations: list[Reservation]) -> None:
        """Their outputs were published: keep them (in snapshots too)."""
        for r in reservations:
            self._pending.pop(r.token, None)
            self._demoted.pop(r.token, None)

    def release(self, reservations: list[Reservation]) -> None:
        """Their outputs were not published: forget those versions, as if never seen."""
        for r in reservations:
            if self._pending.pop(r.token, None) is None:
                continue  # confirmed already, or unknown
            chunk = self._chunks.get(r.token // self.chunk_docs)
            row = r.token % self.chunk_docs
            if chunk is not None and chunk.origins[row] == r.origin:
                chunk.clear(row)
                demoted = self._demoted.pop(r.token, None)
                if demoted is not None:  # the takeover never happened: canonical again
                    self._restore(demoted[0])

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

    def _row(self, seq: int, now: float) -> tuple[_Chunk, int] | None:
        """The chunk and row of a visible record."""
        chunk = self._chunks.get(seq // self.chunk_docs)
        row = seq % self.chunk_docs
        if chunk is None or seq < self._next - self.max_docs:
            return None
        if chunk.ts[row] < now - self.window_s:
            return None
        return chunk, row

    def _insert(
        self,
        doc_id: str,
        sketch: Sketch,
        keys: np.ndarray,
        now: float,
        seen: Sighting,
        verdict: DedupVerdict,
    ) -> None:
        """A new row; ``keys``: the text's keys and the page id's (a duplicate: the id's)."""
        seq = self._next
        self._next += 1
        self._last_ts = max(self._last_ts, now)
        chunk = self._chunks.get(seq // self.chunk_docs)
        if chunk is None:
            chunk = self._chunks[seq // self.chunk_docs] = _Chunk(self.chunk_docs)
        chunk.put(seq % self.chunk_docs, doc_id, sketch, self._last_ts, seen, verdict)
        self._keys.add(keys, seq, self._floor(now))
        self._pending[seq] = keys
        while len(self._pending) > MAX_PENDING:
            oldest = next(iter(self._pending))
            del self._pending[oldest]
            self._demoted.pop(oldest, None)

    # --- the race rule (``dedup.race``) -----------------------------------------------------

    def _take_over(
        self,
        doc_id: str,
        sketch: Sketch,
        keys: np.ndarray,
        now: float,
        seen: Sighting,
        decided: DedupVerdict,
        canonical: int,
    ) -> DedupVerdict | None:
        """When this first version of a page, a copy of the row ``canonical``, was fetched
        earlier than it (``race.takes_over``): store it as the canonical and demote that row;
        None when the rule does not apply (or that row's output is no longer kept)."""
        chunk, row = self._chunks[canonical // self.chunk_docs], canonical % self.chunk_docs
        other = chunk.doc_ids[row] or ""
        fetched = float(chunk.fetched[row])
        if chunk.status[row] != 0 or int(chunk.version[row]) != 1:  # only a first "new"
            return None
        if canonical in self._pending:  # not yet published: it may still be released
            return None
        if not race.takes_over(
            seen.fetched_at,
            None if np.isnan(fetched) else fetched,
            now,
            float(chunk.ts[row]),
            self.race_window_s,
        ):
            return None
        kept = self._kept.get(other, chunk.origins[row] or "")
        if kept is None or self._versions(other, now) != 1:
            return None
        correction = Correction(other, *kept, decided.status, decided.similarity)
        reservation = Reservation(doc_id, seen.origin, self._next)
        verdict = DedupVerdict(
            "new", decided.cluster_id, None, None, 1, None, reservation, correction
        )
        self._insert(doc_id, sketch, keys, now, seen, verdict)
        self._demoted[reservation.token] = (canonical, correction)
        chunk.status[row] = pages.STATUSES.index(decided.status)
        chunk.dup_of[row] = doc_id
        chunk.similarity[row] = np.nan if decided.similarity is None else decided.similarity
        return verdict

    def _versions(self, doc_id: str, now: float) -> int:
        """How many versions of the page ``doc_id`` the index holds."""
        seqs = self._keys.lookup(np.array([doc_key(doc_id)], dtype=np.uint64), MAX_PER_KEY)
        found = (self._row(seq, now) for seq in seqs)
        return sum(1 for f in found if f is not None and f[0].doc_ids[f[1]] == doc_id)

    def _restore(self, seq: int) -> None:
        """A demoted row canonical (``new``) again: its takeover was released."""
        chunk = self._chunks.get(seq // self.chunk_docs)
        row = seq % self.chunk_docs
        if chunk is not None and chunk.doc_ids[row] is not None:
            chunk.status[row] = 0
            chunk.dup_of[row] = None
            chunk.similarity[row] = np.nan

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
            "fetched": np.array([c.fetched[r] for c, r in rows], dtype=np.float64),
            "size": np.array([c.shingles[r] for c, r in rows], dtype=np.int32),
            "exact": np.array([c.exact[r] for c, r in rows], dtype=np.uint8).reshape(-1, 16),
            **{
                name: np.array([getattr(c, name)[r] for c, r in rows], np.uint8).reshape(-1, 16)
                for name in _HASHES
            },
            "status": np.array([c.status[r] for c, r in rows], dtype=np.uint8),
            "version": np.array([c.version[r] for c, r in rows], dtype=np.int32),
            "similarity": np.array([c.similarity[r] for c, r in rows], dtype=np.float32),
            **snapshot.pack_bytes("origin", [(c.origins[r] or "").encode() for c, r in rows]),
            **snapshot.pack_bytes("dup_of", [(c.dup_of[r] or "").encode() for c, r in rows]),
            **snapshot.pack_bytes("id", [i.encode() for i in ids]),
            **snapshot.pack_bytes("sample", samples),
            "key": np.empty(0, np.uint64) if segment is None else segment.keys,
            "key_seq": np.empty(0, np.int64) if segment is None else segment.seqs,
        }

    def _import(self, z: dict[str, np.ndarray]) -> None:
        meta = json.loads(z["meta"].tobytes())
        if meta.get("version") not in (1, SNAPSHOT_VERSION) or meta.get("format") != minhash.FORMAT:
            raise ValueError(f"incompatible dedup snapshot: {meta}")
        seqs, ts, size, exact = z["seq"], z["ts"], z["size"], z["exact"]
        fetched = z["fetched"] if "fetched" in z else np.full(seqs.size, np.nan)
        if meta["version"] == 1:  # before recrawl state: canonical first versions, hashes unknown
            z = {**z, **_legacy_columns(seqs.size)}
        ids = snapshot.unpack_bytes(z, "id")
        samples = snapshot.unpack_bytes(z, "sample")
        origins = snapshot.unpack_bytes(z, "origin")
        dup_of = snapshot.unpack_bytes(z, "dup_of")
        keys, key_seqs = z["key"], z["key_seq"]
        self._chunks, self._pending, self._demoted = {}, {}, {}
        self._next = int(meta["next"])
        for i, seq in enumerate(seqs.tolist()):
            chunk = self._chunks.get(seq // self.chunk_docs)
            if chunk is None:
                chunk = self._chunks[seq // self.chunk_docs] = _Chunk(self.chunk_docs)
            row = seq % self.chunk_docs
            chunk.shingles[row], chunk.exact[row], chunk.ts[row] = size[i], exact[i], ts[i]
            chunk.fetched[row] = fetched[i]
            chunk.doc_ids[row] = ids[i].decode()
            chunk.samples[row] = samples[i] or None
            for name in _HASHES:
                getattr(chunk, name)[row] = z[name][i]
            chunk.status[row], chunk.version[row] = z["status"][i], z["version"][i]
            chunk.similarity[row] = z["similarity"][i]
            chunk.origins[row] = origins[i].decode()
            chunk.dup_of[row] = dup_of[i].decode() or None
        self._last_ts = float(ts.max()) if ts.size else -np.inf
        first = int(seqs[0]) if seqs.size else self._next
        self._keys = KeyIndex(self._keys.buffer_docs, self._keys.max_segment_docs)
        if keys.size:
            self._keys.restore(Segment(keys, key_seqs, first, self._next - 1))

    # --- the changelog (``changelog.py``): rows out after publishing, back in on start-up ---

    def export_entries(
        self, reservations: list[Reservation], replacing: Collection[int] = ()
    ) -> changelog.Entries:
        """The rows behind ``reservations`` not yet confirmed, for the changelog: call it
        before ``confirm`` (a replay's row, confirmed already, is in the changelog).

        ``replacing``: tokens of rows changed in place since they were written (a
        correction demoting a published canonical to a copy); they are written again as
        ``REPLACES`` rows, which supersede the earlier row of the same page and origin.
        A canonical demoted by one of ``reservations`` (``dedup.race``) is one of those."""
        reservations, replacing = self._with_demoted(reservations, replacing)
        picked, tokens, kinds = [], set(), []
        for r in reservations:
            if r.token in tokens:  # a replay of a row of the same batch
                continue
            tokens.add(r.token)
            keys = self._pending.get(r.token)
            chunk = self._chunks.get(r.token // self.chunk_docs)
            row = r.token % self.chunk_docs
            if chunk is None or chunk.origins[row] != r.origin:
                continue
            if r.token in replacing and chunk.status[row] >= pages.CANONICAL:
                keys, kind = np.empty(0, np.uint64), changelog.REPLACES  # a copy: no sketch
            elif keys is None:
                continue
            else:
                kind = changelog.ADD
            picked.append((chunk, row, keys))
            kinds.append(kind)
        if not picked:
            return changelog.empty()
        # a canonical's keys: exact key, band keys, page id key (a copy's: the page id key)
        bands = [k[1:-1] if c.status[r] < pages.CANONICAL else k[:0] for c, r, k in picked]
        samples = [unpack_sample(c.samples[r] or b"") for c, r, _ in picked]
        rows = [(c, r) for c, r, _ in picked]
        return changelog.Entries(
            kind=np.array(kinds, np.uint8),
            ts=np.array([c.ts[r] for c, r in rows], np.float64),
            size=np.array([c.shingles[r] for c, r in rows], np.int32),
            version=np.array([c.version[r] for c, r in rows], np.int32),
            similarity=np.array([c.similarity[r] for c, r in rows], np.float32),
            status=np.array([c.status[r] for c, r in rows], np.uint8),
            exact=np.array([c.exact[r] for c, r in rows], np.uint8).reshape(-1, 16),
            **{
                name: np.array([getattr(c, name)[r] for c, r in rows], np.uint8).reshape(-1, 16)
                for name in _HASHES
            },
            band_counts=np.array([b.size for b in bands], np.uint8),
            bands=np.concatenate(bands).astype(np.uint64),
            sample_counts=np.array([s.size for s in samples], np.uint16),
            samples=np.concatenate(samples).astype(np.uint32),
            doc_ids=[c.doc_ids[r] or "" for c, r in rows],
            origins=[c.origins[r] or "" for c, r in rows],
            dup_of=[c.dup_of[r] for c, r in rows],
        )

    def _with_demoted(
        self, reservations: list[Reservation], replacing: Collection[int]
    ) -> tuple[list[Reservation], set[int]]:
        """``reservations`` plus the rows their takeovers demoted, and those rows' tokens
        added to ``replacing``: the changelog must hold the demotion, not only the takeover."""
        out, replaced = list(reservations), set(replacing)
        for r in reservations:
            demoted = self._demoted.get(r.token)
            if demoted is None:
                continue
            seq = demoted[0]
            chunk = self._chunks.get(seq // self.chunk_docs)
            row = seq % self.chunk_docs
            if chunk is not None and chunk.doc_ids[row] is not None:
                out.append(Reservation(chunk.doc_ids[row] or "", chunk.origins[row] or "", seq))
                replaced.add(seq)
        return out, replaced

    def clear_index(self) -> None:
        """Forget everything (before a rebuild from the changelog replaces a snapshot)."""
        self._chunks, self._pending, self._next, self._last_ts = {}, {}, 0, -np.inf
        self._demoted = {}
        self._keys = KeyIndex(self._keys.buffer_docs, self._keys.max_segment_docs)

    def apply_entries(self, e: changelog.Entries) -> int:
        """Add changelog rows as confirmed rows, in bulk; rows already out of the window are
        left out. A ``REPLACES`` row first clears the page's row read at the same origin (a
        correction). Returns the rows added."""
        now = self._clock()
        live = np.flatnonzero(e.ts >= now - self.window_s)
        if live.size == 0:
            return 0
        if live.size < len(e):
            e = changelog.select(e, live)
        n = len(e)
        for i in np.flatnonzero(e.kind == changelog.REPLACES).tolist():
            self._clear_page_row(e.doc_ids[i], e.origins[i], now)
        first = self._next
        canonical = e.status < pages.CANONICAL
        packed = pack_sample(e.samples)
        sample_ends = (np.cumsum(e.sample_counts, dtype=np.int64) * 3).tolist()
        sample_starts = [0, *sample_ends[:-1]]
        for at in range(n):  # ragged columns row by row; the fixed ones below, per chunk
            seq = first + at
            chunk = self._chunks.get(seq // self.chunk_docs)
            if chunk is None:
                chunk = self._chunks[seq // self.chunk_docs] = _Chunk(self.chunk_docs)
            row = seq % self.chunk_docs
            chunk.doc_ids[row] = e.doc_ids[at]
            chunk.origins[row] = e.origins[at]
            chunk.dup_of[row] = e.dup_of[at]
            if canonical[at]:
                chunk.samples[row] = packed[sample_starts[at] : sample_ends[at]]
        lo = 0
        while lo < n:  # fixed-size columns: one slice per chunk
            seq = first + lo
            chunk, row = self._chunks[seq // self.chunk_docs], seq % self.chunk_docs
            hi = min(n, lo + self.chunk_docs - row)
            rows = slice(row, row + hi - lo)
            chunk.shingles[rows], chunk.exact[rows] = e.size[lo:hi], e.exact[lo:hi]
            chunk.ts[rows] = e.ts[lo:hi]
            for name in _HASHES:
                getattr(chunk, name)[rows] = getattr(e, name)[lo:hi]
            chunk.status[rows], chunk.version[rows] = e.status[lo:hi], e.version[lo:hi]
            chunk.similarity[rows] = e.similarity[lo:hi]
            lo = hi
        self._next += n
        self._last_ts = max(self._last_ts, float(e.ts.max()))
        # keys: a canonical's exact key, its band keys and its page id's; a copy's page id's
        seqs = np.arange(first, first + n, dtype=np.int64)
        exact_keys = e.exact[:, :8].copy().view("<u8").ravel() ^ np.uint64(minhash._EXACT_SALT)
        id_keys = np.fromiter((doc_key(d) for d in e.doc_ids), dtype=np.uint64, count=n)
        band_seqs = np.repeat(seqs, e.band_counts.astype(np.int64))
        keys = np.concatenate([exact_keys[canonical], e.bands, id_keys])
        key_seqs = np.concatenate([seqs[canonical], band_seqs, seqs])
        self._keys.add_many(keys, key_seqs, self._floor(now))
        return n

    def _clear_page_row(self, doc_id: str, origin: str, now: float) -> None:
        for seq in self._keys.lookup(np.array([doc_key(doc_id)], np.uint64), 1 << 30):
            found = self._row(seq, now)
            if found is not None:
                chunk, row = found
                if chunk.doc_ids[row] == doc_id and chunk.origins[row] == origin:
                    chunk.clear(row)
