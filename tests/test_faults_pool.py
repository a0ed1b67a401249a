"""The process pool under faults: a crashing page alone in its batch, and a SIGKILLed owner."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from dataclasses import replace
from pathlib import Path

from tests.kit.kafka import wait_for
from tests.kit.processes import RUN_MARKER, reap_tagged, tagged_processes
from tests.test_parallel import CRASH_MARKER, crashing_factory, item
from worker.config import Settings
from worker.model import Extracted, Page
from worker.parallel import CpuPool
from worker.pipeline import Failed


def refuse_inline(page: Page) -> Extracted:
    raise AssertionError("extracted in the consuming process")


def test_a_crashing_record_alone_in_its_batch_is_isolated_in_the_pool() -> None:
    settings = replace(Settings(), processes=2)
    pool = CpuPool(settings, refuse_inline, 2, factory=crashing_factory)
    try:
        results = pool.prepare_all([item(7, f"https://site.example/{CRASH_MARKER}")])
        after = pool.prepare_all([item(8)])
    finally:
        pool.close()
    assert isinstance(results[0], Failed)
    assert (results[0].kind, results[0].reason) == ("dead_letter", "worker_crashed")
    assert not isinstance(after[0], Failed), after[0]


OWNER = """
import sys, time
from dataclasses import replace
from worker.config import Settings
from worker.extract import make_extractor
from worker.parallel import CpuPool
from tests.test_parallel import item

if __name__ == "__main__":
    pool = CpuPool(replace(Settings(), processes=2), make_extractor(), 2)
    pool.prepare_all([item(1), item(2)])
    print("ready", flush=True)
    time.sleep(600)
"""


def test_pool_processes_end_when_their_owner_is_sigkilled(tmp_path: Path) -> None:
    script = tmp_path / "owner.py"
    script.write_text(OWNER)
    marker = uuid.uuid4().hex
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent), RUN_MARKER: marker}
    owner = subprocess.Popen(
        [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert owner.stdout is not None and owner.stdout.readline().strip() == "ready"
        assert len(tagged_processes(marker)) >= 3  # owner, forkserver, pool processes
        owner.send_signal(signal.SIGKILL)
        owner.wait(10)
        wait_for(lambda: not tagged_processes(marker), 20, "the pool to end with its owner")
    finally:
        owner.kill()
        left = reap_tagged(marker, grace_s=0)
    assert left == []
