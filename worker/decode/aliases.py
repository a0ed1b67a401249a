"""Other crawlers' page records, mapped onto the envelope by a table rather than by code.

What the formats look like (read from the projects' sources):

* Scrapy Cluster, ``crawler/crawling/items.py`` + ``pipelines.py`` (istresearch/scrapy-cluster):
  ``RawResponseItem`` -> ``url``, ``response_url``, ``status_code``, ``status_msg``,
  ``response_headers`` (name -> list of values), ``body`` (base64 when
  ``KAFKA_BASE_64_ENCODE``, else text), ``encoding``, ``crawlid``, ``appid``,
  ``attrs``, ``links``, ``timestamp`` (naive UTC ISO).
* Frontera, ``frontera/contrib/backends/remote/codecs/json.py`` (scrapinghub/frontera):
  ``{"type": "page_crawled", "r": {"url", "status_code", "meta", "body": base64 | null}}``;
  newer releases wrap every value as ``[type_tag, value]`` (see ``unwrap_typed``).
* crawl4ai, ``CrawlResult`` (unclecode/crawl4ai, docs "crawler-result"): ``url``,
  ``html``, ``success``, ``status_code``, ``response_headers``, ``redirected_url``,
  ``cleaned_html``, ``markdown``, ``metadata``, ``error_message``...
* Apache Nutch indexer-kafka, ``KafkaIndexWriter.write`` (apache/nutch): every
  NutchDocument field as an array of strings (``url``, ``id``, ``title``,
  ``content`` = parsed text, ``tstamp`` = ``java.util.Date.toString()``, ``type``,
  ``digest``, ``segment``, ``boost``); ``binaryContent`` (base64, or the raw
  string) when indexing with ``-addBinaryContent`` (``IndexerMapReduce``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from worker.decode.frontera import NO_BODY_DETAIL, NO_BODY_REASON
from worker.model import BadRecord, SkipRecord

BASE64_BODY = re.compile(r"[A-Za-z0-9+/=_\-\s]+")
BASE64_PROBE_CHARS = 4096
MAX_TYPED_DEPTH = 64
TYPED_TAGS = frozenset({"dict", "list", "tuple", "bytes", "other"})


@dataclass(frozen=True, slots=True)
class Alias:
    name: str  # suffix of input_format: json:<name>
    keys: frozenset[str]  # all present at the top of a record of this format
    fields: Mapping[str, str]  # envelope field -> dotted path below ``root``
    bodies: tuple[tuple[str, str], ...]  # (path, html|text|b64|auto): first non-empty wins
    root: str = ""  # dotted path of the object describing the page
    only_if: tuple[str, object] | None = None  # (top-level key, value) of a page record
    skip_reason: str = ""  # counted when ``only_if`` does not hold
    list_values: bool = False  # every value is an array of strings
    metadata: Mapping[str, str] = field(default_factory=dict)  # metadata key -> path
    no_body: tuple[str, str] | None = None  # (reason, detail) skipped when every body is null


def _table(**entries: str) -> Mapping[str, str]:
    return MappingProxyType(entries)


ALIASES: tuple[Alias, ...] = (
    Alias(
        name="frontera",
        keys=frozenset({"type", "r"}),
        root="r",
        only_if=("type", "page_crawled"),
        skip_reason="not_page",
        fields=_table(url="url", status="status_code", record_id="meta.fingerprint"),
        bodies=(("body", "b64"),),
        no_body=(NO_BODY_REASON, NO_BODY_DETAIL),
    ),
    Alias(
        name="nutch",
        keys=frozenset({"url", "digest", "segment"}),
        list_values=True,
        fields=_table(url="url", fetched_at="tstamp", content_type="type"),
        bodies=(("binaryContent", "auto"), ("content", "text")),
        metadata=_table(digest="digest", segment="segment"),
    ),
    Alias(
        name="scrapy-cluster",
        keys=frozenset({"crawlid", "appid", "body"}),
        fields=_table(
            url="url",
            final_url="response_url",
            status="status_code",
            headers="response_headers",
            charset="encoding",
            fetched_at="timestamp",
        ),
        bodies=(("body", "auto"),),
        metadata=_table(crawlid="crawlid", appid="appid"),
    ),
    Alias(
        name="crawl4ai",
        keys=frozenset({"html", "success"}),
        only_if=("success", True),
        skip_reason="fetch_failed",
        fields=_table(
            url="url", final_url="redirected_url", status="status_code", headers="response_headers"
        ),
        bodies=(("html", "html"),),
    ),
)
BODY_KEYS = {"html": "html", "text": "text", "b64": "body_b64"}


def find_alias(record: dict) -> Alias | None:
    return next((alias for alias in ALIASES if alias.keys <= record.keys()), None)


def to_envelope(record: dict, alias: Alias) -> dict:
    """Map a record of a known format onto envelope fields (values still unchecked)."""
    if alias.only_if is not None:
        key, wanted = alias.only_if
        if record.get(key) != wanted:
            raise SkipRecord(alias.skip_reason, f"{alias.name} record that is not a fetched page")
    page = _get(record, alias.root) if alias.root else record
    if not isinstance(page, dict):
        raise BadRecord("bad_field_type", f"{alias.name} page is not an object")
    envelope: dict = {}
    for name, path in alias.fields.items():
        value = _get(page, path)
        envelope[name] = _unlist(value, name) if alias.list_values else value
    bodies = [_get(page, path) for path, _ in alias.bodies]
    if alias.list_values:
        bodies = [
            _unlist(value, path) for value, (path, _) in zip(bodies, alias.bodies, strict=True)
        ]
    if alias.no_body and all(value is None for value in bodies):
        raise SkipRecord(*alias.no_body)
    for value, (_, how) in zip(bodies, alias.bodies, strict=True):
        if value:
            envelope[_body_key(value, how)] = value
            break
    metadata = {key: _get(page, path) for key, path in alias.metadata.items()}
    if alias.list_values:
        metadata = {key: _unlist(value, key) for key, value in metadata.items()}
    envelope["metadata"] = {
        key: value for key, value in metadata.items() if isinstance(value, str | int | float)
    }
    return envelope


def envelope_url(record: dict) -> object:
    """Where the page URL sits in a record of any known format (for partition keys)."""
    alias = find_alias(record)
    if alias is None:
        return record.get("url")
    page = _get(record, alias.root) if alias.root else record
    value = _get(page, alias.fields["url"]) if isinstance(page, dict) else None
    return _unlist(value, "url") if alias.list_values else value


def unwrap_typed(node: object, depth: int = 0) -> object:
    """Frontera's JSON codec writes ``[tag, value]`` pairs (``dict`` values as pair lists)."""
    if depth > MAX_TYPED_DEPTH:
        raise BadRecord("malformed_json", "typed value nested too deeply")
    if not (isinstance(node, list) and len(node) == 2 and isinstance(node[0], str)):
        raise BadRecord("malformed_json", "top level is neither an object nor a typed value")
    tag, value = node
    if tag not in TYPED_TAGS:
        raise BadRecord("malformed_json", "unknown type tag in a typed value")
    if tag == "dict":
        if not isinstance(value, list):
            raise BadRecord("malformed_json", "typed dict is not a list of pairs")
        return dict(_typed_pair(pair, depth) for pair in value)
    if tag in ("list", "tuple"):
        if not isinstance(value, list):
            raise BadRecord("malformed_json", "typed list is not a list")
        return [unwrap_typed(item, depth + 1) for item in value]
    return value


