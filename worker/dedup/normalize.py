"""Text normalisation for dedup: copies differ in typography, never in words.

Syndicated copies reach us with HTML entities, NBSPs, curly or straight quotes,
different dashes, zero-width characters, hard wraps and case changes. Dedup only
compares *words*, so the text is reduced to word tokens (``\\w+`` after HTML
unescaping, NFKC and case folding, with zero-width characters deleted): quotes,
dashes and whitespace of any kind are separators and cannot tell copies apart.
Combining marks belong to their word (Thai vowels, Devanagari matras); Arabic vowel
signs and the tatweel are deleted (copies add or drop them). Runs of a script written
without spaces (Chinese, Japanese, Thai ...) are cut into tokens of about a word's
weight, as ``worker.textunits`` explains.

This runs on every article, so it works on numpy arrays of code points with
lookup tables for case folding and character classes (built once) instead of
regular expressions and Python loops over tokens.
"""

from __future__ import annotations

import functools
import html
import itertools
import unicodedata

import numpy as np

from worker.textunits import FIRST_UNSPACED, letter_weights, unspaced

# Invisible characters that are deleted (not separators): they may sit inside a word.
IGNORABLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"

# Compatibility characters so common in news that they are replaced before the
# (slow) NFKC step, which then runs only on the rare texts that still need it.
SPACES = "\u00a0\u202f\u2026\u2011"  # NBSP, narrow NBSP, ellipsis, non-breaking hyphen

_BMP = 0x10000
SKIP = 0xFFFFFFFF  # table value of an ignorable character (deleted)
SLOW = 0xFFFFFFFE  # table value of a character whose case fold is several characters


# Arabic harakat, superscript alef and tatweel: optional in writing, deleted like IGNORABLE.
ARABIC_OPTIONAL = frozenset(chr(cp) for cp in [*range(0x064B, 0x0660), 0x0670, 0x0640])


def _is_variation_selector(cp: int) -> bool:
    """Emoji and glyph variation selectors: marks, but of no letter."""
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


def _fold_char(ch: str) -> int:
    """The folded code point of a one-character fold, 0 for a separator."""
    if ch in IGNORABLE or ch in ARABIC_OPTIONAL or _is_variation_selector(ord(ch)):
        return SKIP
    word = ch.isalnum() or ch == "_" or unicodedata.category(ch) in ("Mn", "Mc")
    return ord(ch) if word else 0


@functools.cache
def _table() -> np.ndarray:
    """Per BMP code point: folded code point, 0 (separator), SKIP or SLOW."""
    table = np.empty(_BMP, dtype=np.uint32)
    for cp in range(_BMP):
        folded = chr(cp).casefold()
        table[cp] = _fold_char(folded) if len(folded) == 1 else SLOW
    return table


def prepare(text: str) -> str:
    """HTML entities and compatibility forms (NBSP, ligatures, full-width) resolved."""
    if "&" in text:
        text = html.unescape(text)
    for ch in SPACES:
        if ch in text:
            text = text.replace(ch, " ")
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text


def _utf32(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def folded_codepoints(text: str) -> np.ndarray:
    """Case-folded code points of word characters, 0 for separators, ignorables deleted."""
    return _folded(text)[0]


def _folded(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(``folded_codepoints``, the code points each came from: the same length)."""
    cps = _utf32(text)
    if cps.size == 0:
        return cps, cps
    if cps.max() < _BMP:
        folded = _table()[cps]
        if folded.max() < SLOW:
            return folded, cps
        if not (folded == SLOW).any():
            kept = folded != SKIP
            return folded[kept], cps[kept]
    return _folded_slow(text)


def _folded_slow(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Texts with multi-character case folds or characters beyond the BMP."""
    cps = _utf32(text.casefold())
    bmp = cps < _BMP
    folded = np.empty(cps.size, dtype=np.uint32)
    folded[bmp] = _table()[cps[bmp]]
    folded[~bmp] = [_fold_char(chr(cp)) for cp in cps[~bmp].tolist()]
    slow = folded == SLOW  # still unfolded after casefold: a letter, keep as is
    folded[slow] = cps[slow]
    kept = folded != SKIP
    return folded[kept], cps[kept]


def _starts(cps: np.ndarray) -> np.ndarray:
    """Token start offsets: where a word starts, and inside runs of an unspaced script."""
    is_word = cps != 0
    starts = np.flatnonzero(is_word[1:] > is_word[:-1]) + 1
    if is_word.size and is_word[0]:
        starts = np.concatenate([[0], starts])
    if cps.size < 2 or cps.max() < FIRST_UNSPACED:
        return starts
    cuts = _unspaced_cuts(cps, is_word)
    if cuts.size == 0:
        return starts
    return np.union1d(starts, cuts)


_CUT_MULT = np.uint64(0x9E3779B97F4A7C15)
_CUT_MIX = np.uint64(0xBF58476D1CE4E5B9)


def _unspaced_cuts(cps: np.ndarray, is_word: np.ndarray) -> np.ndarray:
    """Offsets i inside words where a token starts: a switch between a spaced and an
    unspaced script, or a letter of an unspaced script whose hash with the character
    before it falls under its weight (a token of ``1 / weight`` letters on average)."""
    bmp = np.minimum(cps, 0xFFFF)
    solo = unspaced()[bmp] | (letter_weights(cps) > 0)
    both = is_word[1:] & is_word[:-1]
    switch = solo[1:] != solo[:-1]
    w = letter_weights(cps[1:])
    x = (cps[:-1].astype(np.uint64) << np.uint64(21)) ^ cps[1:].astype(np.uint64)
    x = x * _CUT_MULT
    x = (x ^ (x >> np.uint64(29))) * _CUT_MIX
    hashed = (x >> np.uint64(32)).astype(np.float64) < w * 4294967296.0
    return np.flatnonzero(both & (switch | hashed)) + 1


def token_starts(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(folded code points with 0 for separators, token start offsets)."""
    cps = folded_codepoints(prepare(text))
    return cps, _starts(cps)


def token_lines(lines: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``token_starts`` of the lines joined by newlines, plus each token's line index; None
    when normalising moved a line break (an encoded newline such as ``&#10;``)."""
    text = prepare("\n".join(lines))
    if text.count("\n") != max(len(lines) - 1, 0):
        return None
    cps, source = _folded(text)
    starts = _starts(cps)
    return cps, starts, np.cumsum(source == 10)[starts]


def words(text: str) -> list[str]:
    """The word tokens dedup sees, as strings (for tests and debugging)."""
    cps, starts = token_starts(text)
    chars = "".join(chr(cp) if cp else " " for cp in cps.tolist())
    bounds = [*starts.tolist(), len(chars)]
    return [chars[a:b].split(" ", 1)[0] for a, b in itertools.pairwise(bounds)]
