"""Language identification of extracted text."""

from __future__ import annotations

import pytest

from worker.extract.language import PREFIX_CHARS, _identifier, identify_language

ENGLISH = (
    "The library reopened on Monday after a year of repairs, and the queue of readers waiting "
    "at the door stretched all the way down the street to the old market hall."
)
GERMAN = (
    "Die Bibliothek hat am Montag nach einem Jahr der Renovierung wieder geöffnet, und die "
    "Schlange der wartenden Leser reichte bis zur alten Markthalle."
)
FRENCH = (
    "La bibliothèque a rouvert lundi après une année de travaux, et la file des lecteurs qui "
    "attendaient devant la porte s'étendait jusqu'à l'ancienne halle du marché."
)


@pytest.mark.parametrize(("text", "code"), [(ENGLISH, "en"), (GERMAN, "de"), (FRENCH, "fr")])
def test_identifies_the_language_with_a_probability(text: str, code: str) -> None:
    lang, prob = identify_language(text)
    assert lang == code
    assert prob is not None and 0.5 < prob <= 1.0


@pytest.mark.parametrize("text", ["", "   ", "Home | News", "12 345 678 9"])
def test_too_short_text_is_not_guessed(text: str) -> None:
    assert identify_language(text) == (None, None)


def test_only_a_bounded_prefix_is_read() -> None:
    english = (ENGLISH + " ") * (PREFIX_CHARS // len(ENGLISH) + 1)
    lang, _ = identify_language(english + GERMAN * 200)
    assert lang == "en"


def test_model_is_loaded_once() -> None:
    assert _identifier() is _identifier()
