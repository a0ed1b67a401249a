"""The form-independent half of decoding: validate a draft and turn it into a Page.

Every input form (JSON envelope, alias, CloudEvent, raw bytes, WARC record)
fills a Draft with what it found, unchecked; ``to_page`` applies the same
checks, skips and charset rules to all of them, so they behave alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from worker.decode.charset import WIDE_CODECS, codec_for, decode_bytes
from worker.decode.fields import check_headers, check_metadata, check_status, check_str, check_url
from worker.decode.gunzip import gunzip_capped, is_gzip
from worker.decode.mediatype import page_kind, parse_content_type
from worker.decode.sniff import looks_binary
from worker.decode.timestamps import normalize_timestamp
from worker.model import BadRecord, Page, SkipRecord


@dataclass(slots=True)
class Draft:
    input_format: str
    url: object = None
    body: str | bytes | None = None
    plain_text: bool = False  # the body is plain text whatever the content type says
    final_url: object = None
    status: object = None
    headers: object = None  # HTTP response headers
    content_type: object = None  # declared by the envelope (may carry a charset)
    charset: object = None  # declared by the envelope
    fetched_at: object = None
    source: object = None
    record_id: object = None
    metadata: object = None


def to_page(draft: Draft, max_bytes: int) -> Page:
    url = check_url(draft.url)
    if url is None:
        raise BadRecord("missing_url", "the record names no page URL")
    final_url = check_url(draft.final_url, "final_url")
    status = check_status(draft.status)
    headers = check_headers(draft.headers)
    media, envelope_charset = parse_content_type(check_str(draft.content_type, "content_type"))
    http_media, http_charset = parse_content_type(headers.get("content-type"))
    media = media or http_media
    envelope_charset = check_str(draft.charset, "charset") or envelope_charset
    page = Page(
        url=url,
        body="",
        body_kind="html",
        input_format=draft.input_format,
        final_url=final_url,
        http_status=status,
        headers=headers,
        content_type=media or None,
        fetched_at=normalize_timestamp(draft.fetched_at),
        source=check_str(draft.source, "source"),
        record_id=check_str(draft.record_id, "record_id"),
        metadata=check_metadata(draft.metadata),
    )
    if status is not None and not 200 <= status < 300:
        raise SkipRecord("http_status", f"HTTP status {status}")
    kind = page_kind(media)
    if kind == "other":
        raise SkipRecord("not_html", f"content type {media}")
    body = draft.body
    if not body:
        raise SkipRecord("empty_body", "the record carries no body")
    if isinstance(body, bytes):
        page.body, page.charset, page.charset_source, page.raw_size = _text_from_bytes(
            body, envelope_charset, http_charset, max_bytes
        )
    else:
        encoded = body.encode("utf-8", "surrogatepass")
        page.raw_size = len(encoded)
        if page.raw_size > max_bytes:
            raise BadRecord("too_large", f"body exceeds the {max_bytes}-byte cap")
        page.body, page.charset_source = _clean(body, encoded), "none"
    if not page.body or page.body.isspace():
        raise SkipRecord("empty_body", "the body is only whitespace")
    page.body_kind = "text" if draft.plain_text or kind == "text" else "html"
    return page


def _text_from_bytes(
    body: bytes, envelope_charset: str | None, http_charset: str | None, max_bytes: int
) -> tuple[str, str, str, int]:
    if is_gzip(body):
        body = gunzip_capped(body, max_bytes)
    if len(body) > max_bytes:
        raise BadRecord("too_large", f"body exceeds the {max_bytes}-byte cap")
    declared = [("envelope", envelope_charset), ("http", http_charset)]
    wide = any(codec_for(label) in WIDE_CODECS for _, label in declared)
    if looks_binary(body, wide_declared=wide):
        raise SkipRecord("not_html", "the body is binary")
    text, charset, source = decode_bytes(body, declared)
    return _clean(text, body), charset, source, len(body)


def _clean(text: str, raw: bytes) -> str:
    """NUL is never page text and breaks XML-based parsers downstream.

    Looking for it in the bytes is much faster than in a non-Latin-1 str, and
    text without a NUL byte has no NUL character in any codec we decode with.
    """
    return text.replace("\x00", "\ufffd") if b"\x00" in raw else text
