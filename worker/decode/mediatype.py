"""Content-Type parsing and the question the pipeline cares about: is this a page?"""

from __future__ import annotations

from typing import Literal

HTML_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "application/vnd.wap.xhtml+xml",
        "text/xhtml",
    }
)
TEXT_TYPES = frozenset({"text/plain", "text/markdown", "text/x-markdown"})
# Types servers use when they do not know; the body itself decides.
UNKNOWN_TYPES = frozenset(
    {"", "application/octet-stream", "binary/octet-stream", "unknown/unknown"}
)
JSON_TYPES = frozenset({"application/json", "text/json", "application/cloudevents+json"})
WARC_TYPES = frozenset({"application/warc", "application/x-warc"})
CLOUDEVENTS_BATCH = "application/cloudevents-batch+json"

MAX_CONTENT_TYPE_CHARS = 512

PageKind = Literal["html", "text", "unknown", "other"]


def parse_content_type(value: str | None) -> tuple[str, str | None]:
    """``'Text/HTML; charset="UTF-8"'`` -> ``('text/html', 'UTF-8')``; garbage -> ``('', None)``."""
    if not value:
        return "", None
    media, _, params = value[:MAX_CONTENT_TYPE_CHARS].partition(";")
    media = media.strip().lower()
    if "/" not in media or " " in media:
        media = ""
    charset = None
    for param in params.split(";"):
        name, eq, val = param.partition("=")
        if eq and name.strip().lower() == "charset":
            charset = val.strip().strip("\"'").strip() or None
            break
    return media, charset


def page_kind(media: str) -> PageKind:
    if media in HTML_TYPES:
        return "html"
    if media in TEXT_TYPES:
        return "text"
    if media in UNKNOWN_TYPES:
        return "unknown"
    return "other"


def is_json_type(media: str) -> bool:
    return media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))
