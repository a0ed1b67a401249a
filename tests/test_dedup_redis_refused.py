"""A Redis that refuses the worker (a password it lacks or gets wrong, an ACL without the
commands it runs, protected mode) is the deployment's state, not the record's: the batch
waits as for a refused connection, and the log says once what the operator must fix.

Each test starts its own redis-server (loopback, requirepass or an ACL user).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import redis

from tests.kit.kafka import Topics, http_get, produce, read_all, start_worker, wait_for
from tests.kit.pages import article_html
from tests.kit.services import RedisServer, private_redis, redis_available
from worker.dedup.redis_store import RedisDeduper, refusal_of
from worker.model import TransientError

pytestmark = pytest.mark.integration

PASSWORD = "s3cret-for-the-refusal-tests"
TEXT = "A text long enough to be checked against the shared index of stories."


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    if not redis_available():
        pytest.skip("no redis-server binary to start a Redis of our own")
    with private_redis(tmp_path / "redis", password=PASSWORD) as s:
        yield s


def admin(server: RedisServer) -> redis.Redis:
    return redis.Redis.from_url(server.url)


def url_as(server: RedisServer, userinfo: str) -> str:
    return f"redis://{userinfo}127.0.0.1:{server.port}/0"


def refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == "dedup_store_refused"]


@pytest.mark.parametrize(
    ("userinfo", "reply"),
    [("", "NOAUTH"), (":wrong-password@", "WRONGPASS"), ("reader:pw@", "NOPERM")],
)
def test_a_refusing_server_holds_the_record_and_says_once_what_to_fix(
    server: RedisServer, caplog: pytest.LogCaptureFixture, userinfo: str, reply: str
) -> None:
    # An ACL user that may ping but not run the check-and-insert script.
    admin(server).acl_setuser("reader", enabled=True, passwords=["+pw"], commands=["+ping"])
    deduper = RedisDeduper(url_as(server, userinfo), key_prefix="t:refused:")
    caplog.set_level(logging.ERROR, logger="worker.dedup.redis_store")
    for _ in range(3):  # retries of the held batch
        with pytest.raises(TransientError):
            deduper.check("a", TEXT)
    logged = refusals(caplog)
    assert [r.reply for r in logged] == [reply]  # type: ignore[attr-defined]
    assert "INGEST_REDIS_URL" in logged[0].fix  # type: ignore[attr-defined]
    assert PASSWORD not in caplog.text and "wrong-password" not in caplog.text
    deduper.close()


def test_after_the_fix_the_record_goes_on_and_a_new_refusal_is_logged_again(
    server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    admin(server).acl_setuser("writer", enabled=True, passwords=["+pw"], commands=["+ping"])
    deduper = RedisDeduper(url_as(server, "writer:pw@"), key_prefix="t:refused:")
    caplog.set_level(logging.ERROR, logger="worker.dedup.redis_store")
    with pytest.raises(TransientError):
        deduper.check("a", TEXT)
    admin(server).acl_setuser("writer", commands=["+@all"], keys=["t:refused:*"])
    assert deduper.check("a", TEXT).status == "new"
    admin(server).acl_setuser("writer", commands=["-evalsha", "-eval"])
    with pytest.raises(TransientError):
        deduper.check("b", TEXT + " Another one.")
    assert [r.reply for r in refusals(caplog)] == ["NOPERM", "NOPERM"]  # type: ignore[attr-defined]
    deduper.close()


def test_protected_mode_is_a_refusal() -> None:
    """Protected mode only refuses clients from other hosts, so a loopback test cannot
    provoke it; the compose test does (tests/compose). Here: the reply as redis-py raises
    it, on a command and on connecting."""
    text = (
        "DENIED Redis is running in protected mode because protected mode is enabled and "
        "no password is set for the default user."
    )
    assert refusal_of(redis.ResponseError(text)) == "DENIED"
    assert refusal_of(redis.ConnectionError("-" + text)) == "DENIED"
    assert refusal_of(redis.ResponseError("ERR unknown command")) == ""
    assert refusal_of(redis.ConnectionError("Error 111 connecting")) == ""

    deduper = RedisDeduper("redis://127.0.0.1:1/0")

    def denied(args: list) -> list:
        raise redis.ResponseError(text)

    deduper._script = denied  # type: ignore[method-assign]
    with pytest.raises(TransientError):
        deduper.check("a", TEXT)


def test_a_worker_without_the_password_holds_its_batch_and_dead_letters_nothing(
    kafka_bootstrap: str, unique: str, tmp_path: Path, server: RedisServer
) -> None:
    topics = Topics(f"r{unique}")
    env = {
        **topics.env(kafka_bootstrap),
        "INGEST_PROCESSES": "1",
        "INGEST_DEDUP_BACKEND": "redis",
        "INGEST_REDIS_URL": url_as(server, ""),  # the password is missing
    }
    worker = start_worker(env, tmp_path / "worker.log")
    seed = int(unique, 16) % 10**9
    pages = []
    for i, host in enumerate(("a", "b", "c")):
        page = {"url": f"https://{host}.example/{unique}", "html": article_html(seed + i)}
        pages.append((None, orjson.dumps(page), []))
    try:
        produce(kafka_bootstrap, topics.input, pages)
        wait_for(lambda: http_get(worker.port, "/readyz")[0] == 503, 60, "not ready")
        wait_for(lambda: worker.metrics().get("ingest_dedup_store_up") == 0, 30, "store down")
        admin(server).config_set("requirepass", "")  # the operator's fix
        published = read_all(kafka_bootstrap, topics.output, 3, timeout=90)
        wait_for(lambda: http_get(worker.port, "/readyz")[0] == 200, 60, "ready again")
        assert worker.metrics().get("ingest_dedup_store_up") == 1
    finally:
        assert worker.stop() == 0
    assert len(published) == 3
    assert read_all(kafka_bootstrap, topics.dlq, 1, timeout=3) == []
    lines = [orjson.loads(x) for x in worker.log().splitlines() if '"dedup_store_refused"' in x]
    assert [x["reply"] for x in lines] == ["NOAUTH"]
    assert PASSWORD not in worker.log()
