"""The HTTP response inside a WARC ``response`` record: status, headers, payload.

WARC keeps the payload as it came off the wire, so it may still be chunked or
compressed; many writers decode it but keep the original headers, so a body
that is already plain text is left alone whatever the headers claim.
"""

from __future__ import annotations

import codecs
import re

from worker.decode.gunzip import gunzip_capped, inflate_capped, is_gzip
from worker.model import BadRecord

MAX_HTTP_HEADER_BYTES = 65536
TEXT_PROBE_BYTES = 1024
STATUS_LINE = re.compile(r"HTTP/\d(?:\.\d)?[ \t]+(\d{3})\b")
CHUNK_SIZE = re.compile(rb"[0-9a-fA-F]{1,16}")
IDENTITY = frozenset({"", "identity", "none"})
GZIP = frozenset({"gzip", "x-gzip"})


def parse_http_response(block: bytes, max_bytes: int) -> tuple[int, dict[str, str], bytes]:
    end, gap = _header_end(block)
    lines = block[:end].decode("latin-1").splitlines()
    match = STATUS_LINE.match(lines[0]) if lines else None
    if match is None:
        raise BadRecord("bad_warc", "the response record has no HTTP status line")
    headers = _header_fields(lines[1:])
    body = block[end + gap :]
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = dechunk(body) or body
    body = _decode_content(body, headers.get("content-encoding", ""), max_bytes)
    return int(match.group(1)), headers, body


def _header_end(block: bytes) -> tuple[int, int]:
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = block.find(separator, 0, MAX_HTTP_HEADER_BYTES)
        if end >= 0:
            return end, len(separator)
    if len(block) < MAX_HTTP_HEADER_BYTES and block.startswith(b"HTTP/"):
        return len(block), 0  # headers only: a response without a body
    raise BadRecord("bad_warc", "the HTTP header block is not terminated")


def _header_fields(lines: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    last = ""
    for line in lines:
        if line[:1] in (" ", "\t") and last:
            headers[last] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon:
            continue
        last = name.strip().lower()
        value = value.strip()
        headers[last] = f"{headers[last]}, {value}" if last in headers else value
    return headers


def dechunk(body: bytes) -> bytes | None:
    """Undo chunked transfer coding; None when the body is not chunked after all.

    A body cut short inside a chunk (crawlers truncate big payloads) keeps what arrived.
    """
    out: list[bytes] = []
    pos = 0
    while True:
        eol = body.find(b"\n", pos)
        if eol < 0:
            return b"".join(out) if out else None
        size_field = body[pos:eol].split(b";", 1)[0].strip()
        if not CHUNK_SIZE.fullmatch(size_field):
            return b"".join(out) if out else None
        size = int(size_field, 16)
        if size == 0:
            return b"".join(out)
        start = eol + 1
        out.append(body[start : start + size])
        pos = start + size
        pos += 2 if body[pos : pos + 2] == b"\r\n" else 1 if body[pos : pos + 1] == b"\n" else 0
        if pos >= len(body):
            return b"".join(out)


def _decode_content(body: bytes, content_encoding: str, max_bytes: int) -> bytes:
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    for coding in reversed(codings):
        if coding in IDENTITY:
            continue
        if coding in GZIP:
            body = gunzip_capped(body, max_bytes) if is_gzip(body) else body
        elif _looks_like_text(body):
            continue  # the writer already decoded it
        elif coding == "deflate":
            body = inflate_capped(body, max_bytes)
        else:
            raise BadRecord("unsupported_encoding", f"content-encoding {coding[:32]!r}")
    return body


def _looks_like_text(body: bytes) -> bool:
    probe = body[:TEXT_PROBE_BYTES]
    if b"\x00" in probe:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(probe, final=False)
    except UnicodeDecodeError:
        return False
    return True
