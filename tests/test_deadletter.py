"""The dead-letter format, written and read in one module: what replay-dlq puts back is what
came in, and a dead letter without the input's value is never replayed."""

from __future__ import annotations

from worker.deadletter import (
    DLQ_HEADERS,
    dead_letter_headers,
    dead_letter_key,
    error_reason,
    replay_headers,
    replayable,
)
from worker.model import Origin

ORIGIN = Origin("pages.raw", 3, 41)


def test_a_dead_letter_says_why_and_where_and_replays_to_the_input_headers() -> None:
    incoming = [("trace", b"t1"), ("error_reason", b"forged")]  # a worker header is not kept
    headers = dead_letter_headers(
        incoming, ORIGIN, stage="decode", reason="malformed_json", detail="line 1", failed_at="T"
    )
    written = dict(headers)
    assert written["error_reason"] == b"malformed_json"
    assert (written["source_topic"], written["source_partition"]) == (b"pages.raw", b"3")
    assert written["source_offset"] == b"41" and written["failed_at"] == b"T"
    assert error_reason(written) == "malformed_json" and replayable(written)
    assert {k for k, _ in headers} - {"trace"} <= set(DLQ_HEADERS)
    assert replay_headers(headers) == [("trace", b"t1")]


def test_a_dead_letter_without_the_value_is_not_replayable() -> None:
    headers = dead_letter_headers(
        [], ORIGIN, stage="kafka", reason="corrupt", detail="", failed_at="T", value_omitted=True
    )
    assert not replayable(dict(headers))
    assert error_reason({}) == ""


def test_a_record_with_neither_key_nor_value_is_keyed_by_its_source_position() -> None:
    assert dead_letter_key(None, None, ORIGIN) == b"pages.raw/3/41"
    assert dead_letter_key(None, b"v", ORIGIN) is None
    assert dead_letter_key(b"k", None, ORIGIN) == b"k"
