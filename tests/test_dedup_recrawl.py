"""Recrawl semantics and reservations, in both index backends (Redis on a real server).

A replay (the same origin again) gets the same verdict; a recrawl with the same
extracted text is ``unchanged``; a changed one a new version. What ``check`` stores
is reserved: ``release`` forgets it, ``confirm`` keeps it, and a copy whose canonical
another worker holds reserved waits instead of naming it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import redis

from tests.kit.stories import article, syndicate, text
from worker.checkpoint import Settler
from worker.dedup import Deduper, snapshot
from worker.dedup.memory import MemoryDeduper
from worker.dedup.pages import text_hash
from worker.dedup.redis_store import RedisDeduper
from worker.metrics import Metrics
from worker.model import DedupVerdict, Sighting, TransientError
from worker.pipeline import Outcome

Factory = Callable[[], Deduper]


def seen(origin: str, body: str) -> Sighting:
    return Sighting(origin, text_hash(body), text_hash(body))


def check(d: Deduper, doc_id: str, body: str, origin: str) -> DedupVerdict:
    return d.check(doc_id, body, None, seen(origin, body))


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
def factory(request: pytest.FixtureRequest) -> Iterator[Factory]:
    """New dedupers (workers) sharing one index: one process's for memory."""
    if request.param == "memory":
        shared = MemoryDeduper()
        yield lambda: shared
        return
    url = request.getfixturevalue("redis_url")
    prefix = f"test:recrawl:{uuid.uuid4().hex[:10]}:"
    made: list[RedisDeduper] = []

    def make() -> Deduper:
        made.append(RedisDeduper(url, key_prefix=prefix))
        return made[-1]

    yield make
    for d in made:
        d.close()
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def test_replay_unchanged_and_updated(factory: Factory) -> None:
    d = factory()
    v1_text, v2_text = text(article(900)), text(article(900)[:6] + article(901)[:2])
    first = check(d, "page", v1_text, "k:in/0/10")
    assert (first.status, first.version, first.previous_content_hash) == ("new", 1, None)
    assert check(d, "page", v1_text, "k:in/0/10") == first  # replay: the same output again
    again = check(d, "page", v1_text, "k:in/3/99")  # recrawl, same text
    assert (again.status, again.version) == ("unchanged", 1)
    changed = check(d, "page", v2_text, "k:in/0/11")
    assert (changed.status, changed.version) == ("updated", 2)
    assert changed.previous_content_hash == text_hash(v1_text)
    assert check(d, "page", v1_text, "k:in/0/10") == first  # an older replay: its own output
    assert check(d, "page", v2_text, "k:in/1/5").status == "unchanged"
    back = check(d, "page", v1_text, "k:in/0/12")  # changed back: a version of its own
    assert (back.status, back.version) == ("updated", 3)


def test_a_changed_recrawl_that_copies_another_page_is_its_duplicate(factory: Factory) -> None:
    d = factory()
    story = article(910)
    check(d, "orig", text(story), "k:in/0/1")
    check(d, "page", text(article(911)), "k:in/0/2")
    copied = check(d, "page", syndicate(story, 3), "k:in/0/3")
    assert (copied.status, copied.duplicate_of, copied.version) == ("near_duplicate", "orig", 2)
    assert check(d, "page", syndicate(story, 3), "k:in/1/3").status == "unchanged"


def test_copies_of_an_updated_page_find_it(factory: Factory) -> None:
    d = factory()
    updated = article(921)
    check(d, "page", text(article(920)), "k:in/0/1")
    check(d, "page", text(updated), "k:in/0/2")
    copy = check(d, "other", syndicate(updated, 4), "k:in/0/3")
    assert (copy.status, copy.duplicate_of) == ("near_duplicate", "page")


def test_recrawl_is_unchanged_on_another_worker(factory: Factory) -> None:
    one, two = factory(), factory()
    body = text(article(930))
    first = check(one, "page", body, "k:in/0/1")
    one.confirm([first.reservation])
    assert check(two, "page", body, "k:in/1/7").status == "unchanged"
    assert check(two, "page", body, "k:in/0/1") == first  # a replay on the new owner


