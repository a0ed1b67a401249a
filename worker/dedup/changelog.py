"""The in-process dedupe index kept in Kafka: a changelog topic, replayed on start-up.

The memory backend forgets everything on SIGKILL; without a second service the broker
is the only durable store at hand. So every dedupe decision whose output was published
is also written, as a row, to a changelog topic (``<output topic>.dedup-changelog``),
acknowledged by the broker *before* the batch's offsets are committed: output and
changelog acked, then commit, the same at-least-once order as the output itself. A
worker that starts reads the changelog's recent window back into its index.

Why start-up stays bounded without log compaction (Tansu does not compact): the index
keeps nothing older than ``INGEST_DEDUP_WINDOW_S`` anyway, so only rows written within
that window are read. The first offset of the window is found per partition with
``offsets_for_times``, or, on a broker that does not answer it by timestamp (Tansu),
by a binary search over record timestamps; the topic is created with
``retention.ms`` = window + a day so a broker that deletes old segments keeps it small.
Rows are never updated in place: a later row with ``kind == REPLACES`` for the same page
id and origin replaces the earlier one (a correction), so compaction is not needed.

Record format (one Kafka message per batch of rows, ``FORMAT`` below): a 10-byte header
(magic, format, the MinHash format, row count) and one zstd frame holding the rows
column by column. Columnar lets zstd squeeze what repeats (a canonical's cluster id is
its exact hash, an unchanged page's two text hashes agree, first versions have no
previous hash); the bottom-k samples are stored as deltas split into byte planes, which
zstd codes in about two bytes a value instead of three. Only what the index needs is
stored: a duplicate's row has no sketch (copies are found through their canonical), the
exact and page-id keys are derived again, and a canonical brings its 32 LSH band keys.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import zstandard

from worker.dedup import minhash
from worker.model import TransientError

MAGIC = b"IWDC"
FORMAT = 1
ADD, REPLACES = 0, 1  # row kinds: a new row; a row replacing the page's row at this origin
_HEADER = struct.Struct("<4sBBI")
_HASHES = ("exact", "raw", "chash", "prev", "cluster")
_ROW_COLUMNS = (
    "kind", "ts", "size", "version", "similarity", "status", "band_counts", "sample_counts",
    *_HASHES,
)  # fmt: skip
MAX_ROWS_PER_MESSAGE = 2048  # ~2 MB at most: far below any broker's message limit
WRITER_HEADER = "writer"
REBUILD_BLOCK_ROWS = 65_536  # rows applied at once while catching up (one key sort each)


class ChangelogNotWritten(TransientError):
    """The broker did not acknowledge the changelog: hold the batch, never commit it."""


@dataclass
class Entries:
    """Rows of the index, column by column (``ts`` seconds; hashes 16 bytes each).

    ``bands``/``samples`` are flat, ``band_counts``/``sample_counts`` say how many belong
    to each row (0 bands: a duplicate, found only by its page id)."""

    kind: np.ndarray  # uint8: ADD | REPLACES
    ts: np.ndarray  # float64
    size: np.ndarray  # int32: distinct shingles
    version: np.ndarray  # int32
    similarity: np.ndarray  # float32, NaN when none
    status: np.ndarray  # uint8: index in pages.STATUSES
    exact: np.ndarray  # (n, 16) uint8 and so on for the other hashes
    raw: np.ndarray
    chash: np.ndarray
    prev: np.ndarray
    cluster: np.ndarray
    band_counts: np.ndarray  # uint8
    bands: np.ndarray  # uint64, flat
    sample_counts: np.ndarray  # uint16
    samples: np.ndarray  # uint32 (24-bit values), flat, sorted within a row
    doc_ids: list[str] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)
    dup_of: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.ts.size)


def empty() -> Entries:
    return Entries(
        kind=np.zeros(0, np.uint8),
        ts=np.zeros(0, np.float64),
        size=np.zeros(0, np.int32),
        version=np.zeros(0, np.int32),
        similarity=np.zeros(0, np.float32),
        status=np.zeros(0, np.uint8),
        **{name: np.zeros((0, 16), np.uint8) for name in _HASHES},
        band_counts=np.zeros(0, np.uint8),
        bands=np.zeros(0, np.uint64),
        sample_counts=np.zeros(0, np.uint16),
        samples=np.zeros(0, np.uint32),
    )


def concat(parts: list[Entries]) -> Entries:
    if not parts:
        return empty()
    arrays = {
        name: np.concatenate([getattr(p, name) for p in parts])
        for name in (*_ROW_COLUMNS, "bands", "samples")
    }
    return Entries(
        **arrays,
        doc_ids=[d for p in parts for d in p.doc_ids],
        origins=[o for p in parts for o in p.origins],
        dup_of=[d for p in parts for d in p.dup_of],
    )


def _encode_strings(items: Iterable[str | None]) -> tuple[np.ndarray, bytes]:
    raw = [(s or "").encode("utf-8", "surrogatepass") for s in items]
    return np.array([len(b) for b in raw], dtype="<u4"), b"".join(raw)


def _decode_strings(lengths: np.ndarray, blob: bytes) -> list[str]:
    ends = np.cumsum(lengths, dtype=np.int64).tolist()
    starts = [0, *ends[:-1]]
    return [blob[s:e].decode("utf-8", "surrogatepass") for s, e in zip(starts, ends, strict=True)]


def _row_starts(counts: np.ndarray) -> np.ndarray:
    ends = np.cumsum(counts, dtype=np.int64)
    return ends - counts.astype(np.int64)


def _delta(samples: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Each row's sorted values as differences (the first as it is)."""
    out = samples.astype(np.int64)
    if out.size:
        out[1:] -= samples[:-1].astype(np.int64)
        starts = _row_starts(counts)[counts > 0]
        out[starts] = samples[starts]
    return out.astype("<u4")


