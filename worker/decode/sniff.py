"""Recognising bodies that are plainly not a page, whatever their label says."""

from __future__ import annotations

import re

SNIFF_BYTES = 1024

# File signatures of formats that get mislabelled as text/html or octet-stream.
BINARY_MAGIC: tuple[bytes, ...] = (
    b"%PDF-",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"GIF87a",
    b"GIF89a",
    b"PK\x03\x04",  # zip, docx, xlsx, epub
    b"RIFF",  # webp, wav, avi
    b"OggS",
    b"\x1aE\xdf\xa3",  # webm / mkv
    b"\x7fELF",
    b"wOFF",
    b"wOF2",
    b"BZh",
    b"\xfd7zXZ\x00",
    b"7z\xbc\xaf\x27\x1c",
    b"\x28\xb5\x2f\xfd",  # zstd
)
WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


def looks_binary(data: bytes, *, wide_declared: bool = False) -> bool:
    """A known binary signature, or NUL bytes that no UTF-16/32 text explains."""
    if data.startswith(BINARY_MAGIC) or data[4:8] == b"ftyp":  # ftyp: mp4 / mov / heic
        return True
    if wide_declared or data.startswith(WIDE_BOMS):
        return False
    return b"\x00" in data[:SNIFF_BYTES]


HTML_STARTS = ("<!doctype", "<html", "<head", "<body")
HTML_PROBE_CHARS = 4096
TAG = re.compile(r"</?[A-Za-z!][^<>]{0,2000}>")
MOSTLY_TAGS = 0.5  # share of a text's non-space characters inside tags that makes it markup


def looks_like_html(text: str) -> bool:
    """Markup handed over as text (Scrapy's ``response.text``): it opens (after whitespace
    and a BOM) with a doctype, ``<html``, ``<head`` or ``<body``, or is mostly tags."""
    probe = text[:HTML_PROBE_CHARS].lstrip("\ufeff \t\r\n\f")
    if probe[:16].lower().startswith(HTML_STARTS):
        return True
    if "<" not in probe:
        return False
    solid = len(probe) - sum(probe.count(space) for space in " \t\r\n")
    tagged = sum(len(m.group()) for m in TAG.finditer(probe))
    return solid > 0 and tagged >= MOSTLY_TAGS * solid
