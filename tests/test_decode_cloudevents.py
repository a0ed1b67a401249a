"""CloudEvents: structured mode (JSON event) and binary mode (raw value + ce_ headers)."""

from __future__ import annotations

import base64

import orjson
import pytest

from worker.decode import decode
from worker.model import BadRecord

PAGE = (
    "<html><body><h1>Tram line opens</h1>"
    "<p>The new tram line carried 4,000 people.</p></body></html>"
)
CE_JSON = [("content-type", b"application/cloudevents+json")]


def event(**fields: object) -> dict:
    base = {
        "specversion": "1.0",
        "id": "evt-0001",
        "source": "/crawler/eu-west/worker-3",
        "type": "com.example.page.fetched",
        "time": "2026-04-05T06:07:08Z",
    }
    base.update(fields)
    return base


def test_structured_event_with_envelope_data() -> None:
    data = {"url": "https://city.example/tram", "status": 200, "html": PAGE}
    page = decode(orjson.dumps(event(datacontenttype="application/json", data=data)), CE_JSON)
    assert page.input_format == "cloudevents"
    assert page.url == "https://city.example/tram"
    assert page.record_id == "evt-0001"
    assert page.fetched_at == "2026-04-05T06:07:08Z"
    assert page.source == "/crawler/eu-west/worker-3"
    assert page.metadata == {"ce_type": "com.example.page.fetched"}
    assert page.body == PAGE


def test_structured_event_sniffed_without_content_type() -> None:
    data = {"url": "https://city.example/tram", "html": PAGE}
    assert decode(orjson.dumps(event(data=data)), []).input_format == "cloudevents"


def test_url_from_http_source_and_markup_as_string_data() -> None:
    value = event(source="https://city.example/tram", datacontenttype="text/html", data=PAGE)
    page = decode(orjson.dumps(value), CE_JSON)
    assert page.url == "https://city.example/tram"
    assert page.source is None
    assert page.content_type == "text/html"
    assert page.body == PAGE


def test_url_extension_and_data_base64() -> None:
    value = event(
        url="https://city.example/tram",
        datacontenttype="text/html; charset=iso-8859-15",
        data_base64=base64.b64encode(
            PAGE.replace("opens", "öffnet €").encode("iso-8859-15")
        ).decode(),
    )
    page = decode(orjson.dumps(value), CE_JSON)
    assert "öffnet €" in page.body
    assert (page.charset, page.charset_source) == ("iso8859-15", "envelope")


def test_plain_text_data() -> None:
    value = event(
        url="https://city.example/tram", datacontenttype="text/plain", data="Tram line opens."
    )
    assert decode(orjson.dumps(value), CE_JSON).body_kind == "text"


def test_data_may_be_another_crawlers_record() -> None:
    data = {"url": "https://city.example/tram", "html": PAGE, "success": True, "status_code": 200}
    page = decode(orjson.dumps(event(data=data)), CE_JSON)
    assert page.input_format == "cloudevents"
    assert page.http_status == 200


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (event(data={"html": PAGE}), "missing_url"),
        (event(url="https://city.example/", data=PAGE, data_base64="PGh0bWw+"), "ambiguous_body"),
        (event(url="https://city.example/", data=[1, 2]), "bad_field_type"),
    ],
)
def test_bad_events(value: dict, reason: str) -> None:
    with pytest.raises(BadRecord) as caught:
        decode(orjson.dumps(value), CE_JSON)
    assert caught.value.reason == reason


def test_batches_are_refused() -> None:
    batch = [event(data={"url": "https://city.example/", "html": PAGE})]
    headers = [("content-type", b"application/cloudevents-batch+json")]
    with pytest.raises(BadRecord) as caught:
        decode(orjson.dumps(batch), headers)
    assert caught.value.reason == "unsupported_batch"


def test_binary_mode_raw_value_with_ce_headers() -> None:
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"evt-0002"),
        ("ce_source", b"https://city.example/tram"),
        ("ce_type", b"com.example.page.fetched"),
        ("ce_time", b"2026-04-05T06:07:08Z"),
        ("content-type", b"text/html; charset=utf-8"),
    ]
    page = decode(PAGE.encode(), headers)
    assert page.input_format == "raw"
    assert page.url == "https://city.example/tram"
    assert page.record_id == "evt-0002"
    assert page.fetched_at == "2026-04-05T06:07:08Z"
    assert page.metadata == {"ce_type": "com.example.page.fetched"}
    assert (page.charset, page.charset_source) == ("utf-8", "http")


def test_binary_mode_with_json_data_takes_attributes_from_headers() -> None:
    headers = [
        ("ce-specversion", b"1.0"),
        ("ce-id", b"evt-0003"),
        ("ce-source", b"https://city.example/tram"),
        ("content-type", b"application/json"),
    ]
    page = decode(orjson.dumps({"html": PAGE, "status": 200}), headers)
    assert page.url == "https://city.example/tram"
    assert page.record_id == "evt-0003"
