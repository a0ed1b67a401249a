"""Reading past what the Kafka client cannot decode.

kafka-python raises from ``poll()`` when a fetched batch fails to decode (a codec it lacks,
a failed CRC, a header key that is not UTF-8, a truncated record). The position stays on
that batch, so every later poll raises again: one bad batch would stop its partition, and
the worker, for good. Installed once, ``install`` makes the client's batch reader yield one
placeholder record per offset of the batch it could not decode (no key, no value, one
``UNREADABLE_HEADER`` naming the reason) and go on with the next batch. The pipeline turns
each placeholder into a dead letter, so every offset still ends as exactly one outcome.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

from kafka.consumer.fetcher import ConsumerRecord, Fetcher
from kafka.errors import CorruptRecordError, UnsupportedCodecError
from kafka.record import MemoryRecords

from worker.deadletter import UNREADABLE_HEADER
from worker.logs import get_logger

log = get_logger("worker.kafka")

# Every record batch (any magic) starts: base offset int64, batch length int32, ...
_LOG_OVERHEAD = 12
_MAGIC_AT = 16
_LAST_OFFSET_DELTA_AT = 23  # magic 2 only

_original: Any = None


def install() -> bool:
    """Make the client's batch reader lenient (idempotent). False when this kafka-python
    does not have the reader it wraps: then a batch it cannot decode still stops its
    partition, and the worker says so in its log and on /readyz."""
    global _original
    partition_records = getattr(Fetcher, "PartitionRecords", None)
    unpack = getattr(partition_records, "_unpack_records", None)
    if unpack is None:
        return False
    if getattr(unpack, "_lenient", False):
        return True
    _original = unpack
    _lenient_unpack._lenient = True  # type: ignore[attr-defined]
    partition_records._unpack_records = _lenient_unpack  # type: ignore[union-attr]
    return True


def _lenient_unpack(
    self: Any, tp: Any, records: Any, key_deserializer: Any, value_deserializer: Any
) -> Iterator[ConsumerRecord]:
    raw = getattr(records, "_buffer", None)
    if raw is None:
        yield from _original(self, tp, records, key_deserializer, value_deserializer)
        return
    raw = memoryview(raw)
    start = 0
    while True:
        rest = records if start == 0 else MemoryRecords(bytes(raw[start:]))
        try:
            yield from _original(self, tp, rest, key_deserializer, value_deserializer)
            return
        except Exception as exc:
            found = failing_batch(raw, start, self.next_fetch_offset)
            if found is None:
                raise
            last, end = found
            reason = unreadable_reason(exc)
            detail = f"{type(exc).__name__}: {exc}"[:300]
            log.error(
                "unreadable_batch",
                topic=tp.topic,
                partition=tp.partition,
                first_offset=self.next_fetch_offset,
                last_offset=last,
                reason=reason,
                error=detail,
            )
            for offset in range(self.next_fetch_offset, last + 1):
                yield placeholder(tp, offset, self.leader_epoch, reason, detail)
            self.next_fetch_offset = last + 1
            start = end
            if start >= len(raw):
                self.drain()
                return


def failing_batch(raw: memoryview, start: int, next_offset: int) -> tuple[int, int] | None:
    """(last offset, end position) of the first batch from ``start`` that still holds
    ``next_offset``: the one the decoder stopped in. None when the bytes do not frame."""
    pos = start
    while pos + _LOG_OVERHEAD <= len(raw):
        base, length = struct.unpack_from(">qi", raw, pos)
        if length <= 0:
            return None
        end = pos + _LOG_OVERHEAD + length
        last = base
        if pos + _LAST_OFFSET_DELTA_AT + 4 <= len(raw) and raw[pos + _MAGIC_AT] >= 2:
            last = base + struct.unpack_from(">i", raw, pos + _LAST_OFFSET_DELTA_AT)[0]
        if last >= next_offset:
            return last, min(end, len(raw))
        pos = end
    return None


def unreadable_reason(exc: BaseException) -> str:
    """A bounded metric label for why a batch could not be read."""
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, UnicodeDecodeError) or isinstance(cause, UnicodeDecodeError):
        return "bad_header_key"
    if isinstance(exc, UnsupportedCodecError):
        return "unsupported_codec"
    if isinstance(exc, CorruptRecordError):
        return "corrupt_record"
    return "unreadable_record"


def placeholder(tp: Any, offset: int, leader_epoch: int, reason: str, detail: str) -> Any:
    headers = [(UNREADABLE_HEADER, f"{reason}: {detail}".encode("utf-8", "replace"))]
    return ConsumerRecord(
        tp.topic, tp.partition, leader_epoch, offset, -1, 0, None, None, headers, None, -1, -1, -1
    )
