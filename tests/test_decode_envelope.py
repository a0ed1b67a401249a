"""The JSON envelope: fields, body forms, and every skip / bad reason it can produce."""

from __future__ import annotations

import base64

import orjson
import pytest

from worker.decode import decode
from worker.model import BadRecord, SkipRecord

ARTICLE = (
    "<html><head><title>Ferry timetable changes</title></head><body><article>"
    "<h1>Ferry timetable changes from Monday</h1><p>The island ferry will run every "
    "forty minutes instead of every hour, the harbour authority said.</p></article></body></html>"
)


def envelope(**fields: object) -> bytes:
    record = {"url": "https://news.example/ferry", "html": ARTICLE}
    record.update(fields)
    return orjson.dumps({key: value for key, value in record.items() if value is not None})


def bad_reason(value: bytes | None, headers: list | None = None, **kwargs: object) -> str:
    with pytest.raises(BadRecord) as caught:
        decode(value, headers, **kwargs)
    return caught.value.reason


def skip_reason(value: bytes, headers: list | None = None) -> str:
    with pytest.raises(SkipRecord) as caught:
        decode(value, headers)
    return caught.value.reason


def test_all_envelope_fields_reach_the_page() -> None:
    page = decode(
        envelope(
            final_url="https://news.example/ferry?amp=0",
            status=200,
            headers={"Content-Type": "text/html; charset=utf-8", "Content-Language": "en"},
            content_type="text/html",
            fetched_at="2026-03-01T09:30:00+01:00",
            source="harbour-crawler",
            record_id=4711,
            metadata={"crawl": {"depth": 2}},
        ),
        [],
    )
    assert page.url == "https://news.example/ferry"
    assert page.final_url == "https://news.example/ferry?amp=0"
    assert page.http_status == 200
    assert page.headers == {"content-type": "text/html; charset=utf-8", "content-language": "en"}
    assert page.content_type == "text/html"
    assert page.fetched_at == "2026-03-01T08:30:00Z"
    assert page.source == "harbour-crawler"
    assert page.record_id == "4711"
    assert page.metadata == {"crawl": {"depth": 2}}
    assert page.input_format == "json"
    assert page.body == ARTICLE
    assert page.body_kind == "html"
    assert (page.charset, page.charset_source) == (None, "none")
    assert page.raw_size == len(ARTICLE.encode())


def test_headers_as_list_of_pairs_join_repeats_and_lower_case_names() -> None:
    headers = [["Set-Cookie", "a=1"], ["SET-COOKIE", "b=2"], ["X-Served-By", "cache-7"]]
    page = decode(envelope(headers=headers), [])
    assert page.headers == {"set-cookie": "a=1, b=2", "x-served-by": "cache-7"}


def test_text_field_is_plain_text() -> None:
    page = decode(
        envelope(html=None, text="Ferry timetable changes\n\nBoats every 40 minutes."), []
    )
    assert page.body_kind == "text"
    assert page.body.startswith("Ferry timetable")


def test_html_field_labelled_text_plain_is_text() -> None:
    page = decode(envelope(content_type="text/plain; charset=utf-8"), [])
    assert page.body_kind == "text"


def test_body_b64_is_decoded_with_its_charset() -> None:
    raw = "<p>Пароход отправляется в полдень.</p>".encode("koi8-r")
    page = decode(
        envelope(html=None, body_b64=base64.b64encode(raw).decode(), charset="koi8-r"), []
    )
    assert page.body == "<p>Пароход отправляется в полдень.</p>"
    assert (page.charset, page.charset_source) == ("koi8-r", "envelope")
    assert page.raw_size == len(raw)


