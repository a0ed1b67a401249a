"""Synthetic pages for tests: distinct articles inside a news site's boilerplate."""

from __future__ import annotations

import random

WORDS = [
    "council",
    "harbour",
    "river",
    "engineers",
    "budget",
    "museum",
    "volunteer",
    "beetle",
    "bakery",
    "shop",
    "market",
    "town",
    "winter",
    "storm",
    "barrier",
    "vote",
    "plan",
    "opposition",
    "fishermen",
    "channel",
    "licence",
    "spring",
    "foundation",
    "species",
    "drawer",
    "collection",
    "curator",
    "science",
    "journal",
    "university",
    "sample",
    "research",
    "ferry",
    "timetable",
    "festival",
    "school",
    "robotics",
    "prize",
    "roads",
    "closure",
    "weekend",
    "family",
    "business",
    "jobs",
    "sourdough",
    "wholesale",
    "contract",
    "region",
    "branches",
    "post",
    "office",
    "bank",
    "committee",
    "report",
    "data",
    "survey",
    "residents",
    "meeting",
    "evening",
    "morning",
    "minister",
    "policy",
    "rail",
    "station",
    "cyclists",
    "bridge",
]


def article_text(seed: int, paragraphs: int = 5, sentences: int = 4) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(paragraphs):
        sent = []
        for _ in range(sentences):
            words = [rng.choice(WORDS) for _ in range(rng.randint(12, 20))]
            sent.append(" ".join(words).capitalize() + ".")
        out.append(" ".join(sent))
    return out


def article_html(seed: int, title: str | None = None, url: str | None = None) -> str:
    title = title or f"Story number {seed} about the harbour"
    body = "\n".join(f"<p>{p}</p>" for p in article_text(seed))
    canonical = f'<link rel="canonical" href="{url}">' if url else ""
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{title} | Test Gazette</title>{canonical}
<meta property="og:site_name" content="Test Gazette"></head><body>
<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav></header>
<main><article><h1>{title}</h1>
{body}
</article>
<aside class="newsletter"><h3>Sign up to our newsletter</h3><form><input></form></aside></main>
<footer>Copyright 2026 Test Gazette. All rights reserved.</footer></body></html>"""
