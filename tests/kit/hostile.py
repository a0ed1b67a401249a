"""A corpus of hostile inputs: one Kafka message per kind of trouble a crawler can send.

Each ``Hostile`` names the outcomes it may end in: ``"published"``, ``"skipped:<reason>"``
or ``"dead_letter:<reason>"``. A kind whose right outcome the worker does not reach yet
carries the outcome it gets today in ``gap``, so a test can hold it to the right one
(strict xfail) while a run over the whole corpus still accounts for it. The big kinds are
sized from the worker's page cap. Everything is generated here: no fixture files.
"""

from __future__ import annotations

import base64
import gzip
import io
import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise

import orjson

from tests.kit.pages import article_html, article_text

KafkaHeaders = list[tuple[str, bytes]]
HTML: KafkaHeaders = [("content-type", b"text/html; charset=utf-8")]
BIG_PAGE_BYTES = 50 * 2**20
DLQ, SKIP, PUBLISHED = "dead_letter", "skipped", "published"


@dataclass(frozen=True)
class Hostile:
    kind: str
    value: bytes | None
    headers: KafkaHeaders = field(default_factory=list)
    expect: frozenset[str] = frozenset()
    gap: str = ""  # the outcome it gets today when that is not yet one of ``expect``

    @property
    def size(self) -> int:
        return len(self.value or b"") + sum(len(k) + len(v) for k, v in self.headers)

    @property
    def accepted(self) -> frozenset[str]:
        """What a run over the corpus accepts: the right outcomes and a known gap."""
        return self.expect | {self.gap} if self.gap else self.expect


def hostile(
    kind: str, value: bytes | None, headers: KafkaHeaders, *expect: str, gap: str = ""
) -> Hostile:
    return Hostile(kind, value, headers, frozenset(expect), gap)


# --- building blocks -----------------------------------------------------------------------


def url(kind: str) -> str:
    return f"https://hostile.example/{kind}"


def page(kind: str) -> str:
    """An article of its own for each kind, so that no two are duplicates of each other."""
    return article_html(zlib.crc32(kind.encode()), url=url(kind))


def accented(kind: str) -> bytes:
    """UTF-8 bytes with non-ASCII letters, which a wrong charset label would garble."""
    return page(kind).replace("<p>", "<p>Café déjà vu — ").encode("utf-8")


def envelope(kind: str, **fields: object) -> bytes:
    return orjson.dumps({"url": url(kind), "record_id": kind, **fields})


def as_html(kind: str, content_type: bytes = b"text/html") -> KafkaHeaders:
    """Kafka headers of a raw page: its content type and URL."""
    return [("content-type", content_type), ("url", url(kind).encode())]


def warc(kind: str, block: bytes, length: int | None = None, rtype: str = "response") -> bytes:
    length = len(block) if length is None else length
    head = (
        f"WARC/1.0\r\nWARC-Type: {rtype}\r\nWARC-Target-URI: {url(kind)}\r\n"
        f"WARC-Record-ID: <urn:uuid:{kind}>\r\n"
        f"Content-Type: application/http; msgtype=response\r\nContent-Length: {length}\r\n\r\n"
    )
    return head.encode() + block + b"\r\n\r\n"


