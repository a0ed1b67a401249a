"""Frontera's default message codec, msgpack (``frontera/contrib/backends/remote/codecs/
msgpack.py``): ``packb([b'pc', [url, status_code, meta, headers, body]], use_bin_type=True)``.

Its other messages (``le`` links extracted, ``re`` request error, ``as`` seeds, ``of``
offsets...) are not pages and are skipped. Frontera leaves the body out unless
``STORE_CONTENT = True`` (the codec's ``send_body``); such a page is skipped with a reason
saying so, since no later stage can make it a page.
"""

from __future__ import annotations

import msgpack

from worker.decode.draft import Draft
from worker.model import BadRecord, SkipRecord

PAGE_CRAWLED = b"pc"
OTHER_TAGS = (b"le", b"re", b"as", b"us", b"njid", b"of", b"st")
MSGPACK_TYPES = frozenset(
    {"application/msgpack", "application/x-msgpack", "application/vnd.msgpack"}
)
NO_BODY_REASON = "body_not_sent"
NO_BODY_DETAIL = "Frontera sent no page body: set STORE_CONTENT = True in its settings"


def _tag_prefixes() -> tuple[bytes, ...]:
    """The first bytes of a message: a 2-4 element array, then its tag as bin or str."""
    prefixes = []
    for tag in (PAGE_CRAWLED, *OTHER_TAGS):
        for array in (b"\x92", b"\x93", b"\x94"):
            prefixes.append(array + b"\xc4" + bytes([len(tag)]) + tag)
            prefixes.append(array + bytes([0xA0 | len(tag)]) + tag)
    return tuple(prefixes)


PREFIXES = _tag_prefixes()


def is_frontera_msgpack(value: bytes) -> bool:
    return value.startswith(PREFIXES)


def draft_from_frontera(value: bytes, max_bytes: int) -> Draft:
    try:
        message = msgpack.unpackb(value, raw=True, strict_map_key=False, max_bin_len=max_bytes)
    except (ValueError, msgpack.UnpackException) as exc:
        raise BadRecord(
            "malformed_msgpack", f"not a msgpack message ({type(exc).__name__})"
        ) from None
    if not (isinstance(message, list) and message and isinstance(message[0], bytes)):
        raise BadRecord("malformed_msgpack", "not a Frontera message")
    if message[0] != PAGE_CRAWLED:
        raise SkipRecord("not_page", "Frontera message that is not a fetched page")
    response = message[1] if len(message) == 2 else None
    if not (isinstance(response, list) and len(response) >= 5):
        raise BadRecord(
            "malformed_msgpack", "page_crawled is not [url, status, meta, headers, body]"
        )
    url, status, meta, headers, body = response[:5]
    if body is None:
        raise SkipRecord(NO_BODY_REASON, NO_BODY_DETAIL)
    if not isinstance(body, bytes):
        raise BadRecord("bad_field_type", "Frontera body is not bytes")
    meta = meta if isinstance(meta, dict) else {}
    return Draft(
        input_format="msgpack:frontera",
        url=_text(url),
        body=body,
        status=status,
        headers=_headers(headers),
        record_id=_text(meta.get(b"fingerprint")),
    )


def _text(value: object) -> object:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _headers(value: object) -> object:
    """Scrapy's headers: bytes names, a bytes value or a list of them."""
    if not isinstance(value, dict):
        return None
    out: dict[str, object] = {}
    for name, raw in value.items():
        items = raw if isinstance(raw, list) else [raw]
        out[str(_text(name))] = [_text(item) for item in items]
    return out
