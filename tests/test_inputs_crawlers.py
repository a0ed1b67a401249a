"""Crawlers' natural output, made by the crawlers themselves, read as they meant it.

Scrapy crawls a local server and exports its items with its own JSON-lines feed exporter;
wget writes a WARC of the same server; CloudEvents come from the CloudEvents SDK; Frontera
messages are packed as its msgpack codec packs them (Frontera itself is not installed).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import msgpack
import orjson
import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent

from worker.decode import decode
from worker.model import BadRecord, Page, SkipRecord
from worker.sources import read_messages
from worker.urls import article_id, canonicalize

ARTICLE = (
    "<!DOCTYPE html><html><head><title>The bridge reopens</title></head><body>"
    "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav><article><h1>The bridge reopens</h1>"
    + "".join(
        f"<p>Paragraph {i}: the old stone bridge over the river reopened this week after "
        "two years of repairs, and the town council said traffic would be light.</p>"
        for i in range(6)
    )
    + "</article><footer>Contact us</footer></body></html>"
)
NOTE = "Opening hours\n\nThe library opens at nine on weekdays and at ten on Saturdays.\n"
PAGES = {"/article.html": ("text/html; charset=utf-8", ARTICLE), "/note.txt": ("text/plain", NOTE)}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        content_type, body = PAGES.get(self.path, ("text/html", "<p>index</p>"))
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


SPIDER = """
import scrapy

class Pages(scrapy.Spider):
    name = "pages"
    custom_settings = {"ROBOTSTXT_OBEY": False, "TELNETCONSOLE_ENABLED": False}

    def __init__(self, site, field, **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [site + "/article.html", site + "/note.txt"]
        self.field = field

    def parse(self, response):
        yield {
            "url": response.url,
            "status": response.status,
            "headers": dict(response.headers.to_unicode_dict()),
            self.field: response.text,
        }
"""


def scrapy_items(site: str, field: str, tmp_path: Path) -> list[bytes]:
    """Items as Scrapy's JSON-lines feed exporter writes them."""
    spider = tmp_path / "spider.py"
    spider.write_text(SPIDER)
    out = tmp_path / f"{field}.jsonl"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "runspider",
            str(spider),
            "-a",
            f"site={site}",
            "-a",
            f"field={field}",
            "-O",
            f"{out}:jsonlines",
            "-s",
            "LOG_LEVEL=ERROR",
        ],
        check=True,
        cwd=tmp_path,
        timeout=120,
    )
    lines = out.read_bytes().splitlines()
    assert len(lines) == 2
    return lines


def by_path(pages: list[Page]) -> dict[str, Page]:
    return {page.url.rsplit("/", 1)[1]: page for page in pages}


@pytest.mark.parametrize("field", ["body", "text"])
def test_scrapy_items_with_response_text(site: str, field: str, tmp_path: Path) -> None:
    """``"body": response.text`` was skipped as empty_body; ``"text": response.text`` with
    HTML in it was read as prose."""
    pages = by_path([decode(line, []) for line in scrapy_items(site, field, tmp_path)])
    assert pages["article.html"].body_kind == "html"
    assert pages["article.html"].body.startswith("<!DOCTYPE html>")
    assert pages["article.html"].http_status == 200
    assert pages["note.txt"].body_kind == "text"


def test_text_field_is_html_by_its_looks_or_declaration() -> None:
    def kind(**fields: object) -> str:
        return decode(orjson.dumps({"url": "https://a.example/", **fields}), []).body_kind

    assert kind(text="\ufeff \n <html><body><p>Hi there</p></body></html>") == "html"
    assert kind(text="<div><p>Hi</p><p>there</p></div>") == "html"
    assert kind(text="<p>x</p>", content_type="text/html") == "html"
    assert kind(text="<p>x</p>", headers={"Content-Type": "text/html"}) == "html"
    assert kind(text="Prose that mentions a <b>tag</b> or two, and goes on and on.") == "text"
    assert kind(text="<html>a page</html>", content_type="text/plain") == "text"
    assert kind(body="Just prose, no markup at all.") == "text"
    assert kind(body="<p>markup</p>", headers=[["content-type", "text/html"]]) == "html"