def http_response(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + body


def gzip_stream(chunk: bytes, total: int) -> bytes:
    """gzip of ``total`` bytes of ``chunk`` repeated, without holding them in memory."""
    out = io.BytesIO()
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = chunk * max(1, 2**20 // len(chunk))
    for _ in range(max(1, total // len(block))):
        out.write(packer.compress(block))
    out.write(packer.flush())
    return out.getvalue()


def big_page(n_bytes: int) -> bytes:
    """A plausible but endless article: paragraphs until ``n_bytes``."""
    paragraphs = [f"<p>{p}</p>\n".encode() for seed in range(40) for p in article_text(seed)]
    head = b"<html><head><title>An endless page</title></head><body><article>\n"
    parts, size, i = [head], len(head), 0
    while size < n_bytes:
        parts.append(paragraphs[i % len(paragraphs)])
        size += len(parts[-1])
        i += 1
    return b"".join(parts) + b"</article></body></html>"


def garbage(n: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(n)


def minimal_pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def minimal_png() -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    ihdr = (1).to_bytes(4, "big") * 2 + b"\x08\x02\x00\x00\x00"
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg_like() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + garbage(4000, seed=3) + b"\xff\xd9"


def entity_bomb() -> bytes:
    """'Billion laughs': entities defined in terms of ten copies of the previous one."""
    names = "abcdefg"
    defs = [b'<!ENTITY a "aaaaaaaaaa">']
    defs += [f'<!ENTITY {n} "{f"&{p};" * 10}">'.encode() for p, n in pairwise(names)]
    return (
        b'<?xml version="1.0"?><!DOCTYPE l [' + b"".join(defs) + b"]>"
        b"<html><body><p>&g;</p></body></html>"
    )


# --- the kinds -----------------------------------------------------------------------------


def _envelopes(cap: int) -> Iterator[Hostile]:
    yield hostile(
        "malformed_json",
        b'{"url": "https://hostile.example/x", "html": "<p>',
        [],
        f"{DLQ}:malformed_json",
    )
    yield hostile("json_array_of_numbers", b"[1, 2, 3]", [], f"{DLQ}:malformed_json")
    yield hostile(
        "json_scalar",
        b'"a string"',
        [("content-type", b"application/json")],
        f"{DLQ}:malformed_json",
    )
    yield hostile(
        "url_not_a_string",
        orjson.dumps({"url": 12345, "html": page("url_not_a_string")}),
        [],
        f"{DLQ}:bad_field_type",
        f"{DLQ}:bad_url",
    )
    yield hostile(
        "html_not_a_string",
        envelope("html_not_a_string", html=["<p>a</p>"]),
        [],
        f"{DLQ}:bad_field_type",
    )
    yield hostile(
        "status_not_a_number",
        envelope("status_not_a_number", html=page("status_not_a_number"), status="OK!"),
        [],
        f"{DLQ}:bad_field_type",
    )
    yield hostile(
        "headers_not_a_mapping",
        envelope("headers_not_a_mapping", html=page("headers_not_a_mapping"), headers=7),
        [],
        f"{DLQ}:bad_field_type",
    )
    yield hostile(
        "missing_url", orjson.dumps({"html": page("missing_url")}), [], f"{DLQ}:missing_url"
    )
    yield from _page_urls()
    yield hostile(
        "invalid_base64",
        envelope("invalid_base64", body_b64="@@not base64!!"),
        [],
        f"{DLQ}:invalid_base64",
    )
    yield hostile(
        "two_bodies",
        envelope("two_bodies", html=page("two_bodies"), text="also text"),
        [],
        f"{DLQ}:ambiguous_body",
    )
    yield hostile(
        "invalid_utf8_in_json",
        b'{"url": "https://hostile.example/u", "html": "\xff\xfe\xfa broken"}',
        [],
        f"{DLQ}:malformed_json",
    )
    yield hostile(
        "lone_surrogate_in_json",
        b'{"url": "https://hostile.example/s", "html": "<p>\\ud800</p>"}',
        [],
        f"{DLQ}:malformed_json",
    )
    deep = b'{"url": "https://hostile.example/deep", "metadata": ' + b"[" * 100_000
    yield hostile(
        "json_nested_100k_deep", deep + b"]" * 100_000 + b"}", [], f"{DLQ}:malformed_json"
    )
    yield hostile(
        "status_huge_integer",
        envelope("status_huge_integer", html=page("status_huge_integer"), status=2**62),
        [],
        f"{DLQ}:bad_field_type",
    )
    yield hostile(
        "http_error_status",
        envelope("http_error_status", html=page("http_error_status"), status=503),
        [],
        f"{SKIP}:http_status",
    )
    many = {f"x-h{i}": "v" * 50 for i in range(100_000)}
    yield hostile(
        "envelope_100k_http_headers",
        envelope(
            "envelope_100k_http_headers", html=page("envelope_100k_http_headers"), headers=many
        ),
        [],
        PUBLISHED,
        f"{DLQ}:bad_field_type",
    )
    yield hostile(
        "cloudevents_batch",
        b"[]",
        [("content-type", b"application/cloudevents-batch+json")],
        f"{DLQ}:unsupported_batch",
    )
    bomb = base64.b64encode(gzip_stream(b"\x00", 2 * cap)).decode()
    yield hostile(
        "gzip_bomb_in_base64",
        envelope("gzip_bomb_in_base64", body_b64=bomb),
        [],
        f"{DLQ}:gzip_bomb",
    )


def _page_urls() -> Iterator[Hostile]:
    """Only http(s) URLs with a host are pages; a URL that cannot be parsed fails at decode."""
    for kind, bad in (
        ("javascript_url", "javascript:alert(1)"),
        ("data_url", "data:text/html,<p>hi</p>"),
        ("file_url", "file:///etc/passwd"),
        ("mailto_url", "mailto:editor@hostile.example"),
        ("hostless_http_url", "http:/no-host/page"),
        ("empty_host_url", "https://:443/page"),
        ("broken_ipv6_host_url", "http://[x/page"),
        ("nfkc_changing_netloc_url", "https://hostile\uff0eexample\u2100.com/page"),
        ("bad_port_url", "https://hostile.example:99999/page"),
    ):
        yield hostile(kind, orjson.dumps({"url": bad, "html": page(kind)}), [], f"{DLQ}:bad_url")
    yield hostile(
        "final_url_not_a_page",
        envelope("final_url_not_a_page", html=page("final_url_not_a_page"), final_url="about:"),
        [],
        f"{DLQ}:bad_url",
    )


def with_head(kind: str, head: str) -> bytes:
    """An envelope whose page carries ``head`` (links, meta tags, JSON-LD) and no other
    canonical link."""
    html = article_html(zlib.crc32(kind.encode())).replace("</head>", head + "</head>", 1)
    return envelope(kind, html=html)


def many_names(n: int) -> str:
    """``n`` distinct two-word names, then one name of a single 100,000-letter word."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    names = [
        f"Ann {letters[i % 26]}{letters[i // 26 % 26]}{letters[i // 676 % 26]}" for i in range(n)
    ]
    return ", ".join([*names, "Z" * 100_000])


def jsonld(body: str) -> str:
    return f'<script type="application/ld+json">{body}</script>'


def _bad_metadata() -> Iterator[Hostile]:
    """Metadata the page gets wrong is dropped (or bounded); the article is published."""
    heads = {
        "canonical_unparseable": '<link rel="canonical" href="http://[x">',
        "og_url_unparseable": '<meta property="og:url" content="http://[x">',
        "og_image_unparseable": '<meta property="og:image" content="http://[x">',
        "og_image_nfkc_netloc": '<meta property="og:image" content="https://a\uff0eb\u2100/i">',
        "og_title_1mb": '<meta property="og:title" content="' + "T" * 2**20 + '">',
        "og_description_1mb": '<meta property="og:description" content="' + "d " * 2**19 + '">',
        "author_names_1mb": '<meta name="author" content="' + many_names(50_000) + '">',
        "jsonld_surrogate_headline": jsonld('{"@type": "NewsArticle", "headline": "A \\ud800"}'),
        "jsonld_surrogate_description": jsonld(
            '{"@type": "NewsArticle", "description": "A \\udfff b"}'
        ),
        "jsonld_surrogate_author": jsonld(
            '{"@type": "NewsArticle", "author": {"name": "Ann \\ud83d Lee"}}'
        ),
        "jsonld_surrogate_site_name": jsonld(
            '{"@type": "NewsArticle", "publisher": {"name": "Gazette \\udc00"}}'
        ),
        "jsonld_nested_1100": jsonld(
            '{"@type": "NewsArticle", "x": ' + "[" * 1100 + "]" * 1100 + "}"
        ),
        "jsonld_deep_author": jsonld(
            '{"@type": "NewsArticle", "author": ' + "[" * 900 + '"Ann Lee"' + "]" * 900 + "}"
        ),
        "jsonld_4301_digits": jsonld('{"@type": "NewsArticle", "headline": ' + "7" * 4301 + "}"),
        "jsonld_1e400": jsonld('{"@type": "NewsArticle", "headline": 1e400}'),
        "jsonld_nan": jsonld('{"@type": "NewsArticle", "headline": NaN}'),
        "jsonld_minus_infinity": jsonld('{"@type": "NewsArticle", "headline": -Infinity}'),
    }
    for kind, head in heads.items():
        yield hostile(kind, with_head(kind, head), [], PUBLISHED)
    yield hostile(
        "userinfo_in_urls",
        envelope(
            "userinfo_in_urls",
            html=page("userinfo_in_urls"),
            url="https://alice:s3cr3t@hostile.example/userinfo_in_urls",
            final_url="https://trusted.example@hostile.example/userinfo_in_urls",
        ),
        [],
        PUBLISHED,
    )


def stray_bytes(data: bytes, n: int) -> bytes:
    """``n`` invalid UTF-8 bytes (a Latin-1 é, a 0xff) spread over ASCII positions."""
    out, last = [], 0
    for i in range(1, n + 1):
        at = data.index(b" ", len(data) * i // (n + 1))
        out += [data[last:at], b" \xe9" if i % 2 else b" \xff"]
        last = at
    return b"".join([*out, data[last:]])


def _bodies(cap: int, big: int) -> Iterator[Hostile]:
    yield hostile("null_value", None, [("url", url("null_value").encode())], f"{DLQ}:null_value")
    yield hostile("empty_value", b"", as_html("empty_value"), f"{SKIP}:empty_body")
    yield hostile(
        "whitespace_body", b" \r\n\t " * 1000, as_html("whitespace_body"), f"{SKIP}:empty_body"
    )
    yield hostile(
        "binary_garbage_as_html",
        garbage(200_000),
        as_html("binary_garbage_as_html"),
        f"{SKIP}:not_html",
    )
    yield hostile("pdf", minimal_pdf(), as_html("pdf", b"application/pdf"), f"{SKIP}:not_html")
    yield hostile("pdf_as_html", minimal_pdf(), as_html("pdf_as_html"), f"{SKIP}:not_html")
    yield hostile(
        "png_image", minimal_png(), as_html("png_image", b"image/png"), f"{SKIP}:not_html"
    )
    yield hostile("jpeg_as_html", jpeg_like(), as_html("jpeg_as_html"), f"{SKIP}:not_html")
    yield hostile("gzip_bomb", gzip_stream(b"<p>", 2 * cap), HTML, f"{DLQ}:gzip_bomb")
    yield hostile(
        "gzip_truncated",
        gzip.compress(page("gzip_truncated").encode())[:-40],
        HTML,
        f"{DLQ}:bad_gzip",
    )
    yield hostile("gzip_magic_then_garbage", b"\x1f\x8b" + garbage(5000), HTML, f"{DLQ}:bad_gzip")
    yield hostile(
        "invalid_utf8_bytes",
        accented("invalid_utf8_bytes") + b"\xff\xfe\xc0\xaf" * 500,
        as_html("invalid_utf8_bytes", b"text/html; charset=utf-8"),
        PUBLISHED,
        f"{SKIP}:not_html",
    )
    for kind, label in (
        ("charset_lies_utf16", b"utf-16"),
        ("charset_lies_cp1252_is_utf8", b"windows-1252"),
        ("charset_unknown_label", b"x-no-such-codec"),
    ):
        # The bytes contradict the label: the worker recovers the text and publishes it.
        yield hostile(
            kind, accented(kind), as_html(kind, b"text/html; charset=" + label), PUBLISHED
        )
    # Declared UTF-8 (header and meta) with a few stray bytes: still UTF-8, not mojibake.
    yield hostile(
        "utf8_with_2_stray_bytes",
        stray_bytes(accented("utf8_with_2_stray_bytes"), 2),
        as_html("utf8_with_2_stray_bytes", b"text/html; charset=utf-8"),
        PUBLISHED,
    )
    long_page = accented("utf8_with_5_stray_bytes").replace(b"<p>", b"<p>" + b"pad " * 1500)
    yield hostile(
        "utf8_with_5_stray_bytes",
        stray_bytes(long_page, 5),
        as_html("utf8_with_5_stray_bytes", b"text/html; charset=utf-8"),
        PUBLISHED,
    )
    yield hostile(
        "charset_utf7_xss",
        b"<html><body>+ADw-script+AD4-alert(1)+ADw-/script+AD4-</body></html>",
        as_html("charset_utf7_xss", b"text/html; charset=utf-7"),
        PUBLISHED,  # UTF-7 is never decoded, so this stays harmless literal text
        f"{SKIP}:empty_after_extraction",
    )
    yield hostile(
        "nul_bytes_everywhere",
        page("nul_bytes_everywhere").encode().replace(b" ", b"\x00"),
        as_html("nul_bytes_everywhere"),
        f"{SKIP}:not_html",
    )
    yield from _heavy_html(cap, big)


def _heavy_html(cap: int, big: int) -> Iterator[Hostile]:
    """Pages that are expensive to parse or extract: a skip or a time-budget dead letter."""
    slow = (f"{SKIP}:empty_after_extraction", f"{DLQ}:time_budget")
    yield hostile(
        "html_nested_100k_deep",
        b"<html><body>" + b"<div>" * 100_000 + b"deep" + b"</div>" * 100_000,
        as_html("html_nested_100k_deep"),
        PUBLISHED,
        f"{DLQ}:too_deep",
        *slow,
    )
    yield hostile(
        "huge_attributes",
        b'<html><body><div title="' + b"A" * (cap // 4) + b'" ' + b'data-x="y" ' * 20_000
        + b"><p>tiny</p></div></body></html>",
        as_html("huge_attributes"),
        PUBLISHED,
        *slow,
    )  # fmt: skip
    yield hostile(
        "distinct_attributes_100k",  # the parser is quadratic in them, in C
        b"<html><body><div "
        + b" ".join(b"a%d=1" % i for i in range(100_000))
        + b"><p>tiny</p></div></body></html>",
        as_html("distinct_attributes_100k"),
        f"{DLQ}:too_many_attributes",
    )
    yield hostile(
        "center_nested_100k",  # a block element the old nesting guard did not count
        b"<html><body>" + b"<center>" * 100_000 + b"deep",
        as_html("center_nested_100k"),
        f"{DLQ}:too_deep",
    )
    yield hostile(
        "million_tiny_elements",
        b"<html><body>" + b"<i></i>" * 1_000_000 + b"</body></html>",
        as_html("million_tiny_elements"),
        *slow,
    )
    yield hostile(
        "script_only",
        b"<html><body><script>" + b"var a=1;" * 100_000 + b"</script></body></html>",
        as_html("script_only"),
        *slow,
    )
    yield hostile("entity_expansion", entity_bomb(), as_html("entity_expansion"), PUBLISHED, *slow)
    yield hostile(
        "single_word_megabytes",
        b"<html><body><p>" + b"x" * (cap // 4) + b"</p></body></html>",
        as_html("single_word_megabytes"),
        PUBLISHED,
        f"{DLQ}:too_large",  # over the extracted-text cap
        *slow,
    )
    yield hostile("too_large_value", b"<p>" + b"x" * cap, HTML, f"{DLQ}:too_large")
    yield hostile(
        "page_50mb",
        big_page(big),
        as_html("page_50mb"),
        PUBLISHED,
        f"{DLQ}:time_budget",
        f"{DLQ}:too_large",
        f"{DLQ}:out_of_memory",
    )


def _kafka_headers() -> Iterator[Hostile]:
    def with_url(kind: str, *extra: tuple[str, bytes]) -> KafkaHeaders:
        return [*HTML, ("url", url(kind).encode()), *extra]

    junk = [(f"x-junk-{i}", b"j" * 100) for i in range(5000)]
    yield hostile(
        "kafka_5000_headers",
        page("kafka_5000_headers").encode(),
        with_url("kafka_5000_headers", *junk),
        PUBLISHED,
    )
    yield hostile(
        "kafka_header_1mb",
        page("kafka_header_1mb").encode(),
        with_url("kafka_header_1mb", ("x-huge", b"h" * 2**20)),
        PUBLISHED,
    )
    yield hostile(
        "kafka_headers_not_utf8",
        page("kafka_headers_not_utf8").encode(),
        [("content-type", b"\xff\xfe\x00garbage"), ("url", b"\xc3\x28://\xff")],
        f"{DLQ}:bad_url",
        f"{DLQ}:missing_url",
    )
    yield hostile(
        "url_1mb_long",
        page("url_1mb_long").encode(),
        [*HTML, ("url", b"https://hostile.example/" + b"a" * 2**20)],
        f"{DLQ}:bad_url",
    )


def _warc_records() -> Iterator[Hostile]:
    block = http_response(page("warc").encode())
    yield hostile(
        "warc_truncated", warc("warc_truncated", block)[: len(block) // 2], [],
        f"{DLQ}:truncated_warc",
    )  # fmt: skip
    yield hostile(
        "warc_content_length_too_long",
        warc("warc_long", block, len(block) + 5000),
        [],
        f"{DLQ}:truncated_warc",
    )
    yield hostile(
        "warc_content_length_too_short",
        warc("warc_short", block, len(block) // 3),
        [],
        f"{DLQ}:bad_warc",
    )
    yield hostile(
        "warc_content_length_not_a_number",
        warc("warc_nan", block).replace(b"Content-Length: ", b"Content-Length: -x", 1),
        [],
        f"{DLQ}:bad_warc",
    )
    yield hostile(
        "warc_endless_header",
        b"WARC/1.0\r\nX-Pad: " + b"p" * 200_000,
        [],
        f"{DLQ}:bad_warc",
        f"{DLQ}:truncated_warc",
    )
    yield hostile(
        "warc_request_record",
        warc("warc_request", b"GET / HTTP/1.1\r\n\r\n", rtype="request"),
        [],
        f"{SKIP}:warc_request",
    )
    yield hostile(
        "warc_http_garbage",
        warc("warc_http_garbage", garbage(3000, seed=11)),
        [],
        f"{DLQ}:bad_warc",
        f"{SKIP}:not_html",
    )


def hostile_inputs(cap: int, big_page_bytes: int = BIG_PAGE_BYTES) -> list[Hostile]:
    """Every hostile kind, sized for a worker whose INGEST_MAX_PAGE_BYTES is ``cap``."""
    out = [
        *_envelopes(cap),
        *_bad_metadata(),
        *_bodies(cap, big_page_bytes),
        *_kafka_headers(),
        *_warc_records(),
    ]
    kinds = [h.kind for h in out]
    assert len(kinds) == len(set(kinds)), "kinds must be unique"
    return out


def evasive_attributes_page(count: int) -> bytes:
    """An element with ``count`` distinct attributes whose values hold ">", so no cheap scan
    sees one long tag: the parser's quadratic C code runs until the hard limit kills it."""
    attributes = b" ".join(b'a%d=">"' % i for i in range(count))
    return b"<html><body><div " + attributes + b"><p>slow</p></div></body></html>"
