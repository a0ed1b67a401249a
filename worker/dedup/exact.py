"""Exact duplicate detection on normalised text, held in process."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import OrderedDict

from worker.records import DedupVerdict

_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def text_hash(text: str) -> str:
    return hashlib.blake2b(normalise(text).encode(), digest_size=16).hexdigest()


class ExactDeduper:
    """First id per normalised-text hash wins; bounded LRU of ``capacity`` entries."""

    def __init__(self, capacity: int = 1_000_000) -> None:
        self._first: OrderedDict[str, str] = OrderedDict()
        self._capacity = capacity

    def check(self, doc_id: str, text: str) -> DedupVerdict:
        h = text_hash(text)
        first = self._first.get(h)
        if first is None or first == doc_id:
            self._first[h] = doc_id
            self._first.move_to_end(h)
            while len(self._first) > self._capacity:
                self._first.popitem(last=False)
            return DedupVerdict("new", cluster_id=h)
        return DedupVerdict("exact_duplicate", cluster_id=h, duplicate_of=first, similarity=1.0)

    def close(self) -> None:
        pass
