"""Watching the processes a worker starts: its process tree, peak memory, and the processes
a run tagged in their environment (so only ours are ever reaped)."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

RUN_MARKER = "FAULTS_RUN"  # env var that tags every process a scenario starts

# --- watching processes --------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(root: int) -> list[int]:
    tree, out, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(tree.get(pid, []))
    return out


def rss_mb(pid: int) -> float:
    """Peak resident memory of a live process (VmHWM), in MiB; 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class RssPeaks:
    worker_mb: float = 0.0  # the consuming process
    pool_mb: float = 0.0  # the largest of its pool (and forkserver) processes
    total_mb: float = 0.0  # the worker and all its processes at one moment


class RssSampler:
    """Samples the peak RSS of a worker and its process tree in a thread."""

    def __init__(self, root: int, every_s: float = 0.2) -> None:
        self.root, self.every_s, self.peaks = root, every_s, RssPeaks()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = descendants(self.root)
            sizes = {pid: rss_mb(pid) for pid in pids}
            p = self.peaks
            p.worker_mb = max(p.worker_mb, sizes.get(self.root, 0.0))
            others = [mb for pid, mb in sizes.items() if pid != self.root]
            p.pool_mb = max([p.pool_mb, *others])
            p.total_mb = max(p.total_mb, sum(sizes.values()))
            self._stop.wait(self.every_s)


def tagged_processes(marker: str) -> list[int]:
    """Processes whose environment carries ``RUN_MARKER=marker`` (ours, and only ours)."""
    needle = f"{RUN_MARKER}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def reap_tagged(marker: str, grace_s: float = 10.0) -> list[int]:
    """Wait for the tagged processes to end; kill and return those that did not."""
    deadline = time.monotonic() + grace_s
    while tagged_processes(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = tagged_processes(marker)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return left
