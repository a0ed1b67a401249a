"""Upper bounds on the metadata an article carries.

A page decides how long its ``og:title`` is (a megabyte, if it likes); the output record
and everything downstream should not. Text fields are cut at their bound, URLs longer
than a page URL may be are dropped (a cut URL is another URL); the fields cut are
reported so the worker can count them (``ingest_metadata_truncated_total{field}``).
"""

from __future__ import annotations

from worker.decode.fields import MAX_URL_CHARS
from worker.model import Extracted

MAX_TITLE_CHARS = 2_000
MAX_DESCRIPTION_CHARS = 5_000
MAX_SITE_NAME_CHARS = 500
MAX_AUTHOR_CHARS = 200  # one name
MAX_AUTHORS = 100
# The metric's label set: every field a bound applies to.
BOUNDED_FIELDS = ("title", "description", "authors", "site_name", "canonical_url", "image_url")


def bound_metadata(extracted: Extracted) -> tuple[str, ...]:
    """Cuts ``extracted``'s metadata to its bounds in place; returns the fields it cut."""
    cut: list[str] = []
    for name, limit in (
        ("title", MAX_TITLE_CHARS),
        ("description", MAX_DESCRIPTION_CHARS),
        ("site_name", MAX_SITE_NAME_CHARS),
    ):
        value = getattr(extracted, name)
        if value is not None and len(value) > limit:
            setattr(extracted, name, value[:limit].rstrip())
            cut.append(name)
    authors = extracted.authors
    if len(authors) > MAX_AUTHORS or any(len(a) > MAX_AUTHOR_CHARS for a in authors):
        extracted.authors = [a[:MAX_AUTHOR_CHARS].rstrip() for a in authors[:MAX_AUTHORS]]
        cut.append("authors")
    for name in ("canonical_url", "image_url"):
        value = getattr(extracted, name)
        if value is not None and len(value) > MAX_URL_CHARS:
            setattr(extracted, name, None)
            cut.append(name)
    return tuple(cut)
