"""INGEST_DEDUP_CONTAINMENT decides what counts as a copy, in both index backends."""

from __future__ import annotations

import uuid

import pytest

from tests.kit.stories import article, text
from worker import config
from worker.config import ConfigError
from worker.pipeline import build_deduper


def story_and_partial_copy() -> tuple[str, str]:
    """A story, then a copy keeping three quarters of it (containment about 0.74)."""
    paras = article(40, paragraphs=8)
    return text(paras), text(paras[:6] + article(41, 2))


def decide(backend: str, threshold: str, redis_url: str = "") -> str | None:
    """What the worker's deduper, built from the settings, says of the partial copy."""
    env = {
        "INGEST_DEDUP_BACKEND": backend,
        "INGEST_DEDUP_CONTAINMENT": threshold,
        "INGEST_REDIS_KEY_PREFIX": f"test:threshold:{uuid.uuid4().hex[:8]}:",
    }
    if redis_url:
        env["INGEST_REDIS_URL"] = redis_url
    deduper = build_deduper(config.load(env=env))
    try:
        story, copy = story_and_partial_copy()
        first = deduper.check("story", story)
        second = deduper.check("copy", copy)
        deduper.confirm([v.reservation for v in (first, second) if v.reservation is not None])
        return second.duplicate_of
    finally:
        deduper.close()


def test_memory_index_follows_the_containment_setting() -> None:
    assert decide("memory", "0.6") == "story"
    assert decide("memory", "0.9") is None


def test_redis_index_follows_the_containment_setting(redis_url: str) -> None:
    assert decide("redis", "0.6", redis_url) == "story"
    assert decide("redis", "0.9", redis_url) is None


@pytest.mark.parametrize("bad", ["0", "-0.5", "1.5", "nan", "most"])
def test_a_bad_threshold_stops_start_up_naming_the_setting(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"^INGEST_DEDUP_CONTAINMENT: "):
        config.load(env={"INGEST_DEDUP_CONTAINMENT": bad})
