"""Reading pages from files and directories into Kafka-shaped messages."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import orjson
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from worker.decode import decode
from worker.model import BadRecord, SkipRecord
from worker.sources import Message, key_for_url, local_url, read_messages
from worker.urls import domain_of

PAGE = b"<html><body><h1>Pier repaired</h1><p>The pier reopens on Friday.</p></body></html>"


def warc_record(
    url: str, block: bytes, record_type: bytes = b"response", length: int | None = None
) -> bytes:
    size = len(block) if length is None else length
    content_type = (
        b"application/http; msgtype=response" if record_type == b"response" else b"text/plain"
    )
    return (
        b"WARC/1.0\r\nWARC-Type: " + record_type + b"\r\n"
        b"WARC-Target-URI: " + url.encode() + b"\r\n"
        b"Content-Type: " + content_type + b"\r\n"
        b"Content-Length: " + str(size).encode() + b"\r\n\r\n" + block + b"\r\n\r\n"
    )


def http(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + body


def envelope_line(url: str) -> bytes:
    return orjson.dumps({"url": url, "html": PAGE.decode()})


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "a.html").write_bytes(PAGE)
    (tmp_path / "a.json").write_bytes(
        orjson.dumps(
            {"url": "https://pier.example/a", "fetched_at": "2026-01-02T00:00:00Z", "status": 200}
        )
    )
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b page.htm.gz").write_bytes(gzip.compress(PAGE))
    (tmp_path / "sub" / "c.txt").write_bytes(b"Pier repaired.\nThe pier reopens on Friday.")
    lines = [
        envelope_line("https://Pier.Example./one"),
        b"",
        envelope_line("http://other.example/two"),
    ]
    (tmp_path / "d.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    with gzip.open(tmp_path / "e.warc.gz", "wb") as out:
        out.write(warc_record("https://pier.example/w1", http(PAGE)))
    with open(tmp_path / "e.warc.gz", "ab") as out:  # a second gzip member, as WARC writers do
        out.write(
            gzip.compress(
                warc_record("https://pier.example/w2", b"GET / HTTP/1.1\r\n\r\n", b"request")
            )
        )
    (tmp_path / "f.wet").write_bytes(
        warc_record("https://pier.example/t", b"Pier repaired.", b"conversion")
    )
    (tmp_path / ".hidden.html").write_bytes(PAGE)
    (tmp_path / "notes.md").write_bytes(b"# not an input")
    return tmp_path


def test_directory_is_read_in_file_order(tree: Path) -> None:
    messages = list(read_messages([tree]))
    origins = [m.origin.removeprefix(str(tree) + "/") for m in messages]
    assert origins == [
        "a.html",
        "d.jsonl:1",
        "d.jsonl:3",
        "e.warc.gz#1",
        "e.warc.gz#2",
        "f.wet#1",
        "sub/b page.htm.gz",
        "sub/c.txt",
    ]


def test_messages_from_a_directory_decode(tree: Path) -> None:
    outcomes = {}
    for message in read_messages([tree]):
        try:
            outcomes[message.origin.rsplit("/", 1)[-1]] = decode(message.value, message.headers)
        except (SkipRecord, BadRecord) as exc:
            outcomes[message.origin.rsplit("/", 1)[-1]] = exc.reason
    assert outcomes["a.html"].url == "https://pier.example/a"
    assert outcomes["a.html"].fetched_at == "2026-01-02T00:00:00Z"
    assert outcomes["b page.htm.gz"].url == local_url("sub/b page.htm.gz")
    assert local_url("sub/b page.htm.gz").endswith(".file.invalid/sub/b%20page.htm.gz")
    assert domain_of(local_url("a.html")) != domain_of(local_url("b.html"))
    assert outcomes["b page.htm.gz"].body == PAGE.decode()
    assert outcomes["c.txt"].body_kind == "text"
    assert outcomes["d.jsonl:3"].url == "http://other.example/two"
    assert outcomes["e.warc.gz#1"].url == "https://pier.example/w1"
    assert outcomes["e.warc.gz#2"] == "warc_request"
    assert outcomes["f.wet#1"].body_kind == "text"


def test_keys_are_hosts(tree: Path) -> None:
    keys = {m.origin.rsplit("/", 1)[-1]: m.key for m in read_messages([tree])}
    assert keys["a.html"] == b"pier.example"
    assert keys["d.jsonl:1"] == b"pier.example"
    assert keys["d.jsonl:3"] == b"other.example"
    assert keys["e.warc.gz#1"] == b"pier.example"
    assert keys["b page.htm.gz"] is None  # a file without a URL has no site to key by


def test_headers_and_values(tree: Path) -> None:
    by_name = {m.origin.rsplit("/", 1)[-1]: m for m in read_messages([tree])}
    assert by_name["a.html"].headers == [
        ("content-type", b"text/html"),
        ("url", b"https://pier.example/a"),
        ("status", b"200"),
        ("fetched_at", b"2026-01-02T00:00:00Z"),
    ]
    assert by_name["c.txt"].headers[0] == ("content-type", b"text/plain")
    assert by_name["d.jsonl:1"].headers == [("content-type", b"application/json")]
    assert by_name["e.warc.gz#1"].headers == [("content-type", b"application/warc")]
    assert by_name["e.warc.gz#1"].value.startswith(b"WARC/1.0\r\n")
    assert by_name["a.html"].value == PAGE


def test_stdin_and_dash() -> None:
    stdin = io.BytesIO(b"\xef\xbb\xbf" + envelope_line("https://pier.example/s") + b"\r\n\n")
    messages = list(read_messages([], stdin=stdin))
    assert [(m.origin, m.key) for m in messages] == [("-:1", b"pier.example")]
    assert decode(messages[0].value, messages[0].headers).url == "https://pier.example/s"
    assert [m.origin for m in read_messages(["-"], stdin=io.BytesIO(b"{}\n{}\n"))] == ["-:1", "-:2"]


def test_explicit_files_of_each_kind(tree: Path, tmp_path: Path) -> None:
    unknown = tmp_path / "export.dat"
    unknown.write_bytes(envelope_line("https://pier.example/x") + b"\n")
    messages = list(read_messages([tree / "f.wet", unknown, tree / "a.html"]))
    assert [m.origin for m in messages] == [f"{tree}/f.wet#1", f"{unknown}:1", f"{tree}/a.html"]


def test_unparseable_json_line_is_still_a_message(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_bytes(b'{"url": "https://pier.example/", "html": "<p>cut\n')
    (message,) = read_messages([path])
    assert message.key is None
    with pytest.raises(BadRecord):
        decode(message.value, message.headers)


def test_warc_with_a_lying_content_length_resyncs(tmp_path: Path) -> None:
    good = warc_record("https://pier.example/ok", http(PAGE))
    liar = warc_record("https://pier.example/liar", http(PAGE), length=30)
    path = tmp_path / "mixed.warc"
    path.write_bytes(good + liar + good)
    messages = list(read_messages([path]))
    assert len(messages) == 3
    reasons = []
    for message in messages:
        try:
            reasons.append(decode(message.value, message.headers).url)
        except BadRecord as exc:
            reasons.append(exc.reason)
    assert reasons == ["https://pier.example/ok", "bad_warc", "https://pier.example/ok"]


def test_truncated_warc_file_ends_with_a_truncated_record(tmp_path: Path) -> None:
    path = tmp_path / "cut.warc"
    path.write_bytes(warc_record("https://pier.example/ok", http(PAGE))[:-40])
    (message,) = read_messages([path])
    with pytest.raises(BadRecord) as caught:
        decode(message.value, message.headers)
    assert caught.value.reason == "truncated_warc"


def test_message_is_frozen() -> None:
    message = Message(None, b"", [], "x")
    with pytest.raises(AttributeError):
        message.value = b"y"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://News.Example.COM/a?b", b"news.example.com"),
        ("http://user:pw@host.example:8080/", b"host.example"),
        ("http://[::1]:80/", b"::1"),
        ("http://[broken/", None),
        ("file:///tmp/x.html", None),
        ("not a url", None),
    ],
)
def test_key_for_url(url: str, key: bytes | None) -> None:
    assert key_for_url(url) == key


def test_warc_gz_written_by_warcio_splits_into_records(tmp_path: Path) -> None:
    path = tmp_path / "crawl.warc.gz"
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for number in range(3):
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            url = f"https://site{number}.example/page"
            writer.write_record(
                writer.create_warc_record(
                    url, "response", payload=io.BytesIO(PAGE), http_headers=http
                )
            )
    messages = list(read_messages([path]))
    assert [m.key for m in messages] == [b"site0.example", b"site1.example", b"site2.example"]
    urls = [decode(m.value, m.headers).url for m in messages]
    assert urls == [f"https://site{n}.example/page" for n in range(3)]
