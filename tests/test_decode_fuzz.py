"""decode only ever returns a Page or raises SkipRecord / BadRecord, whatever it is fed."""

from __future__ import annotations

import base64
import gzip
import re

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worker.decode import decode
from worker.model import BadRecord, Page, SkipRecord

REASON = re.compile(r"[a-z][a-z0-9_]{1,39}")
PAGE = "<html><head><meta charset='utf-8'></head><body><p>Fuzzed page text.</p></body></html>"
CONTENT_TYPES = [
    b"application/json",
    b"application/cloudevents+json",
    b"application/cloudevents-batch+json",
    b"application/warc",
    b"text/html",
    b"text/html; charset=utf-16",
    b"text/plain; charset=x-bogus",
    b"application/octet-stream",
    b"image/png",
    b"",
]
ENVELOPE_KEYS = [
    "url", "final_url", "status", "headers", "content_type", "charset", "html", "body_b64",
    "text", "fetched_at", "source", "record_id", "metadata", "specversion", "data",
    "data_base64", "datacontenttype", "type", "r", "body", "crawlid", "appid", "success",
    "status_code", "response_headers", "encoding", "digest", "segment", "binaryContent",
]  # fmt: skip

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["https://f.example/", "page_crawled", "1.0", "PGh0bWw+", PAGE, "200"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(ENVELOPE_KEYS) | st.text(max_size=8), children, max_size=6
        )
    ),
    max_leaves=20,
)
records = st.dictionaries(st.sampled_from(ENVELOPE_KEYS), json_values, max_size=10)
header_lists = st.lists(
    st.tuples(
        st.sampled_from(["content-type", "url", "ce_source", "status", "ce_time", "charset"])
        | st.text(max_size=12),
        st.sampled_from([*CONTENT_TYPES, b"https://f.example/", b"404", b"\xff\xfe"])
        | st.binary(max_size=30),
    ),
    max_size=6,
)


def seeds() -> list[bytes]:
    envelope = orjson.dumps({"url": "https://f.example/", "html": PAGE, "status": 200})
    warc_block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + PAGE.encode()
    warc = (
        b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://f.example/\r\n"
        b"Content-Type: application/http; msgtype=response\r\n"
        b"Content-Length: " + str(len(warc_block)).encode() + b"\r\n\r\n" + warc_block + b"\r\n\r\n"
    )
    event = orjson.dumps(
        {"specversion": "1.0", "id": "1", "source": "https://f.example/", "type": "t",
         "data_base64": base64.b64encode(PAGE.encode()).decode()}
    )  # fmt: skip
    return [envelope, warc, event, gzip.compress(envelope), gzip.compress(warc), PAGE.encode()]


SEEDS = seeds()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
    return bytes(data)


def check(value: bytes | None, headers: list) -> None:
    try:
        page = decode(value, headers, max_bytes=1 << 16)
    except (SkipRecord, BadRecord) as exc:
        assert REASON.fullmatch(exc.reason), exc.reason
        assert exc.reason != "decode_error", exc.__cause__
        return
    assert isinstance(page, Page)
    assert isinstance(page.body, str) and page.body.strip()
    assert "\x00" not in page.body
    assert page.body_kind in ("html", "text")
    assert all(key == key.lower() for key in page.headers)
    orjson.dumps(page.metadata)  # the publish stage can serialise what decode let through


FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.none() | st.binary(max_size=600), header_lists)
def test_arbitrary_bytes(value: bytes | None, headers: list) -> None:
    check(value, headers)


@FUZZ
@given(records, header_lists)
def test_arbitrary_json_records(record: dict, headers: list) -> None:
    check(orjson.dumps(record), headers)


@FUZZ
@given(mutated(), header_lists)
def test_mutated_valid_messages(value: bytes, headers: list) -> None:
    check(value, headers)


@FUZZ
@given(st.integers(1, 3000), st.sampled_from(["[", '{"a":', '["dict", [[["other", "r"], ']))
def test_deep_nesting(depth: int, opener: str) -> None:
    check((opener * depth).encode(), [])


@FUZZ
@given(st.text(max_size=300), st.sampled_from(CONTENT_TYPES))
def test_arbitrary_text_as_raw_page(text: str, content_type: bytes) -> None:
    headers = [("content-type", content_type), ("url", b"https://f.example/")]
    check(text.encode("utf-8", "surrogatepass"), headers)
