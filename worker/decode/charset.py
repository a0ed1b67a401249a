"""Bytes -> text, following the declared charsets only as far as the bytes agree.

Precedence: envelope charset, HTTP Content-Type charset, byte-order mark,
``<meta charset>`` / ``<meta http-equiv>`` in the first few KB, a detector
(only for bytes that are not valid UTF-8), then UTF-8 with replacement. A
declaration that names no text codec, that the bytes contradict (a different
BOM, valid non-ASCII UTF-8 under a legacy label, more than a few undecodable
sequences under a legacy label, or under a UTF-8 label invalid sequences that are not
far outnumbered by valid multi-byte ones) is treated as a lie and the next source is asked.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from functools import lru_cache

META_SCAN_BYTES = 4096
DETECTOR_SCAN_BYTES = 16384
MAX_LABEL_CHARS = 40
# Declared UTF-8 with invalid sequences stays UTF-8 while valid multi-byte characters
# outnumber them this many to one (``_mostly_utf8``).
VALID_PER_INVALID = 2

BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# WHATWG Encoding Standard: labels browsers decode with a superset codec.
WHATWG_SUPERSETS = {
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "iso-8859-9": "cp1254",
    "latin5": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "x-sjis": "shift_jis",
    "big5": "big5hkscs",
}
# Codecs Python knows that are not charsets a web page can be in.
# Codecs Python knows that are not charsets a web page can be in (EBCDIC pages are not served).
NOT_PAGE_CODECS = frozenset(
    {
        "undefined",
        "unicode-escape",
        "raw-unicode-escape",
        "utf-7",
        "idna",
        "punycode",
        "mbcs",
        "oem",
        "cp037",
        "cp273",
        "cp424",
        "cp500",
        "cp875",
        "cp1026",
        "cp1140",
    }
)
WIDE_CODECS = frozenset({"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"})
UTF8_CODECS = frozenset({"utf-8", "utf-8-sig"})

META_CHARSET = re.compile(
    rb"<meta\s[^>]*?charset\s*=\s*[\"']?\s*([a-zA-Z0-9_.:\-]+)", re.IGNORECASE
)


def decode_bytes(data: bytes, declared: Sequence[tuple[str, str | None]]) -> tuple[str, str, str]:
    """``declared`` is ``[(source, label), ...]`` in order; returns ``(text, codec, source)``."""
    utf8 = _strict_utf8(data)
    for source, label in declared:
        codec = codec_for(label)
        text = _try_declared(data, codec, utf8)
        if text is not None and codec:
            return text, codec, source
    bom_codec = _bom_codec(data)
    if bom_codec:
        return data[_bom_len(data) :].decode(bom_codec, "replace"), bom_codec, "bom"
    meta = _meta_codec(data)
    if meta:
        text = _try_declared(data, meta, utf8)
        if text is not None:
            return text, meta, "meta"
    if utf8 is not None:
        return utf8, "utf-8", "default"
    detected = _detect(data)
    if detected:
        return data.decode(detected, "replace"), detected, "detector"
    return data.decode("utf-8", "replace"), "utf-8", "default"


def _strict_utf8(data: bytes) -> str | None:
    """Needed by most paths; on legacy-encoded bytes it fails at the first non-ASCII byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def codec_for(label: str | None) -> str | None:
    """A declared label -> Python codec name, or None for unknown / non-page codecs."""
    if not label or len(label) > MAX_LABEL_CHARS:
        return None
    return _lookup(label.strip().strip("\"'").lower())


@lru_cache(maxsize=256)
def _lookup(label: str) -> str | None:
    label = WHATWG_SUPERSETS.get(label, label)
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError, TypeError):
        return None
    if name in NOT_PAGE_CODECS or not getattr(codecs.lookup(name), "_is_text_encoding", True):
        return None
    return name


def _try_declared(data: bytes, codec: str | None, utf8: str | None) -> str | None:
    if codec is None:
        return None
    bom = _bom_codec(data)
    if bom and not _same_family(bom, codec):
        return None
    if codec in UTF8_CODECS:
        if utf8 is not None:
            return utf8.removeprefix("\ufeff")
        return _mostly_utf8(data)
    if codec in WIDE_CODECS:
        if bom:
            return _tolerant(data[_bom_len(data) :], bom)
        return _tolerant(data, codec) if b"\x00" in data[:1024] else None
    if data.isascii():
        return data.decode("ascii")
    if utf8 is not None:
        return None  # valid non-ASCII UTF-8 under a legacy label: the label is wrong
    return _tolerant(data, codec)


def _tolerant(data: bytes, codec: str) -> str | None:
    """Strict decode, forgiving a handful of bad sequences (a cut-off last character...)."""
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        pass
    except LookupError:
        return None
    text = data.decode(codec, "replace")
    if text.count("\ufffd") > _tolerable_errors(len(data)):
        return None
    return text


def _mostly_utf8(data: bytes) -> str | None:
    """Declared UTF-8 that is not quite: UTF-8 with replacement while its valid multi-byte
    characters outnumber the invalid sequences ``VALID_PER_INVALID`` to one.

    A few stray bytes (a Latin-1 é pasted into a template, a cut character) leave a UTF-8
    page mostly valid; asking the detector instead garbles every accented letter. A legacy
    page served as UTF-8 has next to no valid multi-byte sequences: its declaration is a
    lie and the next source is asked. (Measured with ``bench.charset_bench``, README.)
    """
    text = data.decode("utf-8-sig", "replace")
    invalid = text.count("\ufffd")
    if invalid <= _tolerable_errors(len(data)):
        return text
    valid = len(text) - len(text.encode("ascii", "ignore")) - invalid
    return text if valid >= VALID_PER_INVALID * invalid else None


def _tolerable_errors(n_bytes: int) -> int:
    return min(8, 1 + n_bytes // 10000)


def _same_family(bom_codec: str, codec: str) -> bool:
    if bom_codec == "utf-8":
        return codec in UTF8_CODECS
    return codec.split("-")[:2] == bom_codec.split("-")[:2]


def _bom_codec(data: bytes) -> str | None:
    for bom, codec in BOMS:
        if data.startswith(bom):
            return codec
    return None


def _bom_len(data: bytes) -> int:
    for bom, _ in BOMS:
        if data.startswith(bom):
            return len(bom)
    return 0


def _meta_codec(data: bytes) -> str | None:
    match = META_CHARSET.search(data, 0, META_SCAN_BYTES)
    if not match:
        return None
    codec = codec_for(match.group(1).decode("ascii"))
    if codec in WIDE_CODECS:
        return "utf-8"  # a meta tag readable as ASCII cannot be in UTF-16 (HTML spec)
    return codec


def _detect(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data[:DETECTOR_SCAN_BYTES]).best()
    return codec_for(best.encoding) if best is not None else None
