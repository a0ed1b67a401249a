"""One record through the stages, without a broker: every record ends as exactly one outcome."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from importlib import resources

import orjson
import pytest
from jsonschema import Draft202012Validator

from tests.kit.pages import article_html, article_text
from worker.config import Settings
from worker.dedup import make_deduper
from worker.extract import make_extractor
from worker.model import DedupVerdict, Extracted, Origin, Page, TransientError
from worker.pipeline import Stages, process

SCHEMA = json.loads((resources.files("worker") / "schemas" / "article.schema.json").read_text())
ORIGIN = Origin("pages.raw", 2, 41, 1_700_000_000_000)


def stages(**overrides: object) -> Stages:
    return Stages(replace(Settings(), **overrides), make_extractor(), make_deduper("memory"))


def envelope(seed: int, url: str | None = None, **extra: object) -> bytes:
    return orjson.dumps(
        {
            "url": url or f"https://news.example/{seed}",
            "html": article_html(seed),
            "status": 200,
            "record_id": f"r{seed}",
            **extra,
        }
    )


def test_published_article_matches_the_schema() -> None:
    outcome = process(envelope(1), [("trace", b"x")], b"news.example", ORIGIN, stages())
    assert outcome.kind == "published"
    assert outcome.topic == "articles"
    article = orjson.loads(outcome.value)
    Draft202012Validator(SCHEMA).validate(article)
    assert outcome.key == article["id"].encode()
    prov = article["provenance"]
    assert (prov["input_format"], prov["topic"], prov["partition"], prov["offset"]) == (
        "json",
        "pages.raw",
        2,
        41,
    )
    assert (prov["record_id"], prov["http_status"]) == ("r1", 200)
    assert article_text(1)[2][:50] in article["text"]
    assert "Sign up to our newsletter" not in article["text"]
    assert article["word_count"] > 50
    assert article["dedup"]["status"] == "new"


@pytest.mark.parametrize(
    ("policy", "topic"),
    [("topic", "articles.duplicates"), ("annotate", "articles"), ("drop", None)],
)
def test_duplicate_policy(policy: str, topic: str | None) -> None:
    st = stages(duplicate_policy=policy)
    first = process(envelope(2), [], None, ORIGIN, st)
    copy = process(envelope(2, url="https://mirror.example/2"), [], None, ORIGIN, st)
    assert first.kind == "published"
    assert copy.kind == "duplicate"
    assert copy.topic == topic
    record = orjson.loads(copy.value)
    assert record["dedup"]["duplicate_of"] == orjson.loads(first.value)["id"]


def test_replayed_record_is_the_same_article_not_a_duplicate() -> None:
    st = stages()
    first = process(envelope(3), [], None, ORIGIN, st)
    again = process(envelope(3), [], None, ORIGIN, st)
    assert (first.kind, again.kind) == ("published", "published")
    assert first.key == again.key


def test_non_2xx_is_a_counted_skip() -> None:
    outcome = process(envelope(4, status=404), [], None, ORIGIN, stages())
    assert (outcome.kind, outcome.reason, outcome.topic) == ("skipped", "http_status", None)


def test_page_without_text_is_skipped() -> None:
    value = orjson.dumps(
        {
            "url": "https://a.example/",
            "html": "<html><body><script>var x = 1;</script></body></html>",
        }
    )
    outcome = process(value, [], None, ORIGIN, stages())
    assert (outcome.kind, outcome.reason) == ("skipped", "empty_after_extraction")


def test_malformed_record_goes_to_the_dlq_with_original_value_and_headers() -> None:
    value = b'{"url": "https://a.example/", "html": "<p>'
    outcome = process(value, [("trace", b"abc")], b"k", ORIGIN, stages())
    assert outcome.kind == "dead_letter"
    assert (outcome.topic, outcome.key, outcome.value) == ("pages.dlq", b"k", value)
    headers = dict(outcome.headers)
    assert headers["trace"] == b"abc"
    assert headers["error_stage"] == b"decode"
    assert headers["error_reason"] == outcome.reason.encode()
    assert (headers["source_topic"], headers["source_partition"], headers["source_offset"]) == (
        b"pages.raw",
        b"2",
        b"41",
    )


def test_extractor_failure_is_dead_lettered_not_raised() -> None:
    def broken(page: Page) -> Extracted:
        raise ValueError("parser exploded")

    st = replace(stages(), extract=broken)
    outcome = process(envelope(5), [], None, ORIGIN, st)
    assert (outcome.kind, outcome.stage, outcome.reason) == (
        "dead_letter",
        "extract",
        "extract_error",
    )
    assert b"parser exploded" in dict(outcome.headers)["error_detail"]


def test_extraction_over_its_time_budget_is_cut_off() -> None:
    def slow(page: Page) -> Extracted:
        while True:
            time.sleep(0.01)

    st = replace(stages(extract_timeout_s=0.2), extract=slow)
    outcome = process(envelope(6), [], None, ORIGIN, st)
    assert (outcome.kind, outcome.reason) == ("dead_letter", "time_budget")


def test_dedup_store_outage_is_raised_for_retry() -> None:
    class Down:
        def check(
            self, doc_id: str, text: str, tokens: object = None, sighting: object = None
        ) -> DedupVerdict:
            raise TransientError("store unreachable")

        def close(self) -> None:
            pass

    st = replace(stages(), deduper=Down())
    with pytest.raises(TransientError):
        process(envelope(7), [], None, ORIGIN, st)


def test_non_article_policy_skip() -> None:
    def product(page: Page) -> Extracted:
        return Extracted(text="A fine kettle. Buy it now.", page_type="product")

    st = replace(stages(non_article_policy="skip"), extract=product)
    outcome = process(envelope(8), [], None, ORIGIN, st)
    assert (outcome.kind, outcome.reason) == ("skipped", "not_article")
    published = process(envelope(8), [], None, ORIGIN, replace(stages(), extract=product))
    assert orjson.loads(published.value)["page_type"] == "product"


def test_extracted_text_over_the_cap_is_dead_lettered_as_too_large() -> None:
    value = envelope(3)
    assert process(value, [], None, ORIGIN, stages()).kind == "published"
    outcome = process(value, [], None, ORIGIN, stages(max_text_chars=1000))
    assert (outcome.kind, outcome.reason, outcome.stage) == ("dead_letter", "too_large", "extract")


def test_recrawls_replays_and_updates() -> None:
    st = stages()
    first = process(envelope(20), [], None, ORIGIN, st)
    replay = process(envelope(20), [], None, ORIGIN, st)  # the same record again
    recrawl = process(envelope(20, record_id="r20b"), [], None, replace(ORIGIN, offset=90), st)
    url = "https://news.example/20"
    changed = process(envelope(21, url=url), [], None, replace(ORIGIN, offset=91), st)
    assert (first.kind, replay.kind, changed.kind) == ("published", "published", "published")
    assert (recrawl.kind, recrawl.reason, recrawl.value) == ("skipped", "unchanged", None)
    a, b, c = (orjson.loads(o.value or b"") for o in (first, replay, changed))
    assert a["schema_version"] == "2.1"
    assert a["dedup"] == {**b["dedup"], "status": "new", "version": 1}
    assert (a["id"], a["content_hash"]) == (b["id"], b["content_hash"])
    assert c["id"] == a["id"] and first.key == changed.key
    assert c["dedup"]["status"] == "updated" and c["dedup"]["version"] == 2
    assert c["dedup"]["previous_content_hash"] == a["content_hash"]
    Draft202012Validator(SCHEMA).validate(c)


def test_offline_style_origin_a_repeated_line_id_is_a_replay() -> None:
    st = stages()
    offline = Origin(offset=0)
    first = process(envelope(22), [], None, offline, st)
    again = process(envelope(22), [], None, replace(offline, offset=1), st)  # same id: replay
    other = process(envelope(22, record_id="x"), [], None, replace(offline, offset=2), st)
    assert (first.kind, again.kind, other.reason) == ("published", "published", "unchanged")


def test_an_article_that_cannot_be_published_leaves_nothing_in_dedupe() -> None:
    """Issue: its text stayed indexed, so a clean copy was marked a duplicate of an id that
    was never published."""
    body = "\n\n".join(article_text(23))

    def unserialisable(page: Page) -> Extracted:
        return Extracted(text=body, modified_at=object())  # type: ignore[arg-type]

    st = stages()
    lost = process(envelope(23), [], None, ORIGIN, replace(st, extract=unserialisable))
    assert (lost.kind, lost.stage) == ("dead_letter", "publish")
    clean = process(
        envelope(24, url="https://other.example/x"),
        [],
        None,
        replace(ORIGIN, offset=42),
        replace(st, extract=lambda page: Extracted(text=body)),
    )
    assert (clean.kind, clean.dedup_status) == ("published", "new")


def test_a_text_that_cannot_be_hashed_is_dead_lettered_not_raised() -> None:
    def surrogate(page: Page) -> Extracted:
        return Extracted(text="A lone \ud800 surrogate in an otherwise fine article text.")

    outcome = process(envelope(25), [], None, ORIGIN, replace(stages(), extract=surrogate))
    assert (outcome.kind, outcome.stage) == ("dead_letter", "publish")
