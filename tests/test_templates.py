"""Site-template learning: the core (lines, per-site state, limits) on synthetic sites."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.templates.lines import (
    fingerprint,
    fingerprints,
    headline_mask,
    normalise,
    normalise_lines,
    split_text,
)
from worker.templates.sites import site_key
from worker.templates.state import Limits, SiteTemplates

HEADER = ["Home", "World", "Business", "Culture", "Sign up for our daily newsletter"]
FOOTER = [
    "Jobs in marketing",
    "Jobs in engineering",
    "Jobs in design",
    "Privacy policy",
    "© 2024 The Example Gazette. All rights reserved.",
]
SYLLABLES = ["ka", "lo", "mi", "ren", "tas", "vo", "pel", "dru", "sin", "om", "bax", "qui"]


def made_up_word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3)))


def made_up_article(rng: random.Random, paragraphs: int = 4) -> tuple[str, list[str]]:
    title = " ".join(made_up_word(rng) for _ in range(6)).title()
    body = [
        " ".join(
            " ".join(made_up_word(rng) for _ in range(14)).capitalize() + "." for _ in range(3)
        )
        for _ in range(paragraphs)
    ]
    return title, body


def render(title: str, body: list[str], related: list[str] | None = None) -> list[str]:
    """One page of the synthetic site: chrome, headline, body, a related box, chrome."""
    box = ["Related stories", *related] if related else []
    return [*HEADER, title, *body, *box, *FOOTER]


def chrome_left(kept: list[str]) -> set[str]:
    return set(kept) & set(HEADER + FOOTER)


def prints(lines: list[str]) -> np.ndarray:
    return fingerprints([normalise(x) for x in lines])


def clean(templates: SiteTemplates, site: str, lines: list[str]) -> list[str]:
    template = templates.template(site, prints(lines))
    return [x for x, t in zip(lines, template, strict=True) if not t]


# --- lines -----------------------------------------------------------------------------------


def test_normal_form_ignores_case_digits_and_spacing() -> None:
    assert normalise("  12 Comments ") == normalise("3 comments")
    assert fingerprint(normalise("© 2023 Example")) == fingerprint(normalise("©  2024 EXAMPLE"))
    assert normalise("Jobs in design") != normalise("Jobs in marketing")


LINE_CHARS = st.sampled_from("aZ 9\t_-,.\u00a0\u2028\x0bΣσςİß٣ﬁ\n")


@given(st.lists(st.text(LINE_CHARS, max_size=12), max_size=8))
def test_a_page_is_normalised_as_its_lines_one_by_one(lines: list[str]) -> None:
    assert normalise_lines(lines) == [normalise(x) for x in lines]


def test_split_text_keeps_the_paragraph_separator() -> None:
    assert split_text("a\n\nb\n\n\nc") == (["a", "b", "c"], "\n\n")
    assert split_text("a\nb\n  \nc") == (["a", "b", "c"], "\n")


def test_headline_matches_title_with_site_suffix_and_url_slug() -> None:
    lines = [
        "Mayor opens the new river bridge",
        "Mayor opens the new river bridge | Gazette",
        "Home",
    ]
    assert headline_mask(
        [normalise(x) for x in lines], "Mayor opens the new river bridge", None
    ) == [True, True, False]
    slugged = headline_mask(
        [normalise(x) for x in lines],
        None,
        "https://g.example/news/mayor-opens-the-new-river-bridge",
    )
    assert slugged == [True, True, False]
    assert headline_mask(["home"], "Home and garden ideas for the summer", None) == [False]


# --- the core --------------------------------------------------------------------------------


def test_chrome_is_learnt_from_three_pages_and_content_survives() -> None:
    rng = random.Random(1)
    templates = SiteTemplates()
    pages = [render(*made_up_article(rng)) for _ in range(4)]
    for n, lines in enumerate(pages[:2]):
        templates.observe("gazette.example", f"p{n}", prints(lines), now=n)
        assert clean(templates, "gazette.example", lines) == lines  # two pages: no evidence yet
    templates.observe("gazette.example", "p2", prints(pages[2]), now=2)
    kept = clean(templates, "gazette.example", pages[2])
    assert not chrome_left(kept)
    assert kept == pages[2][len(HEADER) : -len(FOOTER)]
    assert clean(templates, "other.example", pages[3]) == pages[3]  # state is per site


def test_repeats_inside_one_page_or_of_one_page_are_no_evidence() -> None:
    rng = random.Random(2)
    templates = SiteTemplates()
    _, body = made_up_article(rng)
    noisy = ["Advertisement", *body, "Advertisement", "Advertisement", "Advertisement"]
    templates.observe("s.example", "a", prints(noisy), now=0)
    templates.observe("s.example", "a", prints(noisy), now=1)  # the same page again (a re-crawl)
    templates.observe("s.example", "b", prints(render(*made_up_article(rng))), now=2)
    assert "Advertisement" in clean(templates, "s.example", noisy)
    assert templates.pages_seen("s.example") == 2


def test_headline_listed_elsewhere_is_template_elsewhere_only() -> None:
    rng = random.Random(3)
    title, body = made_up_article(rng)
    templates = SiteTemplates()
    others = [made_up_article(rng) for _ in range(3)]
    for n, (t, b) in enumerate(others):
        templates.observe("s.example", f"o{n}", prints(render(t, b, related=[title])), now=n)
    own = render(title, body)
    templates.observe("s.example", "own", prints(own), now=3)
    # Counted: the headline is on four pages, so the core alone calls it template ...
    assert templates.template("s.example", prints([title])).tolist() == [True]
    # ... which is why the stream protects a page's own headline (see the cold-start tests).
    assert headline_mask([normalise(x) for x in own], title, None)[len(HEADER)]


def test_window_forgets_an_old_design() -> None:
    rng = random.Random(4)
    templates = SiteTemplates(Limits(window_pages=4))
    for n in range(4):
        templates.observe("s.example", f"old{n}", prints(render(*made_up_article(rng))), now=n)
    redesigned = ["Start", "Topics", *made_up_article(rng)[1], "Contact"]
    assert templates.template("s.example", prints(HEADER)).tolist() == [True] * len(HEADER)
    for n in range(4):
        templates.observe("s.example", f"new{n}", prints(redesigned), now=10 + n)
    assert templates.template("s.example", prints(HEADER)).tolist() == [False] * len(HEADER)
    assert len(templates.sites["s.example"].pages) == 4


def test_sites_are_evicted_least_recently_seen_first_and_by_ttl() -> None:
    templates = SiteTemplates(Limits(max_sites=2, ttl_s=100))
    for n, site in enumerate(["a.example", "b.example", "a.example", "c.example"]):
        templates.observe(site, f"{site}{n}", prints(HEADER), now=n)
    assert [s for s, _ in templates] == ["a.example", "c.example"]
    assert templates.expire(now=102.5) == 1
    assert [s for s, _ in templates] == ["c.example"]


def test_memory_per_site_is_bounded_by_the_window() -> None:
    rng = random.Random(5)
    templates = SiteTemplates(Limits(window_pages=8))
    sizes = []
    for n in range(24):
        templates.observe("s.example", f"p{n}", prints(render(*made_up_article(rng))), now=n)
        sizes.append(templates.site_bytes("s.example"))
    assert sizes[7] > sizes[0]
    assert max(sizes[8:]) <= 1.2 * sizes[7]
    assert templates.total_bytes() >= sizes[-1]


def test_huge_pages_keep_a_bounded_sample_of_fingerprints() -> None:
    rng = random.Random(6)
    templates = SiteTemplates(Limits(max_lines_per_page=50))
    lines = [f"{made_up_word(rng)} {made_up_word(rng)} {made_up_word(rng)}" for _ in range(500)]
    templates.observe("s.example", "big", prints(lines), now=0)
    assert len(templates.sites["s.example"].pages) == 1
    assert all(len(p) <= 50 for p in templates.sites["s.example"].pages.values())


@pytest.mark.parametrize(
    ("url", "by", "site"),
    [
        ("https://www.News.Example.co.uk/a?b=1", "host", "news.example.co.uk"),
        ("https://news.example.co.uk/a", "domain", "example.co.uk"),
        ("https://shop.example.com/x", "domain", "example.com"),
        ("http://127.0.0.1:8080/x", "domain", "127.0.0.1"),
    ],
)
def test_site_key(url: str, by: str, site: str) -> None:
    assert site_key(url, by) == site  # type: ignore[arg-type]
