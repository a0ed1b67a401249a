"""What one word is, in every script: the unit that word counts and dedupe share.

Most scripts put spaces between words, and a word there is what ``wc -w`` counts. Chinese,
Japanese, Thai, Lao, Khmer and Burmese do not: a space-separated "word" is a clause or a
whole paragraph, so a Chinese article of 400 characters counted 3 words and every rule that
weighs text by words (the minimum-words skip, dedupe's short-text guard, page types, site
templates) took it for almost empty. Here each letter of those scripts weighs a fraction of
a word, calibrated on parallel news text (the 1,000 sentences of the Universal Dependencies
PUD treebanks, English words against the same sentences in each script):

* Han: 1.62 characters per English word (Chinese), so 1.6; kana: 2.0 (Japanese segments
  into morphemes of 1.8 characters, a little finer than English words);
* Thai: 5.1 code points per English word, 4.0 of them letters (vowel and tone marks weigh
  nothing), so 4 letters; Lao alike; Khmer and Burmese 5 (not measured: longer syllables).

Dedupe cuts runs of these letters into tokens of the same weight: a token ends before a
letter with probability ``1 / letters-per-word``, decided by a hash of that letter and the
one before it (content-defined, so an edit moves only the boundaries next to it and the
rest of the text still cuts the same way). A dedupe shingle of five tokens then spans about
five words' worth of text in every script, as it does in English.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence

import numpy as np

# (first, last code point, letters per word) of the scripts written without spaces
UNSPACED_BLOCKS: tuple[tuple[int, int, float], ...] = (
    (0x0E00, 0x0E7F, 4.0),  # Thai
    (0x0E80, 0x0EFF, 4.0),  # Lao
    (0x1000, 0x109F, 5.0),  # Myanmar
    (0x1780, 0x17FF, 5.0),  # Khmer
    (0x19E0, 0x19FF, 5.0),  # Khmer symbols
    (0x3005, 0x3007, 1.6),  # ideographic iteration mark, closing mark, number zero
    (0x3040, 0x30FF, 2.0),  # Hiragana, Katakana
    (0x31F0, 0x31FF, 2.0),  # Katakana phonetic extensions
    (0x3400, 0x4DBF, 1.6),  # Han extension A
    (0x4E00, 0x9FFF, 1.6),  # Han
    (0xA9E0, 0xA9FF, 5.0),  # Myanmar extended-B
    (0xAA60, 0xAA7F, 5.0),  # Myanmar extended-A
    (0xF900, 0xFAFF, 1.6),  # Han compatibility
    (0xFF66, 0xFF9F, 2.0),  # half-width Katakana
)
HAN_SUPPLEMENTARY = (0x20000, 0x323AF)  # Han extensions B-H, beyond the BMP
HAN_LETTERS_PER_WORD = 1.6

UNSPACED_CLASS = "".join(f"\\u{lo:04x}-\\u{hi:04x}" for lo, hi, _ in UNSPACED_BLOCKS) + (
    f"\\U{HAN_SUPPLEMENTARY[0]:08x}-\\U{HAN_SUPPLEMENTARY[1]:08x}"
)  # a regular-expression character class body: ``f"[{UNSPACED_CLASS}]"``

_BMP = 0x10000
FIRST_UNSPACED = 0x0E00  # no script below this code point is written without spaces


@functools.cache
def weights() -> np.ndarray:
    """float32 per BMP code point: the share of a word one letter of it weighs; 0 for
    characters of spaced scripts, punctuation, and the marks that only modify a letter."""
    table = np.zeros(_BMP, dtype=np.float32)
    for lo, hi, per_word in UNSPACED_BLOCKS:
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            if ch.isalnum() and unicodedata.category(ch) not in ("Mn", "Mc"):
                table[cp] = 1.0 / per_word
    return table


@functools.cache
def unspaced() -> np.ndarray:
    """bool per BMP code point: in a script written without spaces (marks included)."""
    table = np.zeros(_BMP, dtype=bool)
    for lo, hi, _ in UNSPACED_BLOCKS:
        table[lo : hi + 1] = True
    return table


@functools.cache
def _word_chars() -> np.ndarray:
    """bool per BMP code point: part of a word (``\\w``, or a combining mark)."""
    table = np.zeros(_BMP, dtype=bool)
    for cp in range(_BMP):
        ch = chr(cp)
        table[cp] = ch.isalnum() or ch == "_" or unicodedata.category(ch) in ("Mn", "Mc")
    return table


def code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def letter_weights(cps: np.ndarray) -> np.ndarray:
    """``weights()`` of any code points (supplementary Han included, other planes 0)."""
    if cps.size == 0 or cps.max() < _BMP:
        return weights()[cps]
    bmp = cps < _BMP
    out = np.where(
        (cps >= HAN_SUPPLEMENTARY[0]) & (cps <= HAN_SUPPLEMENTARY[1]),
        np.float32(1.0 / HAN_LETTERS_PER_WORD),
        np.float32(0.0),
    )
    out[bmp] = weights()[cps[bmp]]
    return out


def _has_unspaced(cps: np.ndarray) -> bool:
    """Cheap for spaced text: only its few characters above U+0E00 (quotes, dashes) are
    looked up."""
    high = cps[cps >= FIRST_UNSPACED]
    return bool(high.size) and bool(letter_weights(high).any())


def has_unspaced(text: str) -> bool:
    """Whether the text holds letters of a script written without spaces."""
    return not text.isascii() and _has_unspaced(code_points(text))


@functools.lru_cache(maxsize=4)  # a page's text is counted by the skip, page type, output
def count_words(text: str) -> int:
    """Words of a text in any script: ``len(text.split())`` for text written with spaces
    (so English counts are those of ``wc -w``); a space-separated piece holding letters of
    an unspaced script counts their weight plus its other words, rounded, at least 1."""
    if text.isascii():
        return len(text.split())
    cps = code_points(text)
    if not _has_unspaced(cps):
        return len(text.split())
    return int(_piece_words(cps, letter_weights(cps)).sum())


def line_word_counts(lines: Sequence[str]) -> np.ndarray:
    """int32 ``count_words`` of each line, with one pass over the page (counts add up over
    lines: a text's count is the sum of its lines')."""
    joined = "\n".join(lines)
    if joined.isascii() or joined.count("\n") != max(len(lines) - 1, 0):
        return np.fromiter(map(count_words, lines), np.int32, len(lines))
    cps = code_points(joined)
    if not _has_unspaced(cps):
        return np.fromiter((len(x.split()) for x in lines), np.int32, len(lines))
    words = _piece_words(cps, letter_weights(cps))
    line_of_piece = np.cumsum(cps == 10)[_piece_starts(cps)]
    return np.bincount(line_of_piece, weights=words, minlength=len(lines)).astype(np.int32)


def _is_space(cps: np.ndarray) -> np.ndarray:
    space = (cps == 32) | ((cps >= 9) & (cps <= 13)) | (cps == 0x85) | (cps == 0xA0)
    wide = (cps >= 0x1680) & (cps <= 0x3000)
    if wide.any():
        space[wide] = [chr(cp).isspace() for cp in cps[wide].tolist()]
    return space


def _piece_starts(cps: np.ndarray) -> np.ndarray:
    solid = ~_is_space(cps)
    starts = np.flatnonzero(solid[1:] & ~solid[:-1]) + 1
    if solid.size and solid[0]:
        starts = np.concatenate([[0], starts])
    return starts


def _piece_words(cps: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Words of each space-separated piece (``_piece_starts`` order)."""
    starts = _piece_starts(cps)
    if starts.size == 0:
        return np.zeros(0, dtype=np.int64)
    space = _is_space(cps)
    bmp = np.minimum(cps, _BMP - 1)
    # a spaced-script word inside a piece: a run of word characters outside unspaced scripts
    spaced = _word_chars()[bmp] & ~unspaced()[bmp] & (cps < _BMP) & ~space
    fragment = spaced.copy()
    fragment[1:] &= ~spaced[:-1]
    weight = np.add.reduceat(w.astype(np.float64), starts)
    fragments = np.add.reduceat(fragment.astype(np.int64), starts)
    words = np.floor(weight + fragments + 0.5).astype(np.int64)
    # a piece without unspaced letters is one word, as wc -w counts it
    return np.where(weight > 0, np.maximum(words, 1), 1)


# Characters an English word takes in running text (5 letters and a space): the scale of the
# character thresholds of rules written for spaced scripts.
CHARS_PER_WORD = 6.0
_UNSPACED_RE = re.compile(f"[{UNSPACED_CLASS}]")


def weighed_length(text: str) -> int:
    """``len(text)`` with each character of an unspaced script counted as the characters its
    share of a word takes in English (a Han character 3.75, a kana 3, a Thai letter 1.5 and
    its vowel and tone marks 0), so a rule that reads "a paragraph is 200 characters" reads
    Chinese as it reads English. Text without such characters (every ASCII text) is ``len``
    exactly; ratios against other character counts (link characters) should stay on ``len``."""
    if text.isascii() or _UNSPACED_RE.search(text) is None:
        return len(text)
    cps = code_points(text)
    w = letter_weights(cps)
    bmp = cps < _BMP
    inside = np.zeros(cps.size, dtype=bool)
    inside[bmp] = unspaced()[cps[bmp]]
    inside |= w > 0  # supplementary Han
    weighed = float(w[inside].sum()) * CHARS_PER_WORD
    return int(len(text) - int(inside.sum()) + weighed + 0.5)
