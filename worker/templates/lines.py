"""Lines of a page: split, normalise, fingerprint, put back together.

Two pages of a site share a template line when the line reads the same once case, digits
and spacing are ignored ("12 comments" and "3 Comments", "© 2023" and "© 2024"), so the
fingerprint is taken over that normal form. Lines without a word carry no evidence and are
never removed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xxhash

from worker.textunits import count_words, has_unspaced, line_word_counts

_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")
_NON_WORD_IN_LINE = re.compile(r"[^\w\n]+")
_SLUG_SPLIT = re.compile(r"[^0-9a-z]+")
# 32 bits are plenty within one site: a content line is taken for template only if it collides
# with one of the site's few hundred template lines, odds about 1e-7 per line; and they halve
# the state. A non-empty line hashing to 0 (odds 2**-32) is merely never template.
FINGERPRINT = np.uint32
NO_FINGERPRINT = 0  # lines without a word

# A headline and a line are the same heading when one holds the other and the shorter has at
# least this share of the longer's words ("Title | Site" against "Title").
HEADLINE_COVER = 0.6
SLUG_COVER = 0.8  # share of a line's words found in the URL's last path segment
SLUG_MIN_WORDS = 4  # shorter lines match slugs by chance


def normalise(line: str) -> str:
    return " ".join(_WORD.findall(_DIGITS.sub("0", line.lower())))


def normalise_lines(lines: Sequence[str]) -> list[str]:
    """``[normalise(x) for x in lines]`` in three passes over the whole page instead of three
    per line: the template stage runs on every page, and pages have hundreds of lines."""
    joined = "\n".join(lines)
    if joined.count("\n") != len(lines) - 1:  # a line holding a newline: one at a time
        return [normalise(x) for x in lines]
    joined = _NON_WORD_IN_LINE.sub(" ", _DIGITS.sub("0", joined.lower()))
    return [x.strip(" ") for x in joined.split("\n")] if lines else []


def fingerprint(normal: str) -> int:
    return xxhash.xxh32_intdigest(normal.encode()) if normal else NO_FINGERPRINT


def fingerprints(normals: Sequence[str]) -> np.ndarray:
    """One fingerprint per ``normalise``d line, in order (``NO_FINGERPRINT``: no word)."""
    return np.fromiter((fingerprint(x) for x in normals), FINGERPRINT, len(normals))


def page_set(prints: np.ndarray) -> np.ndarray:
    """A page's evidence: each fingerprint once, however often it repeats on the page."""
    unique = np.unique(prints)
    return unique[unique != NO_FINGERPRINT]


@dataclass(frozen=True, slots=True)
class LineFeatures:
    """What the template stage needs of each line of a page, one array entry per line."""

    prints: np.ndarray  # ``fingerprints`` of the normal forms
    headline: np.ndarray  # bool: the page's own headline (``headline_mask``)
    chars: np.ndarray  # int32: characters
    words: np.ndarray  # int32: ``count_words`` of each line (a text's count is their sum)


def line_features(lines: Sequence[str], title: str | None, url: str | None) -> LineFeatures:
    normals = normalise_lines(lines)
    return LineFeatures(
        fingerprints(normals),
        np.array(headline_mask(normals, title, url), dtype=bool),
        np.fromiter(map(len, lines), np.int32, len(lines)),
        line_word_counts(lines),
    )


def split_text(text: str) -> tuple[list[str], str]:
    """Non-blank lines of an extracted text and the separator to join them back with."""
    separator = "\n\n" if "\n\n" in text else "\n"
    return [x for x in text.splitlines() if x.strip()], separator


def headline_mask(normals: Sequence[str], title: str | None, url: str | None) -> list[bool]:
    """Lines (``normalise``d) that are this page's own headline, so never template even when
    other pages list it (a "related" or "most read" box repeats headlines site-wide)."""
    mask = [False] * len(normals)
    heading = normalise(title or "")
    slug = frozenset(_url_slug_words(url))
    # a heading in a script without spaces is one "word" a clause: weigh it and the lines
    weighed = line_word_counts(normals) if has_unspaced(heading) else None
    size = _word_count(heading) if weighed is None else count_words(heading)
    # only lines of a length either test could accept are looked at closely (the bounds are
    # a little wide: the tests themselves decide)
    low, high = HEADLINE_COVER * size - 1, size / HEADLINE_COVER + 1
    slug_max = len(slug) / SLUG_COVER
    if not size and slug_max < SLUG_MIN_WORDS:
        return mask
    for i, line in enumerate(normals):
        words = _word_count(line) if weighed is None else int(weighed[i])
        if (size and low <= words <= high and _same_heading(line, words, heading, size)) or (
            SLUG_MIN_WORDS <= words <= slug_max + 1 and _matches_slug(line, words, slug)
        ):
            mask[i] = True
    return mask


def _same_heading(line: str, words: int, heading: str, heading_words: int) -> bool:
    """One holds the other, word for word, and the shorter has most of the longer's words."""
    if not words or not heading_words:
        return False
    if min(words, heading_words) < HEADLINE_COVER * max(words, heading_words):
        return False
    short, long_ = (line, heading) if words <= heading_words else (heading, line)
    return f" {short} " in f" {long_} "


def _matches_slug(line: str, words: int, slug: frozenset[str]) -> bool:
    # a line with more words than the slug could cover is not it (repeated words aside)
    if words < SLUG_MIN_WORDS or SLUG_COVER * words > len(slug):
        return False
    return sum(w in slug for w in line.split()) >= SLUG_COVER * words


def _word_count(normal: str) -> int:
    return normal.count(" ") + 1 if normal else 0


def _url_slug_words(url: str | None) -> list[str]:
    if not url:
        return []
    path = url.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    last = path.rsplit("/", 1)[-1].lower()
    return [w for w in _SLUG_SPLIT.split(_DIGITS.sub("0", last)) if w]