def _undelta(deltas: np.ndarray, counts: np.ndarray) -> np.ndarray:
    if deltas.size == 0:
        return deltas.astype(np.uint32)
    total = np.cumsum(deltas, dtype=np.int64)
    before = np.concatenate([[0], total])[_row_starts(counts)]
    return (total - np.repeat(before, counts.astype(np.int64))).astype(np.uint32)


def encode_batch(e: Entries, level: int = 3) -> bytes:
    """One message's value: the header and the rows' columns in one zstd frame."""
    n = len(e)
    ids_len, ids = _encode_strings(e.doc_ids)
    origin_len, origins = _encode_strings(e.origins)
    dup_len, dups = _encode_strings(e.dup_of)
    planes = _delta(e.samples, e.sample_counts).view(np.uint8).reshape(-1, 4)[:, :3]
    body = b"".join(
        [
            e.kind.astype(np.uint8).tobytes(),
            e.ts.astype("<f8").tobytes(),
            e.size.astype("<i4").tobytes(),
            e.version.astype("<i4").tobytes(),
            e.similarity.astype("<f4").tobytes(),
            e.status.astype(np.uint8).tobytes(),
            e.band_counts.astype(np.uint8).tobytes(),
            e.sample_counts.astype("<u2").tobytes(),
            ids_len.tobytes(),
            origin_len.tobytes(),
            dup_len.tobytes(),
            *(np.ascontiguousarray(getattr(e, name), np.uint8).tobytes() for name in _HASHES),
            e.bands.astype("<u8").tobytes(),
            np.ascontiguousarray(planes.T).tobytes(),  # low bytes, then middle, then high
            ids,
            origins,
            dups,
        ]
    )
    head = _HEADER.pack(MAGIC, FORMAT, minhash.FORMAT, n)
    return head + zstandard.ZstdCompressor(level=level).compress(body)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, dtype: str | type, count: int) -> np.ndarray:
        size = np.dtype(dtype).itemsize * count
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += size
        return out

    def blob(self, size: int) -> bytes:
        out = self.data[self.pos : self.pos + size]
        self.pos += size
        return out


