"""Language identification of extracted text with py3langid (its model ships in the wheel)."""

from __future__ import annotations

import re
from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

# A few thousand characters decide the language as well as the whole text, at a
# bounded cost per page; below a few words the guess is noise.
PREFIX_CHARS = 2000
MIN_LETTERS = 20

_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


@cache
def _identifier() -> LanguageIdentifier:
    """Loaded on first use: unpacking the model takes a noticeable moment at import."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def identify_language(text: str) -> tuple[str | None, float | None]:
    """ISO 639-1 code and probability, or ``(None, None)`` when the text is too short."""
    sample = text[:PREFIX_CHARS]
    if len(_LETTER.findall(sample)) < MIN_LETTERS:
        return None, None
    lang, prob = _identifier().classify(sample)
    return lang, round(float(prob), 4)