def test_released_version_is_forgotten(factory: Factory) -> None:
    """Issue: a story dead-lettered after dedupe marked a clean copy a duplicate of an id
    never published."""
    d = factory()
    story = article(940)
    lost = check(d, "lost", text(story), "k:in/0/1")
    d.release([lost.reservation])
    copy = check(d, "copy", syndicate(story, 2), "k:in/0/2")
    assert (copy.status, copy.duplicate_of) == ("new", None)
    assert check(d, "lost", text(story), "k:in/0/1").status == "near_duplicate"  # redone


def test_released_update_leaves_the_previous_version(factory: Factory) -> None:
    d = factory()
    v1, v2 = text(article(950)), text(article(951))
    first = check(d, "page", v1, "k:in/0/1")
    d.confirm([first.reservation])
    update = check(d, "page", v2, "k:in/0/2")
    d.release([update.reservation])
    assert check(d, "page", v1, "k:in/0/3").status == "unchanged"
    assert check(d, "page", v2, "k:in/0/4").version == 2


def test_confirmed_version_is_not_released(factory: Factory) -> None:
    d = factory()
    story = article(960)
    first = check(d, "page", text(story), "k:in/0/1")
    d.confirm([first.reservation])
    d.release([first.reservation])  # too late: it was published
    assert check(d, "copy", syndicate(story, 1), "k:in/0/2").duplicate_of == "page"


@pytest.mark.integration
def test_a_copy_waits_while_another_worker_holds_its_canonical(redis_url: str) -> None:
    one = RedisDeduper(redis_url, key_prefix=f"test:hold:{uuid.uuid4().hex[:8]}:")
    two = RedisDeduper(redis_url, key_prefix=one.prefix)
    try:
        story = article(970)
        first = check(one, "first", text(story), "k:in/0/1")
        with pytest.raises(TransientError):  # might never be published: do not name it yet
            check(two, "copy", syndicate(story, 5), "k:in/1/1")
        with pytest.raises(TransientError):  # nor decide the page's next version
            check(two, "first", text(article(971)), "k:in/1/2")
        one.confirm([first.reservation])
        copy = check(two, "copy", syndicate(story, 5), "k:in/1/1")
        assert (copy.status, copy.duplicate_of) == ("near_duplicate", "first")

        held = check(one, "second", text(article(972)), "k:in/0/2")
        one.release([held.reservation])  # its output failed: the copy becomes canonical
        assert check(two, "copy2", syndicate(article(972), 6), "k:in/1/3").status == "new"
    finally:
        for d in (one, two):
            keys = list(d._client.scan_iter(match=d.prefix + "*", count=1000))
            if keys:
                d._client.delete(*keys)
            d.close()


