"""Published canonicals kept for corrections: a bounded, insertion-ordered cache.

When an earlier-fetched copy takes a canonical's place (``dedup.race``), the canonical's
output is published again as a duplicate: the in-process index keeps the last ``limit``
outputs published ``new`` (their topic and value) for that. Not snapshotted: after a
restart a canonical whose output is gone can no longer be taken over (its copy stays a
duplicate, as before this rule). Outputs are kept packed (``pack_output``, as Redis keeps
them): article JSON shrinks about threefold, so the in-process cache stays a few hundred
megabytes at most.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict


def pack_output(topic: str | None, value: bytes) -> bytes:
    """A kept output: its topic ("" none), a NUL, its value; zlib (article JSON: ~3x)."""
    return zlib.compress((topic or "").encode() + b"\x00" + value, 1)


def unpack_output(blob: bytes) -> tuple[str | None, bytes]:
    topic, _, value = zlib.decompress(blob).partition(b"\x00")
    return topic.decode() or None, value


class KeptOutputs:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[tuple[str, str], bytes] = OrderedDict()

    def put(self, doc_id: str, origin: str, topic: str | None, value: bytes) -> None:
        if self.limit <= 0:
            return
        self._items[(doc_id, origin)] = pack_output(topic, value)
        self._items.move_to_end((doc_id, origin))
        while len(self._items) > self.limit:
            self._items.popitem(last=False)

    def get(self, doc_id: str, origin: str) -> tuple[str | None, bytes] | None:
        blob = self._items.get((doc_id, origin))
        return None if blob is None else unpack_output(blob)

    def __len__(self) -> int:
        return len(self._items)
