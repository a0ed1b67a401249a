"""Records from other crawlers are accepted unchanged (sample records written for these tests)."""

from __future__ import annotations

import base64

import orjson
import pytest

from worker.decode import decode
from worker.model import SkipRecord

PAGE = (
    "<!DOCTYPE html><html><head><title>Library extends opening hours</title></head>"
    "<body><article><h1>Library extends opening hours</h1><p>The central library will open "
    "until nine on weekdays from next month, the council said on Tuesday.</p>"
    "</article></body></html>"
)


def b64(text: str, encoding: str = "utf-8") -> str:
    return base64.b64encode(text.encode(encoding)).decode()


def test_scrapy_cluster_base64_body() -> None:
    record = {
        "appid": "newsapp",
        "crawlid": "c0ffee01",
        "url": "http://town.example/library",
        "response_url": "https://town.example/library",
        "status_code": 200,
        "status_msg": "OK",
        "response_headers": {
            "Content-Type": ["text/html; charset=windows-1252"],
            "Set-Cookie": ["a=1", "b=2"],
        },
        "request_headers": {"User-Agent": ["Scrapy/2.11"]},
        "body": b64(PAGE.replace("hours", "hours – café"), "cp1252"),
        "links": [],
        "attrs": None,
        "encoding": "cp1252",
        "timestamp": "2026-02-03T04:05:06.789000",
    }
    page = decode(orjson.dumps(record), [])
    assert page.input_format == "json:scrapy-cluster"
    assert page.url == "http://town.example/library"
    assert page.final_url == "https://town.example/library"
    assert page.http_status == 200
    assert page.headers["set-cookie"] == "a=1, b=2"
    assert "hours – café" in page.body
    assert (page.charset, page.charset_source) == ("cp1252", "envelope")
    assert page.fetched_at == "2026-02-03T04:05:06.789Z"
    assert page.metadata == {"crawlid": "c0ffee01", "appid": "newsapp"}


def test_scrapy_cluster_text_body() -> None:
    record = {
        "appid": "newsapp",
        "crawlid": "c0ffee01",
        "url": "http://town.example/library",
        "response_url": "http://town.example/library",
        "status_code": 200,
        "response_headers": {"Content-Type": ["text/html"]},
        "body": PAGE,
        "encoding": "utf-8",
    }
    page = decode(orjson.dumps(record), [])
    assert page.body == PAGE
    assert page.charset_source == "none"


def test_scrapy_cluster_error_status_is_skipped() -> None:
    record = {"appid": "a", "crawlid": "c", "url": "http://town.example/x", "body": PAGE}
    record["status_code"] = 503
    with pytest.raises(SkipRecord) as caught:
        decode(orjson.dumps(record), [])
    assert caught.value.reason == "http_status"


def frontera_plain() -> dict:
    return {
        "type": "page_crawled",
        "r": {
            "url": "https://town.example/library",
            "status_code": 200,
            "meta": {"fingerprint": "5b1c0e6bd3a6c4f0b1f7c2d1a8e9f0a1b2c3d4e5", "depth": 1},
            "body": b64(PAGE),
        },
        "links": [],
    }


def test_frontera_page_crawled() -> None:
    page = decode(orjson.dumps(frontera_plain()), [])
    assert page.input_format == "json:frontera"
    assert page.url == "https://town.example/library"
    assert page.record_id == "5b1c0e6bd3a6c4f0b1f7c2d1a8e9f0a1b2c3d4e5"
    assert page.body == PAGE
    assert page.charset_source == "default"


def test_frontera_typed_codec_form() -> None:
    """Newer Frontera JSON codecs write every value as ``[type, value]``."""

    def typed(value: object) -> list:
        if isinstance(value, dict):
            return ["dict", [[typed(k), typed(v)] for k, v in value.items()]]
        if isinstance(value, list):
            return ["list", [typed(item) for item in value]]
        return ["other", value]

    record = frontera_plain()
    wrapped = typed(record)
    # the body and the fingerprint were bytes on the Python side
    wrapped_r = wrapped[1][1][1]
    for pair in wrapped_r[1]:
        if pair[0][1] == "body":
            pair[1] = ["bytes", record["r"]["body"]]
    page = decode(orjson.dumps(wrapped), [])
    assert page.input_format == "json:frontera"
    assert page.body == PAGE


