"""The dead-letter format: the input's key, value and headers, plus why and where it failed.

Written here (``dead_letter_headers``, ``dead_letter_key``) and read here (``error_reason``,
``replay_headers``, ``replayable`` for ``replay-dlq``), so the header names live in one file.

A dead letter must always be producible, whatever the input's headers hold: kafka-python
refuses a null header value or a key that does not encode, and a refused dead letter
would stop the partition. So the headers are made safe here, and when that changed
anything the originals travel along, encoded, in ``original_headers``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from worker.model import Origin

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


def dead_letter_headers(
    headers: Sequence[tuple[Any, Any]],
    origin: Origin,
    *,
    stage: str,
    reason: str,
    detail: str,
    failed_at: str,
    value_omitted: bool = False,
) -> list[tuple[str, bytes]]:
    """A dead letter's headers: the input's (``safe_headers``), then why and where it failed;
    ``value_omitted`` when the dead letter cannot carry the input's value (not replayable)."""
    kept = safe_headers(headers)
    extra = {
        "error_stage": stage,
        "error_reason": reason,
        "error_detail": detail,
        "source_topic": origin.topic or "",
        "source_partition": "" if origin.partition is None else str(origin.partition),
        "source_offset": "" if origin.offset is None else str(origin.offset),
        "failed_at": failed_at,
    }
    kept.extend((k, v.encode("utf-8", "replace")) for k, v in extra.items())
    if value_omitted:
        kept.append(("value_omitted", reason.encode()))
    return kept


def dead_letter_key(key: bytes | None, value: bytes | None, origin: Origin) -> bytes | None:
    """The input's key; its source position when it has neither key nor value (a producer
    refuses such a record)."""
    if key is None and value is None:
        return f"{origin.topic}/{origin.partition}/{origin.offset}".encode()
    return key


def error_reason(headers: Mapping[str, bytes]) -> str:
    """Why a dead letter failed (its ``error_reason``), "" when it has none."""
    return headers.get("error_reason", b"").decode("utf-8", "replace")


def replayable(headers: Mapping[str, bytes]) -> bool:
    """Whether a dead letter still holds the input's value (else there is nothing to replay)."""
    return "value_omitted" not in headers


def replay_headers(headers: Iterable[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """A dead letter's headers less the ones the worker added."""
    return [(k, v) for k, v in headers if k not in DLQ_HEADERS]


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
