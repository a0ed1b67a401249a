"""Fetch times in the forms crawlers write them -> ISO 8601 UTC (``...Z``), else None."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

MAX_TIMESTAMP_CHARS = 64
EARLIEST_YEAR = 1990
LATEST_YEAR = 2200
# Epoch numbers above these are milliseconds / microseconds, not seconds.
EPOCH_MS_ABOVE = 1e11
EPOCH_US_ABOVE = 1e14

NUMERIC = re.compile(r"\s*\d{9,17}(\.\d+)?\s*")
# java.util.Date.toString(), what Nutch's indexer-kafka writes for tstamp.
JAVA_DATE = "%a %b %d %H:%M:%S %Z %Y"


def normalize_timestamp(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if not isinstance(value, str) or len(value) > MAX_TIMESTAMP_CHARS:
        return None
    if NUMERIC.fullmatch(value):
        return _from_epoch(float(value))
    return _format(_parse_text(value.strip()))


def _from_epoch(number: float) -> str | None:
    if number != number or number <= 0:  # NaN or not after 1970
        return None
    if number > EPOCH_US_ABOVE:
        number /= 1e6
    elif number > EPOCH_MS_ABOVE:
        number /= 1e3
    try:
        return _format(datetime.fromtimestamp(number, UTC))
    except (OverflowError, OSError, ValueError):
        return None


def _parse_text(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    try:
        return datetime.strptime(text, JAVA_DATE)
    except ValueError:
        return None


def _format(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        return None
    spec = "milliseconds" if moment.microsecond else "seconds"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"
