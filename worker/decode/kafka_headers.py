"""Kafka record headers: a bounded, case-insensitive view, and the page fields they carry.

CloudEvents' Kafka binding prefixes attributes with ``ce_`` (its HTTP binding
with ``ce-``); both spellings are accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice

from worker.decode.fields import MAX_URL_CHARS, is_http_url

MAX_KAFKA_HEADERS = 512
# A value is kept up to one character more than the longest field allows (a URL), so an
# oversize value fails its field's check instead of being cut into a valid-looking one.
MAX_KAFKA_HEADER_CHARS = MAX_URL_CHARS + 1

# Page field -> Kafka header names that may carry it, first present wins.
HEADER_FIELDS: dict[str, tuple[str, ...]] = {
    "url": ("url", "ce_url"),
    "final_url": ("final_url", "ce_final_url"),
    "status": ("status", "ce_status", "http_status"),
    "fetched_at": ("fetched_at", "ce_fetched_at", "ce_time"),
    "source": ("source",),
    "record_id": ("record_id", "ce_record_id", "ce_id"),
    "charset": ("charset", "ce_charset"),
}
# CloudEvents attributes worth keeping on the page.
HEADER_METADATA: dict[str, str] = {"ce_type": "ce_type", "ce_subject": "ce_subject"}


def header_map(headers: Sequence[tuple[str, bytes]] | None) -> dict[str, str]:
    """Lower-case name -> first value as text; malformed entries are ignored."""
    found: dict[str, str] = {}
    if not headers:
        return found
    try:
        items = list(islice(headers, MAX_KAFKA_HEADERS))
    except TypeError:
        return found
    for item in items:
        if not isinstance(item, tuple | list) or len(item) != 2:
            continue
        name, value = item
        if isinstance(name, bytes):
            name = name.decode("utf-8", "replace")
        if not isinstance(name, str):
            continue
        name = name.strip().lower()
        if name.startswith("ce-"):
            name = "ce_" + name[3:]
        text = _value_text(value)
        if text is not None and name not in found:
            found[name] = text
    return found


def _value_text(value: object) -> str | None:
    if isinstance(value, bytes | bytearray | memoryview):
        head = bytes(value[: 4 * MAX_KAFKA_HEADER_CHARS])  # UTF-8: at most 4 bytes a character
        value = head.decode("utf-8", "replace")
    if isinstance(value, str):
        return value.strip()[:MAX_KAFKA_HEADER_CHARS]
    return None


def fields_from_headers(kafka: dict[str, str]) -> dict[str, object]:
    """Envelope-shaped fields found in the headers: the page URL is ``ce_subject``, else
    ``ce_source``, when that is an http(s) URL (see ``cloudevents``)."""
    fields: dict[str, object] = {}
    for field, names in HEADER_FIELDS.items():
        value = next((kafka[name] for name in names if kafka.get(name)), None)
        if value is not None:
            fields[field] = value
    ce_source = kafka.get("ce_source")
    page_url = context_page_url(kafka.get("ce_subject"), ce_source)
    if page_url:
        fields.setdefault("url", page_url)
    if ce_source and ce_source != fields.get("url"):
        fields.setdefault("source", ce_source)
    metadata = {key: kafka[name] for key, name in HEADER_METADATA.items() if kafka.get(name)}
    if metadata:
        fields["metadata"] = metadata
    return fields


def context_page_url(subject: object, source: object) -> str | None:
    """The page a CloudEvent's context names: ``subject`` when it is an http(s) URL, else
    ``source`` when it is one and there is no subject.

    ``source`` is often the crawler itself, ``subject`` the page it fetched; a source that is
    not the page must never become the page's URL (its id would be shared by every page).
    An event with a subject is about that subject, so its source is not the page either.
    """
    if isinstance(subject, str) and is_http_url(subject):
        return subject
    if not subject and isinstance(source, str) and is_http_url(source):
        return source
    return None