def test_body_b64_accepts_wrapped_urlsafe_unpadded_base64() -> None:
    raw = ARTICLE.encode() + b"\xfb\xff"  # bytes whose base64 differs in the URL-safe alphabet
    text = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    wrapped = "\n".join(text[i : i + 76] for i in range(0, len(text), 76))
    page = decode(envelope(html=None, body_b64=wrapped), [])
    assert page.body.startswith(ARTICLE)


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        (1767225600, "2026-01-01T00:00:00Z"),
        (1767225600123, "2026-01-01T00:00:00.123Z"),
        ("1767225600", "2026-01-01T00:00:00Z"),
        ("Thu, 01 Jan 2026 00:00:00 GMT", "2026-01-01T00:00:00Z"),
        ("2026-01-01T00:00:00", "2026-01-01T00:00:00Z"),
        ("last tuesday", None),
    ],
)
def test_fetched_at_is_normalised_to_utc(stamp: object, expected: str | None) -> None:
    assert decode(envelope(fetched_at=stamp), []).fetched_at == expected


def test_status_as_digit_string_is_accepted() -> None:
    assert decode(envelope(status="203"), []).http_status == 203


def test_url_can_come_from_a_kafka_header() -> None:
    value = orjson.dumps({"html": ARTICLE})
    page = decode(value, [("URL", b"https://news.example/from-header")])
    assert page.url == "https://news.example/from-header"


def test_leading_bom_and_whitespace_are_tolerated() -> None:
    assert decode(b"\xef\xbb\xbf  \n" + envelope(), []).url == "https://news.example/ferry"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "null_value"),
        (b'{"url": "https://news.example/", "html": "<p>unterminated', "malformed_json"),
        (b"[1, 2, 3]", "malformed_json"),
        (b'{"url": 1e999999}', "malformed_json"),
        (envelope(url=None), "missing_url"),
        (envelope(url="   "), "missing_url"),
        (envelope(url=["https://news.example/"]), "bad_field_type"),
        (envelope(url="news.example/no-scheme"), "bad_url"),
        (envelope(url="https://news.example/\nx"), "bad_url"),
        (envelope(status="fine"), "bad_field_type"),
        (envelope(status=True), "bad_field_type"),
        (envelope(status=42), "bad_field_type"),
        (envelope(headers="Content-Type: text/html"), "bad_field_type"),
        (envelope(headers=[["only-a-name"]]), "bad_field_type"),
        (envelope(metadata=["not", "an", "object"]), "bad_field_type"),
        (envelope(source={"name": "x"}), "bad_field_type"),
        (envelope(html=12), "bad_field_type"),
        (envelope(html=None, body_b64="not base64 at all!"), "invalid_base64"),
        (envelope(text="plain too"), "ambiguous_body"),
        (envelope(html=None, text="x", body_b64="eA=="), "ambiguous_body"),
    ],
)
def test_bad_records(value: bytes | None, reason: str) -> None:
    assert bad_reason(value, []) == reason


def test_deeply_nested_metadata_is_rejected_not_crashing() -> None:
    nested: dict = {}
    for _ in range(200):
        nested = {"n": nested}
    assert bad_reason(envelope(metadata=nested), []) == "bad_field_type"


def test_bad_record_detail_never_quotes_page_content() -> None:
    secret = "<p>confidential words of the page</p>"
    with pytest.raises(BadRecord) as caught:
        decode(orjson.dumps({"html": secret}), [])
    assert "confidential" not in caught.value.detail


def test_too_large_body() -> None:
    assert bad_reason(envelope(), [], max_bytes=100) == "too_large"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (envelope(status=404), "http_status"),
        (envelope(status="301"), "http_status"),
        (envelope(content_type="application/pdf"), "not_html"),
        (envelope(headers={"content-type": "image/png"}), "not_html"),
        (envelope(content_type="application/json"), "not_html"),
        (envelope(html=""), "empty_body"),
        (envelope(html=" \n\t "), "empty_body"),
        (envelope(html=None), "empty_body"),
    ],
)
def test_skipped_records(value: bytes, reason: str) -> None:
    assert skip_reason(value, []) == reason


def test_xhtml_is_a_page() -> None:
    assert decode(envelope(content_type="application/xhtml+xml"), []).body_kind == "html"


def test_nul_characters_do_not_reach_the_body() -> None:
    page = decode(envelope(html="<p>a\u0000b</p>"), [])
    assert "\x00" not in page.body
