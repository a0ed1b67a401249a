"""Recrawl semantics, shared by every index backend: replay, unchanged or a new version.

Besides canonical texts the index keeps, per page id, its latest versions: where each
was read (``Sighting.origin``), the hash of its text as extracted and the verdict it
was published with. A record read again at a known origin is a *replay* and gets the
same verdict again (the same output under the same key); any other record of the page
is a *recrawl*: ``unchanged`` (not republished) when its extracted text hashes as the
latest version's, else a new version (``updated``, or a duplicate of another page).
"""

from __future__ import annotations

import hashlib

from worker.model import DedupStatus, DedupVerdict, Reservation, Sighting

STATUSES: tuple[DedupStatus, ...] = ("new", "updated", "exact_duplicate", "near_duplicate")
CANONICAL = 2  # status codes below this are canonical versions (candidates for copies)


def text_hash(text: str) -> str:
    """The output record's ``content_hash`` of ``text`` (``article.content_hash``)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def default_sighting(doc_id: str, text: str) -> Sighting:
    """For callers without record coordinates (offline dedup, tests): a page id seen again
    is a replay, as before recrawl semantics."""
    digest = text_hash(text)
    return Sighting(origin=f"id:{doc_id}", raw_hash=digest, content_hash=digest)


def new_version(
    verdict: DedupVerdict | None,
    cluster: str,
    latest: tuple[int, str] | None,
    doc_id: str,
    origin: str,
    token: int = -1,
) -> DedupVerdict:
    """The verdict of a new version of a page: ``verdict`` is ``verify.decide``'s (None: no
    other page's copy), ``latest`` the page's last (version, content hash), if any."""
    version, previous = (latest[0] + 1, latest[1]) if latest else (1, None)
    reservation = Reservation(doc_id, origin, token)
    if verdict is None:
        status: DedupStatus = "updated" if latest else "new"
        return DedupVerdict(status, cluster, None, None, version, previous, reservation)
    return DedupVerdict(
        verdict.status,
        verdict.cluster_id,
        verdict.duplicate_of,
        verdict.similarity,
        version,
        previous,
        reservation,
    )


def unchanged(cluster: str, version: int, content_hash: str) -> DedupVerdict:
    """A recrawl whose text is the latest version's: nothing stored, nothing published."""
    return DedupVerdict("unchanged", cluster, None, None, version, content_hash)
