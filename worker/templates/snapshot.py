"""Site templates on disk, so a restarted worker does not start every site cold again.

One ``.npz`` file (numpy arrays, no pickle): a JSON header with each site's name, page
count and last-seen time, then every kept page's id hash, fingerprint count and the
fingerprints themselves, sites in least-recently-seen order so loading restores the LRU
order. Written to a temporary file in the same directory, flushed to disk, then renamed
over the old one: a crash leaves either the old snapshot or the new one, never half of one.
Only the template windows are saved; revisable pages just stay as published.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import numpy as np
import orjson

from worker.templates.lines import FINGERPRINT
from worker.templates.state import SiteState, SiteTemplates

FORMAT = "site-templates/2"  # 2: 32-bit line fingerprints


def save_snapshot(templates: SiteTemplates, path: str | os.PathLike[str]) -> int:
    """Write the state atomically; returns the file's size in bytes."""
    target = Path(path)
    sites, keys, lengths, prints = [], [], [], []
    for site, state in templates:
        sites.append([site, state.seen, state.last_seen, len(state.pages)])
        for key, page in state.pages.items():
            keys.append(key)
            lengths.append(len(page))
            prints.append(page)
    header = orjson.dumps({"format": FORMAT, "sites": sites})
    arrays = {
        "header": np.frombuffer(header, dtype=np.uint8),
        "keys": np.array(keys, dtype=np.uint64),
        "lengths": np.array(lengths, dtype=np.int64),
        "prints": np.concatenate(prints) if prints else np.empty(0, dtype=FINGERPRINT),
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)
    return target.stat().st_size


def load_snapshot(templates: SiteTemplates, path: str | os.PathLike[str]) -> int:
    """Restore the sites of a snapshot into ``templates``; returns how many.

    A missing file is a cold start (0). The current limits apply: a smaller window keeps each
    site's newest pages, a smaller ``max_sites`` the most recently seen sites.
    """
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        return 0
    with data:
        header = orjson.loads(data["header"].tobytes())
        if header.get("format") != FORMAT:
            raise ValueError(f"not a site-templates snapshot: {header.get('format')!r}")
        keys, lengths, prints = data["keys"], data["lengths"], data["prints"]
    starts = np.concatenate([[0], np.cumsum(lengths)])
    limits = templates.limits
    page = 0
    for site, seen, last_seen, count in header["sites"]:
        state = SiteState(seen=int(seen), last_seen=float(last_seen))
        for i in range(page, page + count)[-limits.window_pages :]:
            state.pages[int(keys[i])] = prints[starts[i] : starts[i + 1]].copy()
        page += count
        templates.restore(site, state)
    return len(templates)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
