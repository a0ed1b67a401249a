"""Helpers for tests that drive a real worker process against a real broker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from worker import tools
from worker.broker import free_port
from worker.config import Settings

MB = 2**20
Message = tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]  # key, value, headers


@dataclass
class Topics:
    prefix: str
    partitions: int = 3

    @property
    def input(self) -> str:
        return f"{self.prefix}.raw"

    @property
    def output(self) -> str:
        return f"{self.prefix}.articles"

    @property
    def duplicates(self) -> str:
        return f"{self.prefix}.dups"

    @property
    def dlq(self) -> str:
        return f"{self.prefix}.dlq"

    @property
    def group(self) -> str:
        return f"{self.prefix}.group"

    def env(self, bootstrap: str) -> dict[str, str]:
        return {
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "INGEST_INPUT_TOPIC": self.input,
            "INGEST_OUTPUT_TOPIC": self.output,
            "INGEST_DUPLICATES_TOPIC": self.duplicates,
            "INGEST_DLQ_TOPIC": self.dlq,
            "INGEST_GROUP_ID": self.group,
            "INGEST_PARTITIONS": str(self.partitions),
            "INGEST_SESSION_TIMEOUT_MS": "2000",
            "INGEST_HEARTBEAT_INTERVAL_MS": "300",
            "INGEST_POLL_TIMEOUT_MS": "200",
            "INGEST_LINGER_MS": "5",
        }


@dataclass
class WorkerProcess:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def metrics(self) -> dict[str, float]:
        """Samples of /metrics as {'name{label="v",...}': value}."""
        body = http_get(self.port, "/metrics")[1]
        out: dict[str, float] = {}
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
                out[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
        return out

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def http_get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def start_worker(
    env: dict[str, str], log_path: Path, extra_args: Iterable[str] = ()
) -> WorkerProcess:
    port = free_port()
    full_env = {**os.environ, **env, "INGEST_METRICS_PORT": str(port)}
    full_env.pop("INGEST_METRICS_HOST", None)
    out = open(log_path, "ab")  # noqa: SIM115 - the process owns it until it exits
    proc = subprocess.Popen(
        [sys.executable, "-m", "worker", "run", *extra_args],
        env=full_env,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    worker = WorkerProcess(proc, port, log_path, env)
    wait_for(lambda: _answers(port) or proc.poll() is not None, 60, "worker metrics endpoint")
    if proc.poll() is not None:
        raise AssertionError(f"worker exited early:\n{worker.log()[-3000:]}")
    return worker


def _answers(port: int) -> bool:
    try:
        return http_get(port, "/healthz")[0] == 200
    except OSError:
        return False


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def produce(bootstrap: str, topic: str, messages: Iterable[Message]) -> int:
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_request_size=32 * 2**20
    )
    count = 0
    for key, value, headers in messages:
        producer.send(topic, key=key, value=value, headers=headers or None)
        count += 1
    producer.flush()
    producer.close()
    return count


def read_all(
    bootstrap: str, topic: str, expect: int, timeout: float = 60, settle: float = 0.0
) -> list:
    """Every record of ``topic`` once at least ``expect`` arrived (then ``settle`` s more)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_bytes=64 * 2**20,
        max_partition_fetch_bytes=32 * 2**20,
    )
    consumer.subscribe([topic])
    records: list = []
    deadline = time.monotonic() + timeout
    settle_until: float | None = None
    try:
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
            if len(records) >= expect:
                settle_until = settle_until or time.monotonic() + settle
                if time.monotonic() >= settle_until:
                    break
    finally:
        consumer.close()
    return records


def group_reader(bootstrap: str, group: str) -> KafkaConsumer:
    """A consumer that only reads a group's committed offsets (it joins nothing)."""
    return KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)


def committed_offsets(
    bootstrap: str, group: str, topic: str, partitions: int, reader: KafkaConsumer | None = None
) -> dict[int, int | None]:
    """Committed offset per partition; pass a ``group_reader`` when asking in a loop, so a
    wait does not open (and start a network thread for) a client every second."""
    consumer = reader or group_reader(bootstrap, group)
    try:
        return {p: consumer.committed(TopicPartition(topic, p)) for p in range(partitions)}
    finally:
        if reader is None:
            consumer.close()


def end_offsets(bootstrap: str, topic: str, expect: int) -> dict[int, int]:
    """Next offset per partition, from the records themselves (ListOffsets is wrong on some
    brokers)."""
    ends: dict[int, int] = {}
    for record in read_all(bootstrap, topic, expect, timeout=30):
        ends[record.partition] = max(ends.get(record.partition, 0), record.offset + 1)
    return ends


def record_batch(
    messages: Iterable[Message], codec: int = 0, header_key_bytes: dict[str, bytes] | None = None
) -> bytearray:
    """One v2 record batch as a producer writes it. ``header_key_bytes`` replaces header keys
    by raw bytes of the same length (e.g. not UTF-8), with the CRC made right again."""
    from kafka.record.default_records import DefaultRecordBatchBuilder
    from kafka.record.util import calc_crc32c

    builder = DefaultRecordBatchBuilder(2, codec, False, -1, -1, -1, 2**30)
    now = int(time.time() * 1000)
    for offset, (key, value, headers) in enumerate(messages):
        builder.append(offset, now, key, value, headers or [])
    batch = builder.build()
    for placeholder, raw in (header_key_bytes or {}).items():
        assert codec == 0 and len(placeholder.encode()) == len(raw)
        batch = bytearray(bytes(batch).replace(placeholder.encode(), raw))
        batch[17:21] = calc_crc32c(memoryview(batch)[21:]).to_bytes(4, "big")
    return batch


def produce_raw(bootstrap: str, topic: str, partition: int, batch: bytes) -> int:
    """Send ``batch`` as it is with a Produce v3 request, as a client with its own encoder
    (or a faulty one) would; returns the broker's error code (0: stored). The bootstrap
    broker must lead the partition (a one-node broker)."""
    import socket
    import struct

    def string(s: str) -> bytes:
        return struct.pack(">h", len(s)) + s.encode()

    body = (
        struct.pack(">h", -1)  # transactional id: null
        + struct.pack(">hi", -1, 30_000)  # acks=all, timeout
        + struct.pack(">i", 1)
        + string(topic)
        + struct.pack(">i", 1)
        + struct.pack(">ii", partition, len(batch))
        + bytes(batch)
    )
    request = struct.pack(">hhi", 0, 3, 7) + string("raw-test-producer") + body
    host, port = bootstrap.split(",")[0].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(struct.pack(">i", len(request)) + request)
        size = struct.unpack(">i", _recv_exact(sock, 4))[0]
        response = _recv_exact(sock, size)
    # correlation id, [topic: name, [partition: index, error_code, ...]]
    pos = 4 + 4
    name_len = struct.unpack_from(">h", response, pos)[0]
    pos += 2 + name_len + 4 + 4
    return struct.unpack_from(">h", response, pos)[0]


def _recv_exact(sock: object, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))  # type: ignore[attr-defined]
        if not chunk:
            raise ConnectionError("broker closed the connection")
        data += chunk
    return data


def drain(bootstrap: str, topic: str, quiet_s: float = 3.0, max_bytes: int = 64 * MB) -> list:
    """Every record of ``topic`` (read until nothing new came for ``quiet_s``), as the
    operator tools read a topic; ``max_bytes``: the largest record expected."""
    settings = Settings(kafka_bootstrap_servers=bootstrap, max_page_bytes=max_bytes - MB)
    return list(tools.drain(settings, topic, idle_s=quiet_s))
