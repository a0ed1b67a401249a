"""(C) One WARC record per message: ``response``, ``resource`` or WET ``conversion``.

The record is parsed here rather than with warcio: warcio reads a record whose
Content-Length runs past the data without complaint, prints warnings to stderr,
and does not cap decompression, while a message must either become a page or be
rejected with a reason. Record types that are not pages are skipped with a
counted reason of their own, and so are records about something other than a web page
(``warc_not_a_page``): wget writes its arguments and log as ``resource`` records with
``metadata://`` target URIs.
"""

from __future__ import annotations

import re

from worker.decode.draft import Draft
from worker.decode.fields import is_http_url
from worker.decode.httpmsg import parse_http_response
from worker.decode.mediatype import parse_content_type
from worker.model import BadRecord, SkipRecord

MAX_WARC_HEADER_BYTES = 65536
VERSION_LINE = re.compile(r"WARC/\d+\.\d+")
SKIPPED_TYPES = {
    "request": "warc_request",
    "metadata": "warc_metadata",
    "revisit": "warc_revisit",
    "warcinfo": "warc_warcinfo",
    "continuation": "warc_continuation",
}
HTTP_MEDIA = "application/http"


def is_warc(value: bytes) -> bool:
    return value.startswith((b"WARC/1.", b"WARC/0."))


def split_record(data: bytes) -> tuple[dict[str, str], bytes]:
    """WARC header fields (lower-case names) and the block, checked against Content-Length."""
    end, gap = _header_end(data)
    lines = data[:end].decode("utf-8", "replace").splitlines()
    if not lines or not VERSION_LINE.fullmatch(lines[0].strip()):
        raise BadRecord("bad_warc", "no WARC version line")
    fields: dict[str, str] = {}
    last = ""
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and last:
            fields[last] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise BadRecord("bad_warc", "a WARC header line has no colon")
        last = name.strip().lower()
        fields.setdefault(last, value.strip())
    length = fields.get("content-length", "")
    if not (length.isascii() and length.isdigit()):
        raise BadRecord("bad_warc", "missing or invalid Content-Length")
    start = end + gap
    block = data[start : start + int(length)]
    if len(block) < int(length):
        raise BadRecord("truncated_warc", f"block has {len(block)} of {length} bytes")
    if data[start + int(length) :].strip(b"\r\n"):
        raise BadRecord("bad_warc", "bytes after the block: Content-Length disagrees")
    return fields, block


def _header_end(data: bytes) -> tuple[int, int]:
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = data.find(separator, 0, MAX_WARC_HEADER_BYTES)
        if end >= 0:
            return end, len(separator)
    if len(data) < MAX_WARC_HEADER_BYTES:
        raise BadRecord("truncated_warc", "the WARC header block is not terminated")
    raise BadRecord("bad_warc", "the WARC header block is too long")


def draft_from_warc(data: bytes, max_bytes: int) -> Draft:
    fields, block = split_record(data)
    record_type = fields.get("warc-type", "").lower()
    if record_type in SKIPPED_TYPES:
        raise SkipRecord(SKIPPED_TYPES[record_type], f"WARC {record_type} record")
    if record_type not in ("response", "resource", "conversion"):
        raise SkipRecord("warc_other_type", "WARC record of an unknown type")
    target = fields.get("warc-target-uri", "").strip("<>")
    if target and not is_http_url(target):
        raise SkipRecord("warc_not_a_page", f"WARC {record_type} record of a non-http(s) target")
    content_type = fields.get("content-type", "")
    metadata: dict[str, object] = {"warc_type": record_type}
    if fields.get("warc-truncated"):
        metadata["warc_truncated"] = fields["warc-truncated"][:64]
    draft = Draft(
        input_format="warc",
        url=target or None,
        body=block,
        headers={"content-type": content_type} if content_type else {},
        fetched_at=fields.get("warc-date"),
        record_id=fields.get("warc-record-id", "").strip("<>") or None,
        metadata=metadata,
        plain_text=record_type == "conversion",
    )
    if record_type == "response":
        media, _ = parse_content_type(content_type)
        if media != HTTP_MEDIA and not (media == "" and block.startswith(b"HTTP/")):
            raise SkipRecord("not_html", "WARC response that is not an HTTP response")
        draft.status, draft.headers, draft.body = parse_http_response(block, max_bytes)
    return draft
