"""Compact sketches of a text: exact hash, MinHash signature, LSH band keys.

The index stores these instead of text. Shingles are word 5-grams of the
normalised text. Everything is vectorised with numpy: tokens are hashed as
polynomials over their code points (prefix sums, no Python loop over tokens),
shingles combine five token hashes, and the signature is one-permutation
MinHash (the minimum per hash bin, read off the sorted shingle hashes) with
optimal densification for empty bins, so its cost does not grow with
``NUM_PERM``. The signature only feeds the LSH band keys.

Verification needs containment, which a MinHash signature estimates badly when
the two texts differ in length (the error of J is multiplied by the size ratio),
so each text also keeps a bottom-``SAMPLE`` sample of its shingle hashes (the
SAMPLE smallest, a uniform random sample of its set); the query text, whose
whole set is at hand, is checked against it up to the sample's largest value.
Texts with at most ``SAMPLE`` shingles are kept whole and compared exactly.
Sampled values keep ``SAMPLE_BITS`` bits (3 bytes each when stored): a value
of another text then matches by accident once per 2^24 / SAMPLE comparisons
below the sample's range, about |query| / 65536 times a check (negligible).

Every constant below is part of the stored format: changing one invalidates
snapshots and a shared Redis index (``FORMAT`` is checked on load).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import xxhash

from worker.dedup.normalize import token_lines, token_starts

FORMAT = 1
SHINGLE = 5
BANDS = 32  # LSH: a text is a candidate when it shares one band (ROWS values) ...
ROWS = 2  # ... which finds pairs down to Jaccard ~0.3 and almost never unrelated ones
# (band_keys packs the two 32-bit values of a band into one 64-bit key: ROWS is 2)
NUM_PERM = BANDS * ROWS  # signature length (hash bins); a power of two
SAMPLE = 256  # shingle hashes kept per text (all of them for shorter texts)
SAMPLE_BITS = 24
DENSIFY_ROUNDS = 32

_BIN_BITS = NUM_PERM.bit_length() - 1
_MASK64 = (1 << 64) - 1
_U64 = np.uint64


def _splitmix64(state: int) -> tuple[int, int]:
    state = (state + 0x9E3779B97F4A7C15) & _MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return state, z ^ (z >> 31)


def _constants(seed: int, count: int) -> np.ndarray:
    """Fixed pseudo-random uint64s, independent of numpy's generator versions."""
    out, state = [], seed
    for _ in range(count):
        state, value = _splitmix64(state)
        out.append(value)
    return np.array(out, dtype=np.uint64)


_CHAR_BASE = int(_constants(0x5EED_0001, 1)[0]) | 1  # odd: invertible mod 2^64
_CHAR_BASE_INV = pow(_CHAR_BASE, -1, 1 << 64)
_POS_MULT = _constants(0x5EED_0002, SHINGLE) | _U64(1)
_BAND_SALT = _constants(0x5EED_0003, BANDS)
_DENSIFY = (_constants(0x5EED_0004, DENSIFY_ROUNDS * NUM_PERM) % _U64(NUM_PERM)).reshape(
    DENSIFY_ROUNDS, NUM_PERM
)
_EXACT_SALT = int(_constants(0x5EED_0005, 1)[0])
_DOC_SALT = int(_constants(0x5EED_0006, 1)[0])
_BIN_STARTS = np.arange(NUM_PERM, dtype=np.uint64) << _U64(64 - _BIN_BITS)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, vectorised: spreads combined hashes over all 64 bits."""
    x = x ^ (x >> _U64(30))
    x = x * _U64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> _U64(27))
    x = x * _U64(0x94D049BB133111EB)
    return x ^ (x >> _U64(31))


@dataclass(frozen=True, slots=True)
class Sketch:
    """What the index keeps of one text."""

    exact: bytes  # 16-byte hash of the normalised words: exact duplicates and cluster ids
    size: int  # number of distinct shingle hashes (their top SAMPLE_BITS bits)
    sample: np.ndarray  # the SAMPLE smallest of them, sorted (all when size <= SAMPLE)
    shingles: np.ndarray | None = None  # all of them, sorted: the query side only
    keys: np.ndarray | None = None  # uint64 index keys: exact key, then LSH band keys


class Sketcher:
    """Turns text into a Sketch; caches the powers its token hashing needs."""

    def __init__(self) -> None:
        self._powers = np.ones(1, dtype=np.uint64)
        self._inverse = np.ones(1, dtype=np.uint64)

    def _grow(self, n: int) -> None:
        size = max(n, 2 * self._powers.size)
        powers = np.full(size, _CHAR_BASE, dtype=np.uint64)
        inverse = np.full(size, _CHAR_BASE_INV, dtype=np.uint64)
        powers[0] = inverse[0] = 1
        self._powers, self._inverse = np.cumprod(powers), np.cumprod(inverse)

    def token_hashes(self, text: str) -> np.ndarray:
        """One uint64 per word token, position independent: sum(cp_j * B^(j-start)).

        Separators are zeroed, so a sum from one token's start to the next one's
        (``np.add.reduceat``) is exactly that token's polynomial.
        """
        return self._hash(*token_starts(text))

    def line_token_hashes(self, lines: list[str]) -> tuple[np.ndarray, np.ndarray] | None:
        """``token_hashes`` of the lines joined, and the line of each token: the tokens of any
        subset of the lines, joined by whitespace, are ``hashes[keep[line]]``. None in the
        rare case the lines cannot be told apart after normalisation."""
        found = token_lines(lines)
        if found is None:
            return None
        cps, starts, line = found
        return self._hash(cps, starts), line

    def _hash(self, cps: np.ndarray, starts: np.ndarray) -> np.ndarray:
        if starts.size == 0:
            return np.empty(0, dtype=np.uint64)
        if cps.size > self._powers.size:
            self._grow(cps.size)
        terms = cps.astype(np.uint64) * self._powers[: cps.size]
        return _mix(np.add.reduceat(terms, starts) * self._inverse[starts])

    def sketch(self, text: str, tokens: np.ndarray | None = None) -> Sketch:
        """``tokens``: the text's ``token_hashes`` when already known."""
        tokens = self.token_hashes(text) if tokens is None else tokens
        exact = xxhash.xxh3_128_digest(tokens.astype("<u8").tobytes())
        shingles = shingle_hashes(tokens)
        top = _distinct((shingles >> _U64(64 - SAMPLE_BITS)).astype(np.uint32))  # sorted
        exact_keys = np.array([exact_key(exact)], dtype=np.uint64)
        return Sketch(
            exact=exact,
            size=int(top.size),
            sample=top[:SAMPLE],
            shingles=top,
            keys=np.concatenate([exact_keys, band_keys(minhash(shingles), shingles.size)]),
        )


