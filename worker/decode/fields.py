"""Checks and coercions for envelope fields; wrong JSON types are a BadRecord, not a crash."""

from __future__ import annotations

import re
from collections.abc import Iterable

from worker.model import BadRecord
from worker.urls import web_url

MAX_URL_CHARS = 16384
MAX_HEADERS = 256
MAX_HEADER_VALUE_CHARS = 8192
MAX_SHORT_FIELD_CHARS = 1024
MAX_METADATA_DEPTH = 16

URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
HTTP_URL = re.compile(r"https?://\S", re.IGNORECASE)


def check_url(value: object, name: str = "url") -> str | None:
    """An http(s) URL with a host, without userinfo (``web_url``); None when absent;
    anything else is a BadRecord (``bad_url``), so ``replay-dlq --reason bad_url`` finds it."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRecord("bad_field_type", f"{name} must be a string, not {type(value).__name__}")
    url = value.strip()
    if not url:
        return None
    if len(url) > MAX_URL_CHARS or CONTROL_CHARS.search(url) or not URL_SCHEME.match(url):
        raise BadRecord("bad_url", f"{name} is not a URL with a scheme")
    page_url = web_url(url)
    if page_url is None:
        raise BadRecord("bad_url", f"{name} is not an http(s) URL with a host")
    return page_url


def is_http_url(value: object) -> bool:
    return isinstance(value, str) and bool(HTTP_URL.match(value))


def check_status(value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit() and value.isascii():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRecord("bad_field_type", "status must be an HTTP status code")
    if value == 0:
        return None  # "no response" in several crawlers' records
    if not 100 <= value <= 999:
        raise BadRecord("bad_field_type", "status is outside 100-999")
    return value


def check_str(value: object, name: str) -> str | None:
    """Short identifying fields (source, record_id, charset...); numbers become strings."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadRecord("bad_field_type", f"{name} must be a string, not {type(value).__name__}")
    text = str(value).strip()
    if len(text) > MAX_SHORT_FIELD_CHARS:
        raise BadRecord("bad_field_type", f"{name} is longer than {MAX_SHORT_FIELD_CHARS} chars")
    return text or None


def check_headers(value: object) -> dict[str, str]:
    """An object, or a list of ``[name, value]`` pairs / ``{"name", "value"}`` objects.

    Repeated names (and list values, as Scrapy Cluster writes them) are joined with ", ".
    """
    if value is None:
        return {}
    if isinstance(value, dict):
        pairs: Iterable[object] = value.items()
    elif isinstance(value, list):
        pairs = value
    else:
        raise BadRecord("bad_field_type", "headers must be an object or a list of pairs")
    headers: dict[str, str] = {}
    for count, pair in enumerate(pairs):
        if count >= MAX_HEADERS:
            break
        name, raw = _header_pair(pair)
        text = _header_text(raw)
        if text is None:
            continue
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def _header_pair(pair: object) -> tuple[str, object]:
    if isinstance(pair, tuple | list) and len(pair) == 2 and isinstance(pair[0], str):
        return pair[0], pair[1]
    if isinstance(pair, dict) and isinstance(pair.get("name"), str):
        return pair["name"], pair.get("value")
    raise BadRecord("bad_field_type", "a header is not a [name, value] pair")


def _header_text(raw: object) -> str | None:
    if isinstance(raw, list):
        parts = [_scalar_text(item) for item in raw[:MAX_HEADERS]]
        kept = [part for part in parts if part is not None]
        return ", ".join(kept)[:MAX_HEADER_VALUE_CHARS] if kept else None
    return _scalar_text(raw)


def _scalar_text(raw: object) -> str | None:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        return None
    return str(raw)[:MAX_HEADER_VALUE_CHARS]


def check_metadata(value: object) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRecord("bad_field_type", "metadata must be an object")
    if depth_exceeds(value, MAX_METADATA_DEPTH):
        raise BadRecord("bad_field_type", f"metadata is nested deeper than {MAX_METADATA_DEPTH}")
    return value


def depth_exceeds(root: object, limit: int) -> bool:
    """Whether JSON ``root`` nests deeper than ``limit``. Iterative, so a hostile 1000-deep
    object cannot hit the recursion limit."""
    stack: list[tuple[object, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if not isinstance(node, dict | list):
            continue
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
