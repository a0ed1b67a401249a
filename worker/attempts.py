"""How often a partition's next records were started without finishing, kept in Kafka.

A batch that never finishes (its worker is OOM-killed, evicted, or crashes on it) is
redone by whoever owns the partition next, for ever. So before a batch is processed the
worker commits the offset it starts from (not past it) with a mark in the commit's
metadata: how many times processing started there. The mark lives in the consumer
group, so it counts across restarts and across workers, with no other service.

From the second start at one offset the partition is processed one record at a time up
to the end of the batch that failed, each record marked before it starts; a record
started ``MAX_TRIES`` times without finishing is dead-lettered unprocessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MAX_TRIES = 3

Mode = Literal["batch", "single", "give_up"]


@dataclass(frozen=True, slots=True)
class Mark:
    offset: int  # the offset processing starts from
    tries: int = 0  # starts at ``offset`` that did not finish, this one included
    careful_until: int = -1  # below this offset: one record at a time

    def metadata(self) -> str:
        return f"tries={self.tries};careful_until={self.careful_until}"


def parse(offset: int | None, metadata: str | None) -> Mark | None:
    """The mark of a committed offset (None: nothing committed). Foreign or malformed
    metadata reads as no tries."""
    if offset is None or offset < 0:
        return None
    fields = dict(p.split("=", 1) for p in (metadata or "").split(";") if "=" in p)
    try:
        return Mark(offset, int(fields.get("tries", 0)), int(fields.get("careful_until", -1)))
    except ValueError:
        return Mark(offset)


def plan(previous: Mark | None, first: int, last: int) -> tuple[Mark, Mode]:
    """The mark to commit before processing ``first..last`` of a partition, and how."""
    same = previous is not None and previous.offset == first
    tries = (previous.tries if same else 0) + 1  # type: ignore[union-attr]
    careful_until = previous.careful_until if previous is not None else -1
    if careful_until <= first:
        careful_until = -1
    if tries >= 2 and careful_until < 0:
        careful_until = last + 1
    mark = Mark(first, tries, careful_until)
    if tries > MAX_TRIES:
        return mark, "give_up"
    return mark, "single" if careful_until > first else "batch"


def finished(mark: Mark | None, next_offset: int) -> Mark:
    """The mark committed with ``next_offset`` once everything before it finished."""
    careful_until = mark.careful_until if mark is not None else -1
    return Mark(next_offset, 0, careful_until if careful_until > next_offset else -1)


def merge(own: Mark | None, group: Mark | None) -> Mark | None:
    """This process's mark and the group's: the group's, unless both are at one offset
    and this process counted more (the broker dropped the metadata)."""
    if group is None:
        return own
    if own is None or own.offset != group.offset:
        return group
    return group if group.tries >= own.tries else own
