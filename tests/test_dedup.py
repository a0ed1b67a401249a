"""Dedup decisions on texts written for these tests: copies, truncations, hard negatives.

The made-up texts (``article``, ``syndicate`` ...) are in ``tests/kit/stories.py``.
"""

from __future__ import annotations

import io

import numpy as np
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.kit.stories import FOOTER, article, brief, syndicate, text, truncate
from worker.dedup import make_deduper
from worker.dedup.memory import MemoryDeduper
from worker.dedup.minhash import Sketcher
from worker.dedup.normalize import words
from worker.dedup.offline import run_offline
from worker.dedup.verify import containment


@pytest.fixture
def deduper() -> MemoryDeduper:
    return MemoryDeduper()


# --- normalisation ----------------------------------------------------------------------------


def test_typography_is_not_a_difference() -> None:
    plain = 'He said "it\'s over" - then left... Twenty-two people were there.'
    fancy = (
        "HE SAID \u201cit\u2019s over\u201d \u2014 then\u00a0left\u2026 "
        "Twenty\u2011two\u200b people\nwere &quot;there&quot;."
    )
    assert words(plain) == words(fancy)
    assert Sketcher().sketch(plain).exact == Sketcher().sketch(fancy).exact


def test_normalisation_folds_case_compatibility_forms_and_invisible_characters() -> None:
    assert words("Stra\u00dfe \ufb01ne \uff21\uff22 wo\u200brd Caf\u00e9 &eacute;t\u00e9") == [
        "strasse",
        "fine",
        "ab",
        "word",
        "café",
        "été",
    ]
    assert words("e\u0301t\u00e9") == words("\u00e9t\u00e9")  # NFC composition
    assert words("\U0001d518x math") == ["ux", "math"]  # beyond the BMP
    assert words("  \u2014 ... \u00a0") == []


def test_different_words_are_a_difference() -> None:
    s = Sketcher()
    assert (
        s.sketch("The council met on Monday.").exact != s.sketch("The council met Tuesday.").exact
    )


def test_sampled_containment_tracks_the_exact_value() -> None:
    """Long texts keep only a sample of their shingles; the estimate must stay close."""
    s = Sketcher()
    paras = article(30, paragraphs=20)
    full = s.sketch(text(paras))
    assert full.size > 4 * len(full.sample)  # sampled, not whole
    for share in (0.3, 0.5, 0.8):
        for kept in (truncate(paras, share), syndicate(paras[: int(20 * share)], 1)):
            part = s.sketch(kept)
            exact = np.intersect1d(part.shingles, full.shingles).size / min(part.size, full.size)
            assert abs(containment(part, full) - exact) < 0.08, (share, exact)
            assert containment(full, part) == pytest.approx(exact, abs=0.08)


# --- decisions --------------------------------------------------------------------------------


def test_exact_copy_after_normalisation(deduper: MemoryDeduper) -> None:
    story = text(article(1))
    first = deduper.check("a", story)
    copy = deduper.check("b", story.upper().replace("\n\n", "\r\n   "))
    assert first.status == "new"
    assert (copy.status, copy.duplicate_of, copy.cluster_id) == (
        "exact_duplicate",
        "a",
        first.cluster_id,
    )
    assert copy.similarity == 1.0


def test_syndicated_copy_is_a_near_duplicate(deduper: MemoryDeduper) -> None:
    paras = article(2)
    first = deduper.check("orig", text(paras))
    copy = deduper.check("copy", syndicate(paras, seed=1))
    assert (copy.status, copy.duplicate_of, copy.cluster_id) == (
        "near_duplicate",
        "orig",
        first.cluster_id,
    )
    assert copy.similarity is not None and 0.6 <= copy.similarity < 1.0


def test_truncated_copies_either_way_round(deduper: MemoryDeduper) -> None:
    paras = article(3, paragraphs=10)
    deduper.check("teaser", truncate(paras, 0.5))  # the truncated copy arrives first
    full = deduper.check("full", syndicate(paras, seed=2))
    assert (full.status, full.duplicate_of) == ("near_duplicate", "teaser")
    other = MemoryDeduper()
    other.check("full", text(paras))
    cut = other.check("cut", truncate(paras, 0.6))
    assert (cut.status, cut.duplicate_of) == ("near_duplicate", "full")


def test_short_teaser_of_a_long_story_is_not_a_copy(deduper: MemoryDeduper) -> None:
    paras = article(4, paragraphs=12)
    deduper.check("full", text(paras))
    assert deduper.check("teaser", truncate(paras, 0.15)).status == "new"