def decode_batch(value: bytes) -> Entries:
    """The rows of one changelog message (ValueError when it is not one we can read)."""
    if len(value) < _HEADER.size:
        raise ValueError("not a dedup changelog record: too short")
    magic, fmt, sketch_format, n = _HEADER.unpack_from(value)
    if magic != MAGIC or fmt != FORMAT or sketch_format != minhash.FORMAT:
        raise ValueError(f"not a dedup changelog record of format {FORMAT}: {magic!r} {fmt}")
    r = _Reader(zstandard.ZstdDecompressor().decompress(value[_HEADER.size :]))
    kind = r.take(np.uint8, n)
    ts, size, version = r.take("<f8", n), r.take("<i4", n), r.take("<i4", n)
    similarity, status = r.take("<f4", n), r.take(np.uint8, n)
    band_counts, sample_counts = r.take(np.uint8, n), r.take("<u2", n)
    ids_len, origin_len, dup_len = r.take("<u4", n), r.take("<u4", n), r.take("<u4", n)
    hashes = {name: r.take(np.uint8, 16 * n).reshape(n, 16) for name in _HASHES}
    bands = r.take("<u8", int(band_counts.sum(dtype=np.int64)))
    values = int(sample_counts.sum(dtype=np.int64))
    planes = r.take(np.uint8, 3 * values).reshape(3, values)
    padded = np.zeros((values, 4), dtype=np.uint8)
    padded[:, :3] = planes.T
    samples = _undelta(padded.view("<u4").ravel(), sample_counts)
    doc_ids = _decode_strings(ids_len, r.blob(int(ids_len.sum(dtype=np.int64))))
    origins = _decode_strings(origin_len, r.blob(int(origin_len.sum(dtype=np.int64))))
    dups = _decode_strings(dup_len, r.blob(int(dup_len.sum(dtype=np.int64))))
    return Entries(
        kind=kind,
        ts=ts,
        size=size,
        version=version,
        similarity=similarity,
        status=status,
        **hashes,
        band_counts=band_counts,
        bands=bands,
        sample_counts=sample_counts,
        samples=samples,
        doc_ids=doc_ids,
        origins=origins,
        dup_of=[d or None for d in dups],
    )


def select(e: Entries, rows: np.ndarray) -> Entries:
    """The rows ``rows`` (ascending indices) of ``e``, with their bands and samples."""
    picked = np.zeros(len(e), dtype=bool)
    picked[rows] = True
    take = rows.tolist()
    return Entries(
        **{name: getattr(e, name)[rows] for name in _ROW_COLUMNS},
        bands=e.bands[np.repeat(picked, e.band_counts.astype(np.int64))],
        samples=e.samples[np.repeat(picked, e.sample_counts.astype(np.int64))],
        doc_ids=[e.doc_ids[i] for i in take],
        origins=[e.origins[i] for i in take],
        dup_of=[e.dup_of[i] for i in take],
    )


def split(e: Entries, rows: int = MAX_ROWS_PER_MESSAGE) -> list[Entries]:
    """``e`` in parts of at most ``rows`` rows (one message each)."""
    if len(e) <= rows:
        return [e]
    return [select(e, np.arange(lo, min(lo + rows, len(e)))) for lo in range(0, len(e), rows)]


# --- writing ---------------------------------------------------------------------------------


class ChangelogWriter:
    """Writes rows with the worker's producer and waits for the broker's acknowledgement."""

    def __init__(
        self, producer: Any, topic: str, writer_id: str, ack_timeout_s: float = 130.0
    ) -> None:
        self.producer, self.topic, self.writer_id = producer, topic, writer_id
        self.ack_timeout_s = ack_timeout_s
        self.rows_written = 0
        self.bytes_written = 0

    def write(self, entries: Entries) -> None:
        """Raises ``ChangelogNotWritten`` unless every row is acknowledged."""
        if not len(entries):
            return
        key = self.writer_id.encode()
        headers = [(WRITER_HEADER, key)]
        futures, size = [], 0
        try:
            for part in split(entries):
                value = encode_batch(part)
                size += len(value)
                sent = self.producer.send(self.topic, key=key, value=value, headers=headers)
                futures.append(sent)
            self.producer.flush(timeout=self.ack_timeout_s)
            for future in futures:
                future.get(timeout=self.ack_timeout_s)
        except Exception as exc:  # whatever failed, the batch must not commit
            raise ChangelogNotWritten(f"dedup changelog not acknowledged: {exc}") from exc
        self.rows_written += len(entries)
        self.bytes_written += size


# --- reading ---------------------------------------------------------------------------------


@dataclass
class ReadStats:
    messages: int = 0
    rows: int = 0
    skipped_old: int = 0  # messages older than the window, read past without decoding
    unreadable: int = 0  # messages that are not changelog records (logged, skipped)
    seconds: float = 0.0