def test_wget_warc_metadata_records_are_counted_skips(site: str, tmp_path: Path) -> None:
    """wget writes its arguments and log as ``resource`` records with ``metadata://`` URIs."""
    subprocess.run(
        [
            "wget",
            "-q",
            "--warc-file",
            str(tmp_path / "crawl"),
            "-O",
            "/dev/null",
            f"{site}/article.html",
        ],
        check=True,
        timeout=60,
    )
    outcomes: list[str] = []
    for message in read_messages([str(tmp_path / "crawl.warc.gz")]):
        try:
            page = decode(message.value, message.headers)
            outcomes.append(f"page:{page.url.rsplit('/', 1)[1]}")
        except SkipRecord as exc:
            outcomes.append(exc.reason)
    assert sorted(outcomes) == [
        "page:article.html",
        "warc_metadata",  # its MANIFEST.txt
        "warc_not_a_page",  # wget_arguments.txt
        "warc_not_a_page",  # wget.log
        "warc_request",
        "warc_warcinfo",
    ]


def test_frontera_msgpack_page_crawled() -> None:
    """As Frontera's msgpack codec packs a Scrapy response (``send_body`` on, then off)."""
    meta = {b"fingerprint": b"6b1a2f", b"domain": {b"name": b"town.example", b"fingerprint": b"d1"}}
    headers = {b"Content-Type": [b"text/html; charset=utf-8"], b"Server": [b"nginx"]}
    response = ["https://town.example/bridge", 200, meta, headers, ARTICLE.encode()]
    page = decode(msgpack.packb([b"pc", response], use_bin_type=True), [])
    assert (page.input_format, page.url, page.record_id) == (
        "msgpack:frontera",
        "https://town.example/bridge",
        "6b1a2f",
    )
    assert page.body == ARTICLE and page.body_kind == "html"

    response[4] = None  # Frontera's default: STORE_CONTENT off
    with pytest.raises(SkipRecord) as caught:
        decode(msgpack.packb([b"pc", response], use_bin_type=True), [])
    assert caught.value.reason == "body_not_sent"
    assert "STORE_CONTENT" in str(caught.value)

    request = ["https://town.example/", b"GET", {}, {}, meta]
    links = msgpack.packb([b"le", request, [request]], use_bin_type=True)
    with pytest.raises(SkipRecord) as caught:
        decode(links, [])
    assert caught.value.reason == "not_page"


def cloudevent(**attributes: str) -> CloudEvent:
    base = {"type": "com.example.page.fetched", "datacontenttype": "text/html"}
    return CloudEvent({**base, **attributes}, ARTICLE)


def decode_kafka(message: ce_kafka.KafkaMessage) -> Page:
    return decode(message.value, list(message.headers.items()))


@pytest.mark.parametrize("mode", ["structured", "binary"])
def test_cloudevents_page_url_from_subject(mode: str) -> None:
    """A crawler naming itself in ``source`` and the page in ``subject``: two pages once
    got the crawler's URL, one id and one Kafka key."""
    convert = ce_kafka.to_structured_event if mode == "structured" else ce_kafka.to_binary_event

    def read(event: CloudEvent) -> Page:
        return decode_kafka(convert(event))

    crawler = "https://crawler.example.com/alpha"
    pages = [
        read(cloudevent(source=crawler, subject=f"https://news.example/{name}"))
        for name in ("one", "two")
    ]
    assert [p.url for p in pages] == ["https://news.example/one", "https://news.example/two"]
    assert pages[0].source == crawler
    assert article_id(canonicalize(pages[0].url)) != article_id(canonicalize(pages[1].url))

    urn = read(cloudevent(source="urn:crawler:alpha", subject="https://news.example/three"))
    assert (urn.url, urn.source) == ("https://news.example/three", "urn:crawler:alpha")
    own = read(cloudevent(source="https://news.example/four"))
    assert own.url == "https://news.example/four"

    for source in ("urn:crawler:alpha", crawler):  # the event is about "story-5", not source
        with pytest.raises(BadRecord) as caught:
            read(cloudevent(source=source, subject="story-5"))
        assert caught.value.reason == "missing_url"