def test_frontera_other_message_types_are_skipped() -> None:
    record = {"type": "links_extracted", "r": {"url": "https://town.example/"}, "links": []}
    with pytest.raises(SkipRecord) as caught:
        decode(orjson.dumps(record), [])
    assert caught.value.reason == "not_page"


def test_frontera_without_body_says_what_to_switch_on() -> None:
    record = frontera_plain()
    record["r"]["body"] = None
    with pytest.raises(SkipRecord) as caught:
        decode(orjson.dumps(record), [])
    assert caught.value.reason == "body_not_sent"
    assert "STORE_CONTENT" in str(caught.value)


def crawl4ai_result(**changes: object) -> dict:
    result = {
        "url": "https://town.example/library",
        "html": PAGE,
        "success": True,
        "cleaned_html": "<div><p>The central library will open until nine</p></div>",
        "media": {"images": []},
        "links": {"internal": [], "external": []},
        "markdown": {"raw_markdown": "# Library extends opening hours"},
        "metadata": {"title": "Library extends opening hours"},
        "error_message": "",
        "session_id": None,
        "response_headers": {"content-type": "text/html; charset=utf-8", "server": "nginx"},
        "status_code": 200,
        "redirected_url": "https://www.town.example/library",
    }
    result.update(changes)
    return result


def test_crawl4ai_result() -> None:
    page = decode(orjson.dumps(crawl4ai_result()), [])
    assert page.input_format == "json:crawl4ai"
    assert page.final_url == "https://www.town.example/library"
    assert page.headers["server"] == "nginx"
    assert page.body == PAGE


def test_crawl4ai_failed_crawl_is_skipped() -> None:
    result = crawl4ai_result(success=False, html="", error_message="net::ERR_NAME_NOT_RESOLVED")
    with pytest.raises(SkipRecord) as caught:
        decode(orjson.dumps(result), [])
    assert caught.value.reason == "fetch_failed"


def nutch_document(**changes: object) -> dict:
    document = {
        "id": ["https://town.example/library"],
        "url": ["https://town.example/library"],
        "host": ["town.example"],
        "title": ["Library extends opening hours"],
        "content": ["Library extends opening hours The central library will open until nine"],
        "type": ["html", "text/html", "text"],
        "digest": ["9a0364b9e99bb480dd25e1f0284c8555"],
        "segment": ["20260203040506"],
        "boost": ["1.0"],
        "tstamp": ["Tue Feb 03 04:05:06 UTC 2026"],
    }
    document.update(changes)
    return document


def test_nutch_binary_content_base64() -> None:
    page = decode(orjson.dumps(nutch_document(binaryContent=[b64(PAGE)])), [])
    assert page.input_format == "json:nutch"
    assert page.url == "https://town.example/library"
    assert page.content_type == "text/html"
    assert page.body == PAGE
    assert page.body_kind == "html"
    assert page.fetched_at == "2026-02-03T04:05:06Z"
    assert page.metadata == {
        "digest": "9a0364b9e99bb480dd25e1f0284c8555",
        "segment": "20260203040506",
    }


def test_nutch_binary_content_as_plain_string() -> None:
    page = decode(orjson.dumps(nutch_document(binaryContent=[PAGE])), [])
    assert page.body == PAGE


def test_nutch_parsed_text_only() -> None:
    page = decode(orjson.dumps(nutch_document()), [])
    assert page.body_kind == "text"
    assert page.body.startswith("Library extends opening hours The central")


def test_nutch_pdf_document_is_not_a_page() -> None:
    document = nutch_document(type=["application/pdf", "application", "pdf"])
    with pytest.raises(SkipRecord) as caught:
        decode(orjson.dumps(document), [])
    assert caught.value.reason == "not_html"
