"""Made-up stories for dedupe tests: articles, syndicated copies, truncations, and the hard
negatives (a shared footer, template briefs) a detector must not merge."""

from __future__ import annotations

import random

# --- texts ------------------------------------------------------------------------------------

_SYLLABLES = ["ka", "lo", "mer", "tin", "sa", "vor", "eth", "ul", "pri", "don", "ba", "zen", "qua"]
_SYLLABLES += ["ri", "mo", "tes", "han", "gul", "fi", "nor", "ap", "wex", "ly", "cor", "dem"]
_COMMON = ["the", "a", "of", "to", "and", "in", "said", "on", "for", "was", "with", "that"]


def _vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    return ["".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(size)]


_VOCAB = _vocabulary(random.Random(7))


def paragraph(rng: random.Random, n_words: int) -> str:
    """A paragraph of made-up sentences: a fifth common words, the rest from a vocabulary."""
    out: list[str] = []
    while len(out) < n_words:
        sentence = [
            rng.choice(_COMMON) if rng.random() < 0.2 else rng.choice(_VOCAB)
            for _ in range(rng.randint(8, 20))
        ]
        sentence[0] = sentence[0].capitalize()
        out.extend(sentence)
        out[-1] += "."
    return " ".join(out)


def article(seed: int, paragraphs: int = 8, words_each: int = 60) -> list[str]:
    rng = random.Random(seed)
    return [paragraph(rng, words_each) for _ in range(paragraphs)]


def text(paras: list[str]) -> str:
    return "\n\n".join(paras)


def syndicate(paras: list[str], seed: int) -> str:
    """A republication: dateline, credit line, notice, typography, two word edits."""
    rng = random.Random(seed)
    body = list(paras)
    body[0] = "WASHINGTON (AP) \u2014 " + body[0]
    body.insert(rng.randint(1, len(body) - 1), "Advertisement")
    body.append("Copyright 2026 The Associated Press. All rights reserved.")
    out = "\n".join(body).replace(" the ", " the\u00a0", 3).replace(" a ", " &amp; ", 1)
    for _ in range(2):
        ws = out.split(" ")
        i = rng.randrange(1, len(ws) - 1)
        ws[i] = "edited"
        out = " ".join(ws)
    return out


def truncate(paras: list[str], share: float) -> str:
    kept = paras[: max(1, round(len(paras) * share))]
    return text([*kept, "Read the full story at springfield-ledger.example."])


FOOTER = (
    "About the Riverton Courier: the Courier is an independent, reader-supported newsroom "
    "serving Riverton and the surrounding valley since 1921. Our reporting is made possible "
    "by members. Views of columnists are their own and do not reflect those of the Courier "
    "or its owners. If you spot an error, please contact our standards editor. Comments are "
    "moderated and must follow our community guidelines. Copyright 2026 Riverton Courier. "
    "All rights reserved. No part of this publication may be reproduced without permission."
)

BRIEF = (
    "{place} police are investigating a {incident} reported on {street} on {day} evening. "
    "Anyone with information is asked to call the department at {phone}. No further details "
    "were immediately available."
)


def brief(i: int) -> str:
    """Briefs from one template that differ in one or two slots (~70-85 % shared 5-grams)."""
    incidents = ["burglary", "robbery", "house fire", "break-in"]
    return BRIEF.format(
        place="Riverton",
        incident=incidents[i % 4],
        street="Main Street",
        day="Monday",
        phone=f"555-{1000 + i // 4:04d}",
    )
