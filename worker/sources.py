"""Input files -> Kafka-shaped messages, for the tools that read from disk instead of Kafka.

JSON lines (one envelope a line; ``-`` or no paths is stdin), WARC / WET files
(gzipped or not, one message per record, the record's bytes as the value), and
directories walked recursively: ``.html`` / ``.htm`` (optionally ``.gz``) pages
become raw messages whose URL comes from a sidecar ``<name>.json`` object when
there is one, else a URL of its own under ``file.invalid`` (``local_url``); ``.txt`` files
are text/plain.
Keys are the page's host, so one site's pages land on one partition.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import sys
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, urlsplit

import orjson

from worker.decode.envelope import parse_json, record_url
from worker.model import BadRecord

log = logging.getLogger(__name__)

JSON_HEADERS = [("content-type", b"application/json")]
WARC_HEADERS = [("content-type", b"application/warc")]
# File name endings -> how the file is read.
FILE_KINDS: tuple[tuple[tuple[str, ...], str], ...] = (
    ((".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz"), "jsonl"),
    ((".warc", ".warc.gz", ".wet", ".wet.gz"), "warc"),
    ((".html", ".htm", ".xhtml", ".html.gz", ".htm.gz", ".xhtml.gz"), "html"),
    ((".txt", ".txt.gz"), "text"),
)
PAGE_CONTENT_TYPES = {"html": b"text/html", "text": b"text/plain"}
# Sidecar JSON fields passed on as message headers.
SIDECAR_FIELDS = ("url", "final_url", "status", "fetched_at", "source", "record_id", "charset")
MAX_LINE_BYTES = 1 << 20
MAX_JUNK_BYTES = 1 << 20
SNIFF_BYTES = 64


@dataclass(frozen=True, slots=True)
class Message:
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    origin: str  # "path" or "path:line" / "path#record", for error messages


def key_for_url(url: str) -> bytes | None:
    """The URL's host as the partition key; None for hostless or unparseable URLs."""
    try:
        host = urlsplit(url).hostname
    except (ValueError, TypeError, AttributeError):
        return None
    host = (host or "").rstrip(".")
    return host.encode("utf-8", "replace") if host else None


def read_messages(
    paths: Sequence[str | Path], *, stdin: BinaryIO | None = None
) -> Iterator[Message]:
    if isinstance(paths, str | Path):
        paths = [paths]
    for path in paths or ["-"]:
        if str(path) == "-":
            yield from _jsonl(stdin if stdin is not None else sys.stdin.buffer, "-")
            continue
        path = Path(path)
        if path.is_dir():
            yield from _directory(path)
        else:
            yield from _file(path, _kind(path.name) or _sniff_kind(path), path.name)


def _directory(root: Path) -> Iterator[Message]:
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(name for name in dirnames if not name.startswith("."))
        for name in sorted(filenames):
            kind = _kind(name)
            if kind and not name.startswith("."):
                path = Path(folder, name)
                yield from _file(path, kind, path.relative_to(root).as_posix())


def _file(path: Path, kind: str, relative_name: str) -> Iterator[Message]:
    if kind == "jsonl":
        with _open(path) as stream:
            yield from _jsonl(stream, str(path))
    elif kind == "warc":
        with _open(path) as stream:
            yield from _warc(stream, str(path))
    else:
        yield _page_file(path, kind, relative_name)


def _kind(name: str) -> str | None:
    lower = name.lower()
    return next((kind for endings, kind in FILE_KINDS if lower.endswith(endings)), None)


def _sniff_kind(path: Path) -> str:
    """A file named on the command line with an unknown ending: look at its first bytes."""
    with _open(path) as stream:
        head = stream.read(SNIFF_BYTES).lstrip()
    if head.startswith(b"WARC/"):
        return "warc"
    return "jsonl" if head[:1] in (b"{", b"[") else "html"


def _open(path: Path) -> BinaryIO:
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def _jsonl(stream: BinaryIO, origin: str) -> Iterator[Message]:
    try:
        for number, line in enumerate(stream, 1):
            value = line.strip()
            if number == 1:
                value = value.removeprefix(b"\xef\xbb\xbf")
            if value:
                yield Message(_json_key(value), value, list(JSON_HEADERS), f"{origin}:{number}")
    except (OSError, EOFError, zlib.error) as exc:
        log.warning("%s: stopped reading: %s", origin, exc)


