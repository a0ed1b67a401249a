"""Language identification of extracted text with py3langid (its model ships in the wheel)."""

from __future__ import annotations

import re
from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

# A thousand characters decide the language as well as the whole text, at a bounded
# cost per page; below a few words the guess is noise. On the AEB + WCXB dev pages the
# first 1000 and 2000 characters of the main text give the same language on 99.8% of
# pages (the rest: product pages whose text turns into ids later on) at 70% of the time.
PREFIX_CHARS = 1000
MIN_LETTERS = 20

_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


@cache
def _identifier() -> LanguageIdentifier:
    """Loaded on first use: unpacking the model takes a noticeable moment at import."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def warm_up() -> None:
    """Load the model now: lazily, the first page of every process paid for it inside its
    time budget (about 1 s, several on a busy host), and was dead-lettered."""
    _identifier()


def identify_language(text: str) -> tuple[str | None, float | None]:
    """ISO 639-1 code and probability, or ``(None, None)`` when the text is too short."""
    sample = text[:PREFIX_CHARS]
    if len(_LETTER.findall(sample)) < MIN_LETTERS:
        return None, None
    lang, prob = _identifier().classify(sample)
    return lang, round(float(prob), 4)


def page_language(text: str, hint: str | None) -> tuple[str | None, float | None]:
    """The text's language; the page's declared one (``<html lang>``, without a confidence)
    when the text is too short to tell."""
    lang, confidence = identify_language(text)
    if lang is None and hint:
        return hint.split("-")[0].lower(), None
    return lang, confidence
