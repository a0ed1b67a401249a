"""The dead-letter format: the input's key, value and headers, plus why and where it failed.

A dead letter must always be producible, whatever the input's headers hold: kafka-python
refuses a null header value or a key that does not encode, and a refused dead letter
would stop the partition. So the headers are made safe here, and when that changed
anything the originals travel along, encoded, in ``original_headers``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

# Headers the worker adds to a dead letter (``replay-dlq`` strips them before replaying).
DLQ_HEADERS = (
    "error_stage",
    "error_reason",
    "error_detail",
    "source_topic",
    "source_partition",
    "source_offset",
    "failed_at",
    "value_omitted",
    "original_headers",
)

# The mark of a record the Kafka client could not decode (see ``worker.kafka_records``).
UNREADABLE_HEADER = "ingest-unreadable"


def unreadable(headers: Iterable[tuple[Any, Any]] | None) -> tuple[str, str] | None:
    """(reason, detail) when ``headers`` mark a record the client could not decode."""
    for key, value in headers or ():
        if key == UNREADABLE_HEADER:
            reason, _, detail = _as_bytes(value).decode("utf-8", "replace").partition(": ")
            return reason, detail
    return None


def safe_headers(headers: Sequence[tuple[Any, Any]]) -> list[tuple[str, bytes]]:
    """The input's headers as a producer takes them, less the worker's own; with
    ``original_headers`` (JSON list of [key, value] in base64, null kept) when any
    had to change."""
    out: list[tuple[str, bytes]] = []
    changed = False
    for key, value in headers:
        if key in DLQ_HEADERS or key == UNREADABLE_HEADER:
            continue
        safe_key = _safe_key(key)
        safe_value = _as_bytes(value)
        changed |= safe_key != key or not isinstance(value, bytes)
        out.append((safe_key, safe_value))
    if changed:
        original = [
            [_b64(_key_bytes(k)), None if v is None else _b64(_as_bytes(v))]
            for k, v in headers
            if k not in DLQ_HEADERS and k != UNREADABLE_HEADER
        ]
        out.append(("original_headers", orjson.dumps(original)))
    return out


def _safe_key(key: Any) -> str:
    if isinstance(key, str):
        try:
            key.encode("utf-8")
            return key
        except UnicodeEncodeError:  # lone surrogates (undecodable bytes kept as escapes)
            return _key_bytes(key).decode("utf-8", "replace")
    return _key_bytes(key).decode("utf-8", "replace")


def _key_bytes(key: Any) -> bytes:
    if isinstance(key, str):
        try:
            return key.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return key.encode("utf-8", "surrogatepass")
    return _as_bytes(key)


def _as_bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    return str(value).encode("utf-8", "replace")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