def _json_key(value: bytes) -> bytes | None:
    try:
        url = record_url(parse_json(value))
    except (BadRecord, orjson.JSONDecodeError):
        return None
    if isinstance(url, list):  # Nutch writes every field as an array
        url = next(iter(url), None)
    return key_for_url(url) if isinstance(url, str) else None


def _page_file(path: Path, kind: str, relative_name: str) -> Message:
    headers = [("content-type", PAGE_CONTENT_TYPES[kind])]
    sidecar = _sidecar(path)
    url = sidecar.get("url")
    key = None
    if isinstance(url, str) and url:
        key = key_for_url(url)
    else:
        url = local_url(relative_name)
    headers.append(("url", url.encode()))
    for name in SIDECAR_FIELDS[1:]:
        value = sidecar.get(name)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            headers.append((name, str(value).encode()))
    return Message(key, path.read_bytes(), headers, str(path))


def local_url(relative_name: str) -> str:
    """The URL of a file without one: only http(s) URLs with a host are pages, and a host of
    its own (in the reserved ``.invalid`` domain) keeps unrelated files from being one site."""
    label = hashlib.blake2b(relative_name.encode("utf-8", "surrogateescape"), digest_size=6)
    return f"http://{label.hexdigest()}.file.invalid/{quote(relative_name)}"


def _sidecar(path: Path) -> dict:
    """``page.json`` beside ``page.html`` / ``page.html.gz``: the page's URL and fetch details."""
    stem = path.name.removesuffix(".gz").rpartition(".")[0]
    sidecar = path.with_name(f"{stem}.json")
    if not sidecar.is_file():
        return {}
    try:
        found = orjson.loads(sidecar.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        log.warning("%s: ignoring unreadable sidecar: %s", sidecar, exc)
        return {}
    return found if isinstance(found, dict) else {}


def _warc(stream: BinaryIO, origin: str) -> Iterator[Message]:
    try:
        for number, (record, url) in enumerate(iter_warc_records(stream), 1):
            key = key_for_url(url) if url else None
            yield Message(key, record, list(WARC_HEADERS), f"{origin}#{number}")
    except (OSError, EOFError, zlib.error) as exc:
        log.warning("%s: stopped reading: %s", origin, exc)


def iter_warc_records(stream: BinaryIO) -> Iterator[tuple[bytes, str | None]]:
    """Each record's bytes (uncompressed) with its target URI, trusting Content-Length.

    When the bytes after a block are not the blank lines that should end it, the
    Content-Length lied: those bytes go with the record (so decoding rejects it)
    and reading resumes at the next ``WARC/`` version line.
    """
    line = stream.readline(MAX_LINE_BYTES)
    while line:
        if not line.strip():
            line = stream.readline(MAX_LINE_BYTES)
            continue
        if not line.startswith(b"WARC/"):
            junk, line = _until_version_line(stream, line)
            yield junk, None
            continue
        head, length, url = _warc_head(stream, line)
        if length is None:
            yield head, url
            line = stream.readline(MAX_LINE_BYTES)
            continue
        record = head + stream.read(length)
        line = stream.readline(MAX_LINE_BYTES)
        while line and not line.strip():
            record += line
            line = stream.readline(MAX_LINE_BYTES)
        if line and not line.startswith(b"WARC/"):
            junk, line = _until_version_line(stream, line)
            record += junk
        yield record, url


def _warc_head(stream: BinaryIO, line: bytes) -> tuple[bytes, int | None, str | None]:
    lines = [line]
    length: int | None = None
    url: str | None = None
    while True:
        line = stream.readline(MAX_LINE_BYTES)
        lines.append(line)
        if not line.strip():
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length" and value.strip().isdigit():
            length = int(value.strip())
        elif name == b"warc-target-uri":
            url = value.strip().strip(b"<>").decode("utf-8", "replace")
    return b"".join(lines), length, url


def _until_version_line(stream: BinaryIO, line: bytes) -> tuple[bytes, bytes]:
    """Bytes (capped) up to the next ``WARC/`` line, and that line."""
    junk = [line]
    size = len(line)
    line = stream.readline(MAX_LINE_BYTES)
    while line and not line.startswith(b"WARC/"):
        if size < MAX_JUNK_BYTES:
            junk.append(line)
            size += len(line)
        line = stream.readline(MAX_LINE_BYTES)
    return b"".join(junk), line
