"""The decode + extract (+ article record) fuzz target, with hypothesis.

Messages are built from valid seeds (envelope, raw page, WARC record, CloudEvent, gzip)
and hostile fragments, then mutated (flips, cuts, splices, repeats); headers come from a
list of real and broken content types. The property: every message ends as exactly one
outcome with a snake_case reason, and a published article is valid JSON against the
schema; nothing raises, nothing hangs past the time budget. ``bench.fuzz_decode_extract``
runs it for minutes, tests/test_faults_fuzz.py briefly.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from importlib import resources

import orjson
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from worker.config import Settings
from worker.dedup import make_deduper
from worker.extract import make_extractor
from worker.model import Origin
from worker.pipeline import Failed, Outcome, Prepared, Stages, finish, prepare

REASON = re.compile(r"[a-z][a-z0-9_]{1,39}")
PAGE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Fuzzed headline here</title>"
    "</head><body><nav><a href='/'>Home</a></nav><article><h1>Fuzzed headline here</h1>"
    "<p>The harbour council met on Tuesday evening to discuss the new ferry timetable and "
    "the budget for the winter storm barrier, which residents have asked about for years.</p>"
    "<p>Engineers said the work could start in spring if the vote passes next month.</p>"
    "</article><footer>Copyright</footer></body></html>"
)
FRAGMENTS = [
    b"<", b">", b"</div>", b"<div>" * 50, b"<!--", b"-->", b"<![CDATA[", b"]]>", b"\x00",
    b"\xff\xfe", b"\xef\xbb\xbf", b"\xc3\x28", b"&#0;", b"&#x110000;", b"&amp;" * 20,
    b"<meta charset='utf-16'>", b"<meta charset='x-bogus'>", b"<script>", b"</script>",
    b"<table>" * 30, b'"', b"\\", b"\\ud800", b'{"url": 1}', b"WARC/1.0\r\n",
    b"Content-Length: 99999999\r\n", b"\r\n\r\n", b"\x1f\x8b", b"<title>" * 10,
    b"<p>" + "é".encode() * 200 + b"</p>", b"<svg><foreignObject>", b"<math><mi>",
]  # fmt: skip
CONTENT_TYPES = [
    b"application/json", b"application/cloudevents+json", b"application/warc",
    b"text/html", b"text/html; charset=utf-16", b"text/html; charset=shift_jis",
    b"text/plain", b"text/plain; charset=x-bogus", b"application/xhtml+xml",
    b"application/octet-stream", b"image/png", b"", b"\xff\xfe",
]  # fmt: skip
SCHEMA = json.loads((resources.files("worker") / "schemas" / "article.schema.json").read_text())


def seeds() -> list[tuple[bytes, list[tuple[str, bytes]]]]:
    envelope = orjson.dumps({"url": "https://f.example/a", "html": PAGE, "status": 200})
    block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + PAGE.encode()
    warc = (
        b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://f.example/w\r\n"
        b"Content-Type: application/http; msgtype=response\r\n"
        b"Content-Length: " + str(len(block)).encode() + b"\r\n\r\n" + block + b"\r\n\r\n"
    )
    event = orjson.dumps(
        {"specversion": "1.0", "id": "1", "source": "https://f.example/e", "type": "page",
         "data_base64": base64.b64encode(PAGE.encode()).decode()}
    )  # fmt: skip
    raw = [("content-type", b"text/html"), ("url", b"https://f.example/r")]
    text = orjson.dumps({"url": "https://f.example/t", "text": "Plain words here. " * 30})
    return [
        (envelope, []),
        (warc, [("content-type", b"application/warc")]),
        (event, []),
        (gzip.compress(envelope), []),
        (PAGE.encode(), raw),
        (PAGE.encode("utf-16"), [("content-type", b"text/html; charset=utf-16"), raw[1]]),
        (text, []),
    ]


SEEDS = seeds()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS))[0])
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "splice", "repeat"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "cut":
            end = draw(st.integers(pos, len(data)))
            del data[pos:end]
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from(FRAGMENTS))
        elif op == "splice":
            data[pos:pos] = draw(st.binary(max_size=64))
        elif op == "repeat":
            end = min(len(data), pos + draw(st.integers(1, 64)))
            data[pos:pos] = bytes(data[pos:end]) * draw(st.integers(1, 200))
    return bytes(data)


headers = st.lists(
    st.tuples(
        st.sampled_from(["content-type", "url", "status", "charset", "ce_source", "x"]),
        st.sampled_from([*CONTENT_TYPES, b"https://f.example/h", b"404", b"200"])
        | st.binary(max_size=24),
    ),
    max_size=4,
)
messages = st.one_of(
    st.tuples(mutated(), st.just([])),
    st.tuples(mutated(), headers),
    st.sampled_from(SEEDS),
    st.tuples(st.binary(max_size=2048), headers),
)


@dataclass
class FuzzStats:
    examples: int = 0
    outcomes: Counter = field(default_factory=Counter)
    slowest_s: float = 0.0
    failures: list[str] = field(default_factory=list)


def make_stages(timeout_s: float = 2.0) -> Stages:
    config = replace(Settings(), max_page_bytes=2**20, extract_timeout_s=timeout_s)
    return Stages(config, make_extractor(config.extractor), make_deduper("memory"))


def check_one(value: bytes, hdrs: list[tuple[str, bytes]], stages: Stages) -> Outcome:
    """The property for one message; raises AssertionError with what went wrong."""
    result = prepare(value, hdrs, stages.settings, stages.extract)
    assert isinstance(result, Prepared | Failed), type(result)
    if isinstance(result, Failed):
        assert result.kind in ("skipped", "dead_letter"), result
        assert REASON.fullmatch(result.reason), result.reason
    else:
        assert result.extracted.text.strip(), "a prepared page has text"
        assert "\x00" not in result.extracted.text
    origin = Origin("fuzz", 0, 0, 0)
    outcome = finish(result, value, hdrs, None, origin, stages)
    assert outcome.kind in ("published", "duplicate", "skipped", "dead_letter"), outcome
    if outcome.kind in ("published", "duplicate"):
        Draft202012Validator(SCHEMA).validate(orjson.loads(outcome.value or b""))
    elif outcome.kind == "dead_letter":
        assert outcome.value == value, "a dead letter keeps the original value"
    return outcome


def run_round(stats: FuzzStats, stages: Stages, n: int, round_seed: int) -> None:
    @seed(round_seed)
    @settings(
        max_examples=n,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(messages)
    def prop(message: tuple[bytes, list[tuple[str, bytes]]]) -> None:
        t0 = time.perf_counter()
        outcome = check_one(message[0], list(message[1]), stages)
        stats.slowest_s = max(stats.slowest_s, time.perf_counter() - t0)
        stats.examples += 1
        stats.outcomes[f"{outcome.kind}:{outcome.reason or ''}".rstrip(":")] += 1

    prop()
