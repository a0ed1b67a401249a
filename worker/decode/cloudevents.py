"""CloudEvents structured mode (``application/cloudevents+json``), spec v1.0.

The event carries the page as ``data`` (an envelope object, or the markup as a
string) or ``data_base64``. The page URL comes from ``data.url``, a ``url``
extension attribute, ``subject`` when that is an http(s) URL, else ``source`` when
that is one and there is no subject (an event with a subject is about it). A crawler
naming itself in ``source`` (``https://crawler.example.com/alpha``) with the page in
``subject`` is the spec's own reading of the two: ``source`` is then kept as the
page's source, never taken for its URL (two pages would share one id). With no
http(s) page URL the record is dead-lettered ``missing_url``. ``time`` and ``id``
stand in for the fetch time and record id the data does not give.
"""

from __future__ import annotations

from worker.decode.aliases import find_alias, to_envelope
from worker.decode.draft import Draft
from worker.decode.envelope import draft_from_envelope, with_header_defaults
from worker.decode.kafka_headers import context_page_url
from worker.decode.mediatype import is_json_type, page_kind, parse_content_type
from worker.model import BadRecord

# Extension attributes read as envelope fields when ``data`` does not give them.
EXTENSION_FIELDS = ("url", "final_url", "status", "charset")
EVENT_METADATA = {"ce_type": "type", "ce_subject": "subject"}
STAND_INS = {"fetched_at": "time", "record_id": "id"}


def draft_from_cloudevent(event: dict, kafka: dict[str, str], max_bytes: int) -> Draft:
    if event.get("data") is not None and event.get("data_base64") is not None:
        raise BadRecord("ambiguous_body", "the event has both data and data_base64")
    envelope = _data_envelope(event)
    for name in EXTENSION_FIELDS:
        if envelope.get(name) is None and event.get(name) is not None:
            envelope[name] = event[name]
    source = event.get("source")
    if envelope.get("url") is None:
        envelope["url"] = context_page_url(event.get("subject"), source)
    if envelope.get("source") is None and source != envelope.get("url"):
        envelope["source"] = source
    for name, attribute in STAND_INS.items():
        if envelope.get(name) is None:
            envelope[name] = event.get(attribute)
    metadata = envelope.get("metadata")
    extras = {
        key: event[name] for key, name in EVENT_METADATA.items() if isinstance(event.get(name), str)
    }
    if extras and (metadata is None or isinstance(metadata, dict)):
        envelope["metadata"] = {**(metadata or {}), **extras}
    return draft_from_envelope(with_header_defaults(envelope, kafka), "cloudevents", max_bytes)


def _data_envelope(event: dict) -> dict:
    content_type = event.get("datacontenttype")
    media, _ = parse_content_type(content_type if isinstance(content_type, str) else None)
    data = event.get("data")
    if isinstance(data, dict):
        alias = find_alias(data)
        return to_envelope(data, alias) if alias else dict(data)
    if isinstance(data, str):
        field = "text" if page_kind(media) == "text" else "html"
        return {field: data, "content_type": None if is_json_type(media) else content_type}
    if data is not None:
        raise BadRecord("bad_field_type", "event data is neither an object nor a string")
    data_base64 = event.get("data_base64")
    if data_base64 is None:
        return {}
    return {"body_b64": data_base64, "content_type": content_type}
