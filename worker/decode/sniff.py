"""Recognising bodies that are plainly not a page, whatever their label says."""

from __future__ import annotations

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