@pytest.mark.integration
def test_a_replay_on_another_worker_takes_the_reservation_over(redis_url: str) -> None:
    prefix = f"test:takeover:{uuid.uuid4().hex[:8]}:"
    crashed, heir, third = (RedisDeduper(redis_url, key_prefix=prefix) for _ in range(3))
    try:
        story = article(980)
        first = check(crashed, "page", text(story), "k:in/0/1")  # then never settled
        assert check(heir, "page", text(story), "k:in/0/1") == first  # the replay, taken over
        with pytest.raises(TransientError):
            check(third, "copy", syndicate(story, 1), "k:in/2/1")
        heir.confirm([first.reservation])
        assert check(third, "copy", syndicate(story, 1), "k:in/2/1").duplicate_of == "page"
    finally:
        keys = list(third._client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            third._client.delete(*keys)
        for d in (crashed, heir, third):
            d.close()


def test_snapshot_keeps_versions_and_origins(tmp_path: Path) -> None:
    path = str(tmp_path / "dedup.npz")
    d = MemoryDeduper(snapshot_path=path)
    v1, v2 = text(article(990)), text(article(991))
    first = check(d, "page", v1, "k:in/0/1")
    second = check(d, "page", v2, "k:in/0/2")
    d.close()
    restored = MemoryDeduper(snapshot_path=path)
    assert check(restored, "page", v1, "k:in/0/1") == first
    assert check(restored, "page", v2, "k:in/0/2") == second
    assert check(restored, "page", v2, "k:in/5/5").status == "unchanged"


def test_the_worker_confirms_what_was_published_and_releases_dead_letters() -> None:
    """The publish path's hook: after the broker's acks, outputs published (or recorded
    with nothing to send) are confirmed, outputs that ended as dead letters released."""
    d = MemoryDeduper()
    settler = Settler(d, Metrics())
    kept, lost = article(1000), article(1001)
    published = check(d, "kept", text(kept), "k:in/0/1")
    too_large = check(d, "lost", text(lost), "k:in/0/2")
    settler.settle(
        [
            Outcome("published", reservation=published.reservation),
            Outcome("dead_letter", reservation=too_large.reservation),
            Outcome("skipped", reason="unchanged"),
        ]
    )
    d.release([published.reservation])  # no effect: confirmed
    assert check(d, "kept-copy", syndicate(kept, 1), "k:in/0/3").duplicate_of == "kept"
    assert check(d, "lost-copy", syndicate(lost, 1), "k:in/0/4").status == "new"


def test_a_snapshot_from_before_recrawl_state_still_loads(tmp_path: Path) -> None:
    """Version-1 snapshots hold canonicals only: they load as first versions."""
    path = str(tmp_path / "old.npz")
    story = article(995)
    d = MemoryDeduper()
    check(d, "page", text(story), "k:in/0/1")
    arrays = d._export()
    legacy = {k: v for k, v in arrays.items() if k in ("seq", "ts", "size", "exact", "key")}
    legacy |= {k: v for k, v in arrays.items() if k.startswith(("id_", "sample_", "key_"))}
    meta = json.loads(arrays["meta"].tobytes()) | {"version": 1}
    legacy["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    snapshot.write_atomically(path, legacy)
    restored = MemoryDeduper(snapshot_path=path)
    assert check(restored, "copy", syndicate(story, 2), "k:in/0/2").duplicate_of == "page"
    update = check(restored, "page", text(story), "k:in/0/3")  # hash unknown: one update
    assert (update.status, update.version) == ("updated", 2)
    assert check(restored, "page", text(story), "k:in/0/4").status == "unchanged"


def test_a_store_failing_to_settle_does_not_stop_the_worker() -> None:
    """The outputs are out and acknowledged: the reservations simply stand."""

    class Failing(MemoryDeduper):
        def confirm(self, reservations: list) -> None:
            raise redis.ResponseError("NOAUTH Authentication required.")

    settler = Settler(Failing(), Metrics())
    verdict = check(settler.deduper, "page", text(article(1010)), "k:in/0/1")
    settler.settle([Outcome("published", reservation=verdict.reservation)])
    assert settler.metrics.errors.labels("dedup")._value.get() == 1


def test_reservations_not_settled_are_settled_with_the_next_batch() -> None:
    """A store down while a batch settles: its reservations are kept and settled once the
    store answers, so other workers' copies are not held back until they expire."""
    calls: list[int] = []

    class DownOnce(MemoryDeduper):
        def confirm(self, reservations: list) -> None:
            calls.append(len(reservations))
            if len(calls) == 1:
                raise redis.ConnectionError("refused")
            super().confirm(reservations)

    settler = Settler(DownOnce(), Metrics())
    first = check(settler.deduper, "page", text(article(1011)), "k:in/0/1")
    settler.settle([Outcome("published", reservation=first.reservation)])
    assert settler.unsettled  # kept for later
    second = check(settler.deduper, "other", text(article(1012)), "k:in/0/2")
    settler.settle([Outcome("published", reservation=second.reservation)])
    assert calls == [1, 2] and settler.unsettled == []  # the first went with the second
    settler.unsettled = [("published", first.reservation)]
    settler.before_leaving(within_s=2)  # the store answers: settled before leaving
    assert settler.unsettled == []
