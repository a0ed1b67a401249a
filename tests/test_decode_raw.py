"""Raw page bytes as the Kafka value, described by Kafka headers; form sniffing."""

from __future__ import annotations

import pytest

from worker.decode import decode
from worker.model import BadRecord, SkipRecord

PAGE = (
    b"<html><body><h1>Bridge closed</h1><p>The old bridge is closed for repairs.</p></body></html>"
)


def test_plain_headers_describe_the_page() -> None:
    headers = [
        ("Content-Type", b"text/html"),
        ("url", b"https://road.example/bridge"),
        ("final_url", b"https://road.example/bridge/"),
        ("status", b"200"),
        ("fetched_at", b"1767225600"),
        ("source", b"road-crawler"),
        ("record_id", b"r-77"),
    ]
    page = decode(PAGE, headers)
    assert page.input_format == "raw"
    assert page.url == "https://road.example/bridge"
    assert page.final_url == "https://road.example/bridge/"
    assert page.http_status == 200
    assert page.fetched_at == "2026-01-01T00:00:00Z"
    assert (page.source, page.record_id) == ("road-crawler", "r-77")
    assert page.headers == {"content-type": "text/html"}
    assert page.body == PAGE.decode()
    assert page.raw_size == len(PAGE)


def test_markup_is_sniffed_as_raw_without_a_content_type() -> None:
    page = decode(PAGE, [("url", b"https://road.example/bridge")])
    assert page.input_format == "raw"
    assert page.content_type is None
    assert page.body_kind == "html"


def test_text_plain_value() -> None:
    headers = [("content-type", b"text/plain"), ("url", b"https://road.example/b.txt")]
    assert decode(b"Bridge closed for repairs.", headers).body_kind == "text"


def test_header_names_are_case_insensitive_and_first_value_wins() -> None:
    headers = [("URL", b"https://road.example/first"), ("url", b"https://road.example/second")]
    assert decode(PAGE, headers).url == "https://road.example/first"


def test_malformed_headers_are_ignored() -> None:
    headers = [("url", b"https://road.example/bridge"), ("x", None), (None, b"y"), ("z",)]  # type: ignore[list-item]
    assert decode(PAGE, headers).url == "https://road.example/bridge"


@pytest.mark.parametrize(
    ("value", "headers", "reason"),
    [
        (PAGE, [("content-type", b"text/html")], "missing_url"),
        (PAGE, [("url", b"https://road.example/"), ("status", b"ok")], "bad_field_type"),
        ("<p>str, not bytes</p>", [("url", b"https://road.example/")], "bad_value_type"),
    ],
)
def test_bad_raw_records(value: object, headers: list, reason: str) -> None:
    with pytest.raises(BadRecord) as caught:
        decode(value, headers)  # type: ignore[arg-type]
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("value", "content_type", "reason"),
    [
        (PAGE, b"application/pdf", "not_html"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", b"text/html", "not_html"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"application/octet-stream", "not_html"),
        (b"\x00\x01\x02binary", b"text/html", "not_html"),
        (b"", b"text/html", "empty_body"),
    ],
)
def test_skipped_raw_records(value: bytes, content_type: bytes, reason: str) -> None:
    headers = [("content-type", content_type), ("url", b"https://road.example/file")]
    with pytest.raises(SkipRecord) as caught:
        decode(value, headers)
    assert caught.value.reason == reason


def test_status_header_skip() -> None:
    headers = [("url", b"https://road.example/gone"), ("status", b"410")]
    with pytest.raises(SkipRecord) as caught:
        decode(PAGE, headers)
    assert caught.value.reason == "http_status"
