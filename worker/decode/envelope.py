"""(A) JSON envelopes: the project's own format, the aliased crawler formats, and the
entry point that also routes CloudEvents structured records.

Envelope fields: ``url`` (required), ``final_url``, ``status``, ``headers`` (object
or list of pairs), ``content_type``, ``charset``, exactly one of ``html`` |
``body_b64`` | ``text`` | ``body``, ``fetched_at``, ``source``, ``record_id``, ``metadata``.

``body`` is what a Scrapy item naturally carries (``response.text``): HTML or text as the
record's content type says, else as the body looks. ``text`` is prose, unless the record
declares HTML or the field plainly is markup (``"text": response.text`` is a common slip).
"""

from __future__ import annotations

import binascii

import orjson

from worker.decode.aliases import envelope_url, find_alias, to_envelope, unwrap_typed
from worker.decode.draft import Draft
from worker.decode.fields import MAX_HEADERS
from worker.decode.kafka_headers import context_page_url, fields_from_headers
from worker.decode.mediatype import page_kind, parse_content_type
from worker.decode.sniff import looks_like_html
from worker.model import BadRecord

BODY_FIELDS = ("html", "body_b64", "text", "body")
TEXT_OR_HTML = ("text", "body")  # fields whose kind the record's content type or looks decide
ALIASED = "json:"  # an alias table maps a crawler's text field to ``text`` knowingly
UTF8_BOM = b"\xef\xbb\xbf"
WHITESPACE = str.maketrans("", "", " \t\r\n")
URLSAFE_TO_STANDARD = str.maketrans("-_", "+/")


def parse_json(value: bytes) -> dict:
    try:
        parsed = orjson.loads(value.removeprefix(UTF8_BOM))
    except orjson.JSONDecodeError:
        raise BadRecord("malformed_json", "the value is not valid JSON") from None
    if isinstance(parsed, list):
        parsed = unwrap_typed(parsed)
    if not isinstance(parsed, dict):
        raise BadRecord("malformed_json", "the JSON value is not an object")
    return parsed


def draft_from_record(record: dict, kafka: dict[str, str], max_bytes: int) -> Draft:
    """A parsed record in the envelope format or one of the aliased crawler formats."""
    alias = find_alias(record)
    if alias is None:
        envelope, input_format = record, "json"
    else:
        envelope, input_format = to_envelope(record, alias), f"json:{alias.name}"
    return draft_from_envelope(with_header_defaults(envelope, kafka), input_format, max_bytes)


def with_header_defaults(envelope: dict, kafka: dict[str, str]) -> dict:
    """Fields the record lacks may come from Kafka headers (CloudEvents binary mode)."""
    defaults = fields_from_headers(kafka)
    missing = {key: value for key, value in defaults.items() if envelope.get(key) is None}
    return {**envelope, **missing} if missing else envelope


def draft_from_envelope(envelope: dict, input_format: str, max_bytes: int) -> Draft:
    present = [name for name in BODY_FIELDS if envelope.get(name) is not None]
    if len(present) > 1:
        raise BadRecord("ambiguous_body", f"more than one body field: {', '.join(present)}")
    draft = Draft(
        input_format=input_format,
        url=envelope.get("url"),
        final_url=envelope.get("final_url"),
        status=envelope.get("status"),
        headers=envelope.get("headers"),
        content_type=envelope.get("content_type"),
        charset=envelope.get("charset"),
        fetched_at=envelope.get("fetched_at"),
        source=envelope.get("source"),
        # ``id`` is what most JSON-lines tools call it (and the extraction scorer sends).
        record_id=envelope.get("record_id", envelope.get("id")),
        metadata=envelope.get("metadata"),
    )
    if present:
        name = present[0]
        value = envelope[name]
        if not isinstance(value, str):
            raise BadRecord("bad_field_type", f"{name} must be a string")
        draft.body = decode_base64(value, max_bytes) if name == "body_b64" else value
        draft.plain_text = name in TEXT_OR_HTML
        if name in TEXT_OR_HTML and not input_format.startswith(ALIASED):
            draft.plain_text = not _is_markup(envelope, value)
    return draft


def _is_markup(envelope: dict, value: str) -> bool:
    """A declared content type decides (``to_page`` reads a text one), else the body's looks."""
    kind = page_kind(declared_media(envelope))
    return kind == "html" or (kind == "unknown" and looks_like_html(value))


def declared_media(envelope: dict) -> str:
    """The media type the record declares (its ``content_type``, else its HTTP headers'),
    read leniently: malformed fields are reported by ``to_page``, not here."""
    declared = envelope.get("content_type")
    if not isinstance(declared, str):
        declared = _header_value(envelope.get("headers"), "content-type")
    return parse_content_type(declared)[0]


def _header_value(headers: object, wanted: str) -> str | None:
    if isinstance(headers, dict):
        pairs: list = list(headers.items())
    elif isinstance(headers, list):
        pairs = headers
    else:
        return None
    for pair in pairs[:MAX_HEADERS]:
        if isinstance(pair, dict):
            pair = (pair.get("name"), pair.get("value"))
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            continue
        name, value = pair
        if isinstance(value, list) and value:
            value = value[0]
        if isinstance(name, str) and name.strip().lower() == wanted and isinstance(value, str):
            return value
    return None


def decode_base64(value: str, max_bytes: int) -> bytes:
    """Standard or URL-safe alphabet, line-wrapped or not, padding optional."""
    if len(value) // 4 * 3 > max_bytes + 3:
        raise BadRecord("too_large", f"base64 body exceeds the {max_bytes}-byte cap")
    try:
        return binascii.a2b_base64(value, strict_mode=True)
    except (binascii.Error, ValueError):
        pass
    text = value.translate(WHITESPACE).translate(URLSAFE_TO_STANDARD)
    text += "=" * (-len(text) % 4)
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        raise BadRecord("invalid_base64", "body_b64 is not valid base64") from None


def record_url(record: dict) -> object:
    """The page URL of a parsed record in any accepted JSON form, unchecked."""
    if "specversion" not in record:
        return envelope_url(record)
    data = record.get("data")
    url = envelope_url(data) if isinstance(data, dict) else None
    if url is None:
        url = record.get("url")
    if url is None:
        url = context_page_url(record.get("subject"), record.get("source"))
    return url
