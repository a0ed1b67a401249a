"""Lines of a page: split, normalise, fingerprint, put back together.

Two pages of a site share a template line when the line reads the same once case, digits
and spacing are ignored ("12 comments" and "3 Comments", "© 2023" and "© 2024"), so the
fingerprint is taken over that normal form. Lines without a word carry no evidence and are
never removed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import xxhash

_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")
_SLUG_SPLIT = re.compile(r"[^0-9a-z]+")
NO_FINGERPRINT = 0  # lines without a word; xxh64 of a non-empty string is 0 with odds 2**-64

# A headline and a line are the same heading when one holds the other and the shorter has at
# least this share of the longer's words ("Title | Site" against "Title").
HEADLINE_COVER = 0.6
SLUG_COVER = 0.8  # share of a line's words found in the URL's last path segment
SLUG_MIN_WORDS = 4  # shorter lines match slugs by chance


def normalise(line: str) -> str:
    return " ".join(_WORD.findall(_DIGITS.sub("0", line.lower())))


def fingerprint(normal: str) -> int:
    return xxhash.xxh64_intdigest(normal.encode()) if normal else NO_FINGERPRINT


def fingerprints(normals: Sequence[str]) -> np.ndarray:
    """One uint64 per ``normalise``d line, in order (``NO_FINGERPRINT`` for no word)."""
    return np.fromiter((fingerprint(x) for x in normals), np.uint64, len(normals))


def page_set(prints: np.ndarray) -> np.ndarray:
    """A page's evidence: each fingerprint once, however often it repeats on the page."""
    unique = np.unique(prints)
    return unique[unique != NO_FINGERPRINT]


def split_text(text: str) -> tuple[list[str], str]:
    """Non-blank lines of an extracted text and the separator to join them back with."""
    separator = "\n\n" if "\n\n" in text else "\n"
    return [x for x in text.splitlines() if x.strip()], separator


def headline_mask(normals: Sequence[str], title: str | None, url: str | None) -> list[bool]:
    """Lines (``normalise``d) that are this page's own headline, so never template even when
    other pages list it (a "related" or "most read" box repeats headlines site-wide)."""
    heading = normalise(title or "")
    slug = frozenset(_url_slug_words(url))
    if not heading and not slug:
        return [False] * len(normals)
    return [_same_heading(x, heading) or _matches_slug(x, slug) for x in normals]


def _same_heading(line: str, heading: str) -> bool:
    """One holds the other, word for word, and the shorter has most of the longer's words."""
    if not line or not heading:
        return False
    short, long_ = sorted((line, heading), key=_word_count)
    if _word_count(short) < HEADLINE_COVER * _word_count(long_):
        return False
    return f" {short} " in f" {long_} "


def _matches_slug(line: str, slug: frozenset[str]) -> bool:
    if not slug or _word_count(line) < SLUG_MIN_WORDS:
        return False
    words = line.split()
    return sum(w in slug for w in words) >= SLUG_COVER * len(words)


def _word_count(normal: str) -> int:
    return normal.count(" ") + 1 if normal else 0


def _url_slug_words(url: str | None) -> list[str]:
    if not url:
        return []
    path = url.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    last = path.rsplit("/", 1)[-1].lower()
    return [w for w in _SLUG_SPLIT.split(_DIGITS.sub("0", last)) if w]
