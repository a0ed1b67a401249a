"""One WARC / WET record per message."""

from __future__ import annotations

import gzip
import io

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from worker.decode import decode
from worker.model import BadRecord, SkipRecord

PAGE = b"<html><body><h1>Market day moves</h1><p>The market moves to Saturday.</p></body></html>"
WARC_HEADERS = [("content-type", b"application/warc")]


def http_response(body: bytes = PAGE, status: bytes = b"200 OK", extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n"
        b"Server: nginx\r\n" + extra + b"\r\n" + body
    )


def record(
    block: bytes,
    record_type: bytes = b"response",
    content_type: bytes = b"application/http; msgtype=response",
    length: int | None = None,
    version: bytes = b"WARC/1.0",
) -> bytes:
    size = len(block) if length is None else length
    return (
        version + b"\r\n"
        b"WARC-Type: " + record_type + b"\r\n"
        b"WARC-Target-URI: https://town.example/market\r\n"
        b"WARC-Date: 2026-05-06T07:08:09Z\r\n"
        b"WARC-Record-ID: <urn:uuid:6d6c0f3e-5a0c-4d7b-9b1e-0c9a1f1e2d3c>\r\n"
        b"Content-Type: " + content_type + b"\r\n"
        b"Content-Length: " + str(size).encode() + b"\r\n\r\n" + block + b"\r\n\r\n"
    )


def test_response_record() -> None:
    page = decode(record(http_response()), WARC_HEADERS)
    assert page.input_format == "warc"
    assert page.url == "https://town.example/market"
    assert page.http_status == 200
    assert page.headers == {"content-type": "text/html; charset=utf-8", "server": "nginx"}
    assert page.content_type == "text/html"
    assert (page.charset, page.charset_source) == ("utf-8", "http")
    assert page.fetched_at == "2026-05-06T07:08:09Z"
    assert page.record_id == "urn:uuid:6d6c0f3e-5a0c-4d7b-9b1e-0c9a1f1e2d3c"
    assert page.metadata == {"warc_type": "response"}
    assert page.body == PAGE.decode()
    assert page.body_kind == "html"


def test_response_sniffed_from_the_value_and_version_1_1() -> None:
    page = decode(record(http_response(), version=b"WARC/1.1"), [])
    assert page.input_format == "warc"


def test_chunked_and_gzipped_payload() -> None:
    packed = gzip.compress(PAGE)
    chunked = (
        b"".join(
            f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (packed[:40], packed[40:])
        )
        + b"0\r\n\r\n"
    )
    extra = b"Transfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n"
    page = decode(record(http_response(chunked, extra=extra)), WARC_HEADERS)
    assert page.body == PAGE.decode()


def test_payload_already_decoded_despite_its_headers() -> None:
    extra = b"Content-Encoding: br\r\n"
    assert decode(record(http_response(extra=extra)), WARC_HEADERS).body == PAGE.decode()


def test_undecodable_content_encoding() -> None:
    extra = b"Content-Encoding: br\r\n"
    with pytest.raises(BadRecord) as caught:
        decode(record(http_response(b"\x8b\x05\x80\xff\xfe" * 40, extra=extra)), WARC_HEADERS)
    assert caught.value.reason == "unsupported_encoding"


def test_resource_record() -> None:
    page = decode(record(PAGE, b"resource", b"text/html"), WARC_HEADERS)
    assert page.body == PAGE.decode()
    assert page.http_status is None
    assert page.content_type == "text/html"


def test_wet_conversion_record_is_text() -> None:
    text = b"Market day moves\nThe market moves to Saturday."
    page = decode(record(text, b"conversion", b"text/plain"), WARC_HEADERS)
    assert page.body_kind == "text"
    assert page.body == text.decode()


def test_gzipped_record_as_in_warc_gz_files() -> None:
    assert decode(gzip.compress(record(http_response())), []).input_format == "warc"


@pytest.mark.parametrize(
    ("record_type", "reason"),
    [
        (b"request", "warc_request"),
        (b"metadata", "warc_metadata"),
        (b"revisit", "warc_revisit"),
        (b"warcinfo", "warc_warcinfo"),
        (b"something-new", "warc_other_type"),
    ],
)
def test_non_page_records_are_skipped(record_type: bytes, reason: str) -> None:
    with pytest.raises(SkipRecord) as caught:
        decode(record(b"GET /market HTTP/1.1\r\nHost: town.example\r\n\r\n", record_type), [])
    assert caught.value.reason == reason


def test_error_response_is_skipped() -> None:
    with pytest.raises(SkipRecord) as caught:
        decode(record(http_response(status=b"404 Not Found")), WARC_HEADERS)
    assert caught.value.reason == "http_status"


def test_dns_response_is_not_a_page() -> None:
    with pytest.raises(SkipRecord) as caught:
        decode(record(b"town.example. 300 IN A 192.0.2.1\n", content_type=b"text/dns"), [])
    assert caught.value.reason == "not_html"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (record(http_response())[:150], "truncated_warc"),
        (record(http_response())[:-60], "truncated_warc"),
        (record(http_response(), length=len(http_response()) + 500), "truncated_warc"),
        (record(http_response(), length=40), "bad_warc"),
        (record(http_response()).replace(b"Content-Length", b"Content-Lxngth"), "bad_warc"),
        (record(http_response()).replace(b"WARC-Type: ", b"WARC-Type "), "bad_warc"),
        (record(b"not http at all\r\n\r\n" + PAGE), "bad_warc"),
    ],
)
def test_broken_records(value: bytes, reason: str) -> None:
    with pytest.raises(BadRecord) as caught:
        decode(value, WARC_HEADERS)
    assert caught.value.reason == reason


def test_lying_content_length_never_hangs_or_reads_past_the_value() -> None:
    value = record(http_response(), length=10**15)
    with pytest.raises(BadRecord) as caught:
        decode(value, WARC_HEADERS)
    assert caught.value.reason == "truncated_warc"


@pytest.mark.parametrize("compress", [True, False])
def test_records_written_by_warcio(compress: bool) -> None:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=compress)
    http = StatusAndHeaders(
        "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
    )
    writer.write_record(
        writer.create_warc_record(
            "https://town.example/market", "response", payload=io.BytesIO(PAGE), http_headers=http
        )
    )
    page = decode(buffer.getvalue(), [])
    assert (page.url, page.http_status, page.body) == (
        "https://town.example/market",
        200,
        PAGE.decode(),
    )
    assert page.record_id and page.record_id.startswith("urn:uuid:")