@functools.cache
def default_sketcher() -> Sketcher:
    """One per process (it caches powers): for token hashing outside a deduper."""
    return Sketcher()


def shingle_hashes(tokens: np.ndarray) -> np.ndarray:
    """Sorted distinct 64-bit hashes of the word 5-grams (the whole text when shorter)."""
    n = tokens.size
    if n == 0:
        return np.empty(0, dtype=np.uint64)
    width = min(SHINGLE, n)
    count = n - width + 1
    acc = np.zeros(count, dtype=np.uint64)
    for i in range(width):
        acc += tokens[i : i + count] * _POS_MULT[i]
    return _distinct(np.sort(_mix(acc)))


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values of a sorted array (np.unique without its slower paths)."""
    if values.size < 2:
        return values
    keep = np.empty(values.size, dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def minhash(shingles: np.ndarray) -> np.ndarray:
    """uint32[NUM_PERM] one-permutation MinHash of sorted shingle hashes.

    Bin = top bits of the hash, value = the next 32 bits of its smallest member;
    an empty bin copies a filled bin chosen by a fixed per-bin sequence (optimal
    densification), so similar texts fill the same empty bins the same way.
    """
    sig = np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)
    if shingles.size == 0:
        return sig
    starts = np.searchsorted(shingles, _BIN_STARTS)
    filled = starts < np.append(starts[1:], shingles.size)
    first = shingles[starts[filled]]
    sig[filled] = ((first >> _U64(32 - _BIN_BITS)) & _U64(0xFFFFFFFF)).astype(np.uint32)
    empty = np.flatnonzero(~filled)
    for row in _DENSIFY:
        if empty.size == 0:
            return sig
        source = row[empty]
        hit = filled[source]
        sig[empty[hit]] = sig[source[hit]]
        empty = empty[~hit]
    if empty.size:  # very few filled bins: take the next filled bin to the right
        full_bins = np.flatnonzero(filled)
        nxt = full_bins[np.searchsorted(full_bins, empty) % full_bins.size]
        sig[empty] = sig[nxt]
    return sig


def band_keys(sig32: np.ndarray, size: int) -> np.ndarray:
    """One uint64 per LSH band: its two 32-bit signature values, salted and mixed."""
    if size == 0:
        return np.empty(0, dtype=np.uint64)
    rows = sig32.astype(np.uint64).reshape(BANDS, ROWS)
    return _mix(((rows[:, 0] << _U64(32)) | rows[:, 1]) ^ _BAND_SALT)


def pack_sample(sample: np.ndarray) -> bytes:
    """SAMPLE_BITS-bit values as 3 little-endian bytes each."""
    return sample.astype("<u4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()


def unpack_sample(raw: bytes) -> np.ndarray:
    triples = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)
    padded = np.zeros((triples.shape[0], 4), dtype=np.uint8)
    padded[:, :3] = triples
    return padded.view("<u4").ravel().astype(np.uint32)


def exact_key(exact: bytes) -> int:
    return int.from_bytes(exact[:8], "little") ^ _EXACT_SALT


def doc_key(doc_id: str) -> int:
    """The 64-bit key a doc id is stored under (replays find their own record by it)."""
    return xxhash.xxh3_64_intdigest(doc_id.encode("utf-8", "surrogatepass")) ^ _DOC_SALT