def _typed_pair(pair: object, depth: int) -> tuple[str, object]:
    if not (isinstance(pair, list) and len(pair) == 2):
        raise BadRecord("malformed_json", "typed dict entry is not a pair")
    key = unwrap_typed(pair[0], depth + 1)
    if not isinstance(key, str | int | float) or isinstance(key, bool):
        raise BadRecord("malformed_json", "typed dict key is not a scalar")
    return str(key), unwrap_typed(pair[1], depth + 1)


def _get(obj: object, path: str) -> object:
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _unlist(value: object, name: str) -> object:
    """Nutch writes each field as an unordered array; a media type is the value with a slash."""
    if not isinstance(value, list):
        return value
    strings = [item for item in value if isinstance(item, str)]
    if name == "content_type":
        return next((item for item in strings if "/" in item), None)
    return strings[0] if strings else None


def _body_key(value: object, how: str) -> str:
    if how == "auto":
        return "body_b64" if _looks_base64(value) else "html"
    return BODY_KEYS[how]


def _looks_base64(value: object) -> bool:
    """Markup always has ``<`` and prose has spaces; a base64 body has neither."""
    if not isinstance(value, str) or len(value) < 4:
        return False
    probe = value[:BASE64_PROBE_CHARS]
    return "<" not in probe and " " not in probe and BASE64_BODY.fullmatch(value) is not None
