"""Snapshot files of the in-process index: numpy arrays, written atomically.

A crash while writing must leave the previous snapshot intact, so the arrays go
to a temporary file in the same directory, which is fsynced and renamed over
the old one (and the directory fsynced, so that the rename itself survives).
No pickles: a snapshot is data only.
"""

from __future__ import annotations

import os

import numpy as np


def write_atomically(path: str, arrays: dict[str, np.ndarray]) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read(path: str) -> dict[str, np.ndarray]:
    with open(path, "rb") as f, np.load(f, allow_pickle=False) as z:
        return {name: z[name] for name in z.files}


def pack_bytes(name: str, items: list[bytes]) -> dict[str, np.ndarray]:
    """Variable-length byte strings as two arrays: ``<name>_data`` and ``<name>_len``."""
    return {
        f"{name}_data": np.frombuffer(b"".join(items), dtype=np.uint8),
        f"{name}_len": np.array([len(b) for b in items], dtype=np.int64),
    }


def unpack_bytes(arrays: dict[str, np.ndarray], name: str) -> list[bytes]:
    data = arrays[f"{name}_data"].tobytes()
    ends = np.cumsum(arrays[f"{name}_len"]).tolist()
    starts = [0, *ends[:-1]] if ends else []
    return [data[s:e] for s, e in zip(starts, ends, strict=True)]
