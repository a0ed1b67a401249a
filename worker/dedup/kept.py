"""Published canonicals kept for corrections: a bounded, insertion-ordered cache.

When an earlier-fetched copy takes a canonical's place (``dedup.race``), the canonical's
output is published again as a duplicate: the in-process index keeps the last ``limit``
outputs published ``new`` (their topic and value) for that. Not snapshotted: after a
restart a canonical whose output is gone can no longer be taken over (its copy stays a
duplicate, as before this rule).
"""

from __future__ import annotations

from collections import OrderedDict


class KeptOutputs:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[tuple[str, str], tuple[str | None, bytes]] = OrderedDict()

    def put(self, doc_id: str, origin: str, topic: str | None, value: bytes) -> None:
        if self.limit <= 0:
            return
        self._items[(doc_id, origin)] = (topic, value)
        self._items.move_to_end((doc_id, origin))
        while len(self._items) > self.limit:
            self._items.popitem(last=False)

    def get(self, doc_id: str, origin: str) -> tuple[str | None, bytes] | None:
        return self._items.get((doc_id, origin))

    def __len__(self) -> int:
        return len(self._items)
