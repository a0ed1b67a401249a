"""Capped gzip unpacking: a hostile 1 KB message must not become gigabytes in memory."""

from __future__ import annotations

import zlib

from worker.model import BadRecord

GZIP_MAGIC = b"\x1f\x8b"
# Past this expansion ratio an over-size payload is called a bomb rather than a big page.
BOMB_RATIO = 100


def is_gzip(data: bytes) -> bool:
    return data[:2] == GZIP_MAGIC


def gunzip_capped(data: bytes, cap: int) -> bytes:
    """Unpack every gzip member of ``data``, never producing more than ``cap + 1`` bytes."""
    return _inflate_capped(data, cap, zlib.MAX_WBITS | 16, multi_member=True)


def inflate_capped(data: bytes, cap: int) -> bytes:
    """HTTP ``deflate``: zlib-wrapped as the RFC says, or raw deflate as many servers send."""
    try:
        return _inflate_capped(data, cap, zlib.MAX_WBITS, multi_member=False)
    except BadRecord as exc:
        if exc.reason != "bad_gzip":
            raise
    return _inflate_capped(data, cap, -zlib.MAX_WBITS, multi_member=False)


def _inflate_capped(data: bytes, cap: int, wbits: int, *, multi_member: bool) -> bytes:
    out: list[bytes] = []
    produced = 0
    rest = data
    while rest:
        inflater = zlib.decompressobj(wbits)
        try:
            chunk = inflater.decompress(rest, cap + 1 - produced)
        except zlib.error:
            raise BadRecord("bad_gzip", "compressed stream is corrupt") from None
        produced += len(chunk)
        out.append(chunk)
        if produced > cap:
            consumed = len(rest) - len(inflater.unconsumed_tail)
            raise _over_cap(consumed + len(data) - len(rest), cap)
        if not inflater.eof:
            raise BadRecord("bad_gzip", "compressed stream is truncated")
        rest = inflater.unused_data
        if not multi_member or not is_gzip(rest):
            if rest.strip(b"\x00"):
                raise BadRecord("bad_gzip", "unexpected bytes after the compressed stream")
            break
    return b"".join(out)


def _over_cap(consumed: int, cap: int) -> BadRecord:
    if cap + 1 > BOMB_RATIO * max(consumed, 1):
        return BadRecord("gzip_bomb", f"decompresses past the {cap}-byte cap at over {BOMB_RATIO}x")
    return BadRecord("too_large", f"decompressed body exceeds the {cap}-byte cap")
