"""Services tests and benchmarks start for themselves, on loopback: a moto S3 server, Tansu
on s3:// storage (restartable, keeping its data) or on memory, a private redis-server."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

from tests.kit.kafka import (
    wait_for,
)
from worker.broker import EmbeddedBroker, free_port, port_open, start_broker


@dataclass
class MotoS3:
    """A local S3 server (moto) for Tansu's s3:// storage engine."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT": self.endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
        }

    def create_bucket(self, name: str) -> None:
        request = urllib.request.Request(f"{self.endpoint}/{name}", method="PUT")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self) -> None:
        _stop(self.process)


def moto_available() -> bool:
    return shutil.which("moto_server", path=str(Path(sys.executable).parent)) is not None


def start_moto(log_path: Path) -> MotoS3:
    binary = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    if binary is None:
        raise RuntimeError("moto_server not installed (pip install 'moto[server]')")
    port = free_port()
    out = open(log_path, "ab")  # noqa: SIM115 - the process owns it until it exits
    proc = subprocess.Popen(
        [binary, "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT
    )
    wait_for(lambda: port_open("127.0.0.1", port) or proc.poll() is not None, 30, "moto")
    if proc.poll() is not None:
        raise RuntimeError(f"moto_server exited with {proc.returncode}")
    return MotoS3(proc, port)


@dataclass
class S3Broker:
    """Tansu on s3:// storage: stop and start it on the same port, keeping its data."""

    s3: MotoS3
    bucket: str
    port: int
    log_path: Path
    broker: EmbeddedBroker | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        with mock.patch.dict(os.environ, self.s3.env()):
            self.broker = start_broker(
                port=self.port, log_path=self.log_path, storage=f"s3://{self.bucket}/"
            )

    def stop(self, hard: bool = False) -> None:
        """SIGTERM, or SIGKILL with ``hard`` (a crash: nothing flushed on the way out)."""
        if self.broker is not None:
            if hard:
                self.broker.process.kill()
            self.broker.stop()
            self.broker = None


def start_s3_broker(s3: MotoS3, log_path: Path) -> S3Broker:
    bucket = f"tansu{uuid.uuid4().hex[:8]}"
    s3.create_bucket(bucket)
    broker = S3Broker(s3, bucket, free_port(), log_path)
    broker.start()
    return broker


@dataclass
class RedisServer:
    """A redis-server of our own (never the machine's shared one), with an append-only file
    so that its data survives a restart on the same port."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    password: str = ""

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server not installed")
        cmd = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir)]
        cmd += ["--appendonly", "yes", "--appendfsync", "always", "--save", ""]
        if self.password:
            cmd += ["--requirepass", self.password]
        self.process = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL
        )
        proc = self.process
        wait_for(lambda: port_open("127.0.0.1", self.port) or proc.poll() is not None, 20, "redis")
        if proc.poll() is not None:
            raise RuntimeError(f"redis-server exited with {proc.returncode}")

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self.process = None


def redis_available() -> bool:
    return shutil.which("redis-server") is not None


@contextlib.contextmanager
def private_redis(workdir: Path, password: str = "") -> Iterator[RedisServer]:
    workdir.mkdir(parents=True, exist_ok=True)
    server = RedisServer(workdir, password=password)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def tansu_memory(workdir: Path) -> Iterator[str]:
    broker = start_broker(log_path=workdir / "tansu.log")
    try:
        yield broker.bootstrap
    finally:
        broker.stop()
