"""The decode stage: one Kafka message (value + headers) -> a Page.

The form is chosen by the Kafka ``content-type`` header, else by sniffing the
value (after unpacking gzip, capped): (A) a JSON envelope, one of the aliased
crawler formats or a CloudEvents structured event; (B) raw page bytes described
by headers; (C) one WARC record; (D) a Frontera msgpack message. Every form ends
in ``draft.to_page``, so the checks and charset rules are the same for all.

``decode`` raises ``SkipRecord`` for records deliberately not published
(``http_status``, ``not_html``, ``empty_body``, ``body_not_sent``, ``fetch_failed``,
``not_page``, ``warc_request``, ``warc_metadata``, ``warc_revisit``, ``warc_warcinfo``,
``warc_continuation``, ``warc_other_type``, ``warc_not_a_page``) and ``BadRecord`` for
input that cannot be used (``null_value``, ``bad_value_type``, ``malformed_json``,
``malformed_msgpack``, ``missing_url``, ``bad_url``, ``bad_field_type``,
``invalid_base64``, ``ambiguous_body``, ``too_large``, ``gzip_bomb``, ``bad_gzip``,
``bad_warc``, ``truncated_warc``, ``unsupported_encoding``, ``unsupported_batch``);
nothing else, whatever the input: an unforeseen failure becomes ``decode_error``.
"""

from __future__ import annotations

from collections.abc import Sequence

from worker.decode.cloudevents import draft_from_cloudevent
from worker.decode.draft import Draft, to_page
from worker.decode.envelope import draft_from_record, parse_json
from worker.decode.frontera import MSGPACK_TYPES, draft_from_frontera, is_frontera_msgpack
from worker.decode.gunzip import gunzip_capped, is_gzip
from worker.decode.kafka_headers import header_map
from worker.decode.mediatype import (
    CLOUDEVENTS_BATCH,
    UNKNOWN_TYPES,
    WARC_TYPES,
    is_json_type,
    parse_content_type,
)
from worker.decode.raw import draft_from_raw
from worker.decode.warc import draft_from_warc, is_warc
from worker.model import BadRecord, Page, SkipRecord

DEFAULT_MAX_BYTES = 16 * 2**20
UTF8_BOM = b"\xef\xbb\xbf"

__all__ = ["DEFAULT_MAX_BYTES", "decode"]


def decode(
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]] | None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Page:
    try:
        return _decode(value, headers, max_bytes)
    except (SkipRecord, BadRecord):
        raise
    except Exception as exc:  # the contract: only Skip/Bad leave this stage
        raise BadRecord("decode_error", f"unexpected {type(exc).__name__} while decoding") from exc


def _decode(value: object, headers: Sequence[tuple[str, bytes]] | None, max_bytes: int) -> Page:
    if value is None:
        raise BadRecord("null_value", "the message has no value (tombstone)")
    if not isinstance(value, bytes | bytearray | memoryview):
        raise BadRecord("bad_value_type", f"the value is a {type(value).__name__}, not bytes")
    value = bytes(value)
    if len(value) > max_bytes:
        raise BadRecord("too_large", f"the value exceeds the {max_bytes}-byte cap")
    if is_gzip(value):
        value = gunzip_capped(value, max_bytes)
    kafka = header_map(headers)
    draft = _draft(value, kafka, max_bytes)
    try:
        return to_page(draft, max_bytes)
    except (SkipRecord, BadRecord) as exc:
        # Name the record in the outcome when it named itself (offline tools join on it).
        if isinstance(draft.record_id, str | int) and not isinstance(draft.record_id, bool):
            exc.record_id = str(draft.record_id)
        raise


def _draft(value: bytes, kafka: dict[str, str], max_bytes: int) -> Draft:
    media, _ = parse_content_type(kafka.get("content-type"))
    if media == CLOUDEVENTS_BATCH:
        raise BadRecord("unsupported_batch", "CloudEvents batches are not accepted")
    if media in UNKNOWN_TYPES:
        media = _sniff(value)
    if is_json_type(media):
        record = parse_json(value)
        if "specversion" in record:
            return draft_from_cloudevent(record, kafka, max_bytes)
        return draft_from_record(record, kafka, max_bytes)
    if media in WARC_TYPES:
        return draft_from_warc(value, max_bytes)
    if media in MSGPACK_TYPES:
        return draft_from_frontera(value, max_bytes)
    return draft_from_raw(value, kafka)


def _sniff(value: bytes) -> str:
    head = value[:64].removeprefix(UTF8_BOM).lstrip()
    if head[:1] in (b"{", b"["):
        return "application/json"
    if is_warc(head):
        return "application/warc"
    if is_frontera_msgpack(value):
        return "application/msgpack"
    return ""
