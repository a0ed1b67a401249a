"""One boilerplate vocabulary: a furniture line is recognised the same way by every engine."""

from __future__ import annotations

import pytest

from worker.extract.fast.priors import is_boilerplate_line
from worker.extract.text import classify_line
from worker.extract.trafilatura_engine.cleanup import filter_lines
from worker.extract.vocabulary import FURNITURE_LINES, is_furniture_line, line_key

# Phrases that once sat in only one engine's list; each engine now knows all of them.
ONCE_TRAFILATURA_ONLY = ["Story continues below advertisement", "Reply with quote", "See all"]
ONCE_TEXT_ENGINE_ONLY = ["Leave a reply", "Getty Images", "Out of stock"]
FRAMED = ["— Advertisement —", "Share |", "  MENU:  ", "Related posts…"]


@pytest.mark.parametrize("line", ONCE_TRAFILATURA_ONLY + ONCE_TEXT_ENGINE_ONLY + FRAMED)
def test_every_engine_drops_the_same_furniture_line(line: str) -> None:
    assert is_furniture_line(line)
    assert filter_lines(f"A sentence of the story itself.\n{line}") == (
        "A sentence of the story itself."
    )
    assert is_boilerplate_line(line.lower())
    assert classify_line(line).chrome


def test_the_list_holds_normalised_keys_only() -> None:
    assert all(line_key(phrase) == phrase for phrase in FURNITURE_LINES)


@pytest.mark.parametrize(
    "line",
    [
        "Share prices fell sharply on Monday.",
        "About a third of the island's ferries run at night.",
        "Reply to the council was expected by Friday, officials said.",
    ],
)
def test_sentences_that_start_like_furniture_are_content(line: str) -> None:
    assert not is_furniture_line(line)
    assert not is_boilerplate_line(line.lower())
    assert not classify_line(line).chrome