def test_follow_up_quoting_two_paragraphs_is_new(deduper: MemoryDeduper) -> None:
    parent = article(5, paragraphs=8)
    deduper.check("parent", text(parent))
    fresh = article(6, paragraphs=6)
    follow_up = [*fresh[:2], "As reported on Monday, " + parent[2], parent[3], *fresh[2:]]
    verdict = deduper.check("follow-up", text(follow_up))
    assert verdict.status == "new"
    assert verdict.cluster_id != deduper.check("parent", text(parent)).cluster_id


def test_articles_sharing_a_long_footer_are_different(deduper: MemoryDeduper) -> None:
    for i in range(6):
        body = article(100 + i, paragraphs=2, words_each=75)
        verdict = deduper.check(f"outlet-{i}", text([*body, FOOTER]))
        assert verdict.status == "new", i


def test_template_briefs_are_different_but_a_republished_brief_is_a_copy(
    deduper: MemoryDeduper,
) -> None:
    for i in range(12):
        assert deduper.check(f"brief-{i}", brief(i)).status == "new", i
    again = deduper.check("brief-5-copy", "By JANE DOE, Riverton Courier\n" + brief(5))
    assert (again.status, again.duplicate_of) == ("near_duplicate", "brief-5")


def test_empty_and_tiny_texts(deduper: MemoryDeduper) -> None:
    assert deduper.check("e1", "").status == "new"
    assert deduper.check("e2", "  \u2014 ").status == "exact_duplicate"
    assert deduper.check("w1", "Breaking").status == "new"
    assert deduper.check("w2", "Developing").status == "new"


# --- replays ----------------------------------------------------------------------------------


def test_replay_is_the_same_article_never_its_own_duplicate(deduper: MemoryDeduper) -> None:
    paras = article(8)
    first = deduper.check("a", text(paras))
    copy = deduper.check("b", syndicate(paras, seed=3))
    assert deduper.check("a", text(paras)) == first
    assert deduper.check("a", syndicate(paras, seed=4)) == first  # re-crawled, new wording
    assert deduper.check("b", syndicate(paras, seed=3)) == copy


# --- offline ----------------------------------------------------------------------------------


def test_offline_protocol_in_arrival_order() -> None:
    paras = article(9)
    docs = [
        {
            "id": "x1",
            "ts": "2026-01-01T00:00:00Z",
            "source": "a",
            "title": "t",
            "text": text(paras),
        },
        {"id": "x2", "ts": "2026-01-01T01:00:00Z", "source": "b", "title": "t", "text": brief(1)},
        {
            "id": "x3",
            "ts": "2026-01-01T02:00:00Z",
            "source": "c",
            "title": "u",
            "text": text(paras),
        },
        {
            "id": 4,
            "ts": "2026-01-01T03:00:00Z",
            "source": "d",
            "title": "v",
            "text": truncate(paras, 0.6),
        },
    ]
    inp = io.BytesIO(b"".join(orjson.dumps(d) + b"\n" for d in docs) + b"\n")
    out = io.BytesIO()
    assert run_offline(inp, out, make_deduper("memory")) == 4
    assert [orjson.loads(line) for line in out.getvalue().splitlines()] == [
        {"id": "x1", "duplicate_of": None},
        {"id": "x2", "duplicate_of": None},
        {"id": "x3", "duplicate_of": "x1"},
        {"id": 4, "duplicate_of": "x1"},
    ]


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown dedup backend"):
        make_deduper("sqlite")


LINE_TEXT = st.text(st.sampled_from("aZ 9_-.ßİΣﬁ\u00a0\u200b&amp;#;😀\t"), max_size=16)


@given(st.lists(st.tuples(LINE_TEXT, st.booleans()), max_size=8))
def test_tokens_of_kept_lines_are_those_of_their_text(lines: list[tuple[str, bool]]) -> None:
    """The extraction pool hashes every candidate line once; after the site templates the
    kept lines' tokens must be exactly what hashing the cleaned text gives."""
    sketcher = Sketcher()
    texts = [t for t, _ in lines]
    keep = np.array([k for _, k in lines], dtype=bool)
    found = sketcher.line_token_hashes(texts)
    assert found is not None
    hashes, line = found
    kept = "\n\n".join(t for t, k in lines if k)
    assert np.array_equal(hashes[keep[line]], sketcher.token_hashes(kept))


def test_an_encoded_line_break_gives_no_line_tokens() -> None:
    assert Sketcher().line_token_hashes(["one&#10;two", "three"]) is None
    assert Sketcher().line_token_hashes(["one two", "three"]) is not None