def window_start(consumer: Any, tp: Any, since_ms: int, end: int) -> int:
    """The first offset of ``tp`` holding a record at or after ``since_ms``.

    ``offsets_for_times`` when the broker answers it by timestamp; else (Tansu answers
    the log start) a binary search over the records' timestamps, which assumes they
    only grow within a partition as each writer's do (rows out of order near the cut are
    at worst read or skipped by the timestamp filter)."""
    try:
        found = consumer.offsets_for_times({tp: since_ms}).get(tp)
    except Exception:  # noqa: BLE001 - not supported: search the whole log instead
        lo = int(consumer.beginning_offsets([tp])[tp])
    else:
        if found is None:  # no record at or after since_ms
            return end
        if found.timestamp >= since_ms:
            return int(found.offset)
        lo = int(found.offset)
    hi = end  # the first offset whose timestamp >= since_ms is in [lo, hi]
    while lo < hi:
        mid = (lo + hi) // 2
        at, ts = _record_at(consumer, tp, mid)
        if at is None:
            return lo
        if ts >= since_ms:
            hi = mid
        else:
            lo = at + 1
    return lo


def _record_at(consumer: Any, tp: Any, offset: int) -> tuple[int | None, int]:
    consumer.seek(tp, offset)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for record in consumer.poll(timeout_ms=200, max_records=1).get(tp, []):
            return record.offset, record.timestamp
    return None, 0


class Follower:
    """Reads the changelog: the recent window at start-up (``catch_up``), then what other
    writers add (``poll``). ``apply`` receives the rows of each message."""

    def __init__(
        self,
        consumer: Any,
        topic: str,
        apply: Callable[[Entries], None],
        *,
        own_writer: str = "",
        on_unreadable: Callable[[str], None] | None = None,
    ) -> None:
        self.consumer, self.topic, self.apply = consumer, topic, apply
        self.own = own_writer.encode()
        self.on_unreadable = on_unreadable
        self.since_ms = 0
        self.stats = ReadStats()

    def catch_up(self, since_ms: int, timeout_s: float = 600.0) -> ReadStats:
        """Apply every row written since ``since_ms`` up to the current end of the topic."""
        from kafka import TopicPartition

        t0 = time.process_time()
        self.since_ms = since_ms
        parts = self.consumer.partitions_for_topic(self.topic) or set()
        tps = [TopicPartition(self.topic, p) for p in sorted(parts)]
        self.consumer.assign(tps)
        ends = self.consumer.end_offsets(tps) if tps else {}
        for tp in tps:
            self.consumer.seek(tp, window_start(self.consumer, tp, since_ms, ends[tp]))
        deadline = time.monotonic() + timeout_s
        waiting: list[Entries] = []  # applied in blocks: one sort per block of keys
        while tps and time.monotonic() < deadline:
            if all(self.consumer.position(tp) >= ends[tp] for tp in tps):
                break
            waiting += self._take(self.consumer.poll(timeout_ms=500), skip_own=False)
            if sum(map(len, waiting)) >= REBUILD_BLOCK_ROWS:
                self.apply(concat(waiting))
                waiting = []
        waiting += self._take(self.consumer.poll(timeout_ms=100), skip_own=False)
        if waiting:
            self.apply(concat(waiting))
        self.stats.seconds += time.process_time() - t0
        return self.stats

    def poll(self, timeout_ms: int = 0) -> int:
        """Apply what other writers added since; returns the rows applied."""
        rows = self._take(self.consumer.poll(timeout_ms=timeout_ms), skip_own=True)
        for part in rows:
            self.apply(part)
        return sum(map(len, rows))

    def close(self) -> None:
        self.consumer.close()

    def _take(self, polled: dict[Any, list[Any]], *, skip_own: bool) -> list[Entries]:
        out = []
        for records in polled.values():
            for record in records:
                self.stats.messages += 1
                if record.timestamp is not None and 0 < record.timestamp < self.since_ms:
                    self.stats.skipped_old += 1
                    continue
                if skip_own and record.key == self.own:
                    continue
                try:
                    rows = decode_batch(record.value or b"")
                except (ValueError, zstandard.ZstdError) as exc:
                    self.stats.unreadable += 1
                    if self.on_unreadable is not None:
                        self.on_unreadable(f"{type(exc).__name__}: {exc}"[:200])
                    continue
                self.stats.rows += len(rows)
                out.append(rows)
        return out
