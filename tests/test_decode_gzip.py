"""gzip is unpacked first, never past the cap."""

from __future__ import annotations

import base64
import gzip
import os
import zlib

import orjson
import pytest

from worker.decode import decode
from worker.decode.gunzip import gunzip_capped, inflate_capped
from worker.model import BadRecord

PAGE = "<html><body><h1>Harbour reopens</h1><p>Boats are back after the storm.</p></body></html>"
ENVELOPE = orjson.dumps({"url": "https://port.example/reopens", "html": PAGE})


def bad(value: bytes, max_bytes: int, headers: list | None = None) -> str:
    with pytest.raises(BadRecord) as caught:
        decode(value, headers or [], max_bytes=max_bytes)
    return caught.value.reason


def test_gzipped_envelope() -> None:
    assert decode(gzip.compress(ENVELOPE), []).body == PAGE


def test_gzipped_raw_page_reports_unpacked_size() -> None:
    headers = [("content-type", b"text/html"), ("url", b"https://port.example/")]
    page = decode(gzip.compress(PAGE.encode()), headers)
    assert page.body == PAGE
    assert page.raw_size == len(PAGE.encode())


def test_gzipped_base64_body() -> None:
    record = {
        "url": "https://port.example/",
        "body_b64": base64.b64encode(gzip.compress(PAGE.encode())).decode(),
    }
    assert decode(orjson.dumps(record), []).body == PAGE


def test_multi_member_gzip() -> None:
    half = len(ENVELOPE) // 2
    value = gzip.compress(ENVELOPE[:half]) + gzip.compress(ENVELOPE[half:])
    assert decode(value, []).url == "https://port.example/reopens"


def test_gzip_bomb() -> None:
    bomb = gzip.compress(b"\x00" * (8 * 2**20))
    assert len(bomb) < 2**16
    assert bad(bomb, max_bytes=2**20) == "gzip_bomb"


def test_incompressible_payload_over_the_cap_is_too_large() -> None:
    assert bad(gzip.compress(os.urandom(300_000)), max_bytes=200_000) == "too_large"


def test_value_over_the_cap_is_too_large() -> None:
    assert bad(ENVELOPE, max_bytes=len(ENVELOPE) - 1) == "too_large"


@pytest.mark.parametrize(
    "value",
    [
        gzip.compress(ENVELOPE)[:-12],  # cut short
        b"\x1f\x8b" + os.urandom(100),  # not deflate data
        gzip.compress(ENVELOPE) + b"trailing junk",
    ],
)
def test_broken_gzip(value: bytes) -> None:
    assert bad(value, max_bytes=2**20) == "bad_gzip"


def test_never_decompresses_more_than_cap_plus_one(monkeypatch: pytest.MonkeyPatch) -> None:
    produced: list[int] = []
    real = zlib.decompressobj

    class Spy:
        def __init__(self, wbits: int) -> None:
            self._inner = real(wbits)

        def decompress(self, data: bytes, max_length: int = 0) -> bytes:
            out = self._inner.decompress(data, max_length)
            produced.append(len(out))
            return out

        def __getattr__(self, name: str) -> object:
            return getattr(self._inner, name)

    monkeypatch.setattr(zlib, "decompressobj", Spy)
    with pytest.raises(BadRecord):
        gunzip_capped(gzip.compress(b"a" * 1_000_000), 1000)
    assert sum(produced) <= 1001


def test_deflate_raw_and_zlib_wrapped() -> None:
    zlib_wrapped = zlib.compress(PAGE.encode())
    raw_deflate = zlib_wrapped[2:-4]
    assert inflate_capped(zlib_wrapped, 10_000) == PAGE.encode()
    assert inflate_capped(raw_deflate, 10_000) == PAGE.encode()
