"""The template stage as the pipeline uses it, and its snapshot on disk."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from tests.test_templates import FOOTER, HEADER, made_up_article, prints, render
from worker.model import Extracted, Page
from worker.output import content_hash
from worker.templates.coldstart import ColdStart
from worker.templates.snapshot import load_snapshot, save_snapshot
from worker.templates.stage import (
    Cleaned,
    TemplateConfig,
    TemplateStage,
    page_input,
    revised_article,
    source_lines,
)
from worker.templates.state import Limits, SiteTemplates


def html_page(rng: random.Random, n: int, host: str = "www.gazette.example") -> tuple:
    title, body = made_up_article(rng)
    page = Page(url=f"https://{host}/news/{n}", body="", body_kind="html", input_format="json")
    return page, Extracted(text="\n".join(render(title, body)), title=title), f"id{n}", None


def text_page(rng: random.Random, n: int) -> tuple[tuple, list[str]]:
    """A text rendering of a page, what the line cleaner made of it, and its true article."""
    title, body = made_up_article(rng)
    raw = "\n\n".join(["  • " + x for x in HEADER] + [title, *body] + FOOTER)
    page = Page(url=f"https://t.example/{n}", body=raw, body_kind="text", input_format="json")
    # the line cleaner found the headline and body but lost the last paragraph
    extracted = Extracted(text="\n\n".join([title, *body[:-1]]), title=title)
    return (page, extracted, f"t{n}", source_lines(page)), [title, *body]


def clean(stage: TemplateStage, page: tuple, now: float) -> Cleaned:
    """One page through the stage as the pipeline feeds it: its candidate lines, then ``push``."""
    return stage.push(page_input(*page, by=stage.config.site_by), now=now)


def test_html_pages_lose_the_sites_chrome_from_the_third_page() -> None:
    rng = random.Random(1)
    stage = TemplateStage(TemplateConfig(cold=ColdStart(policy="publish")))
    texts = [clean(stage, html_page(rng, n), now=n).text for n in range(4)]
    assert all(HEADER[0] in t.split("\n") for t in texts[:2])
    assert not any(x in texts[3].split("\n") for x in HEADER + FOOTER)


def test_site_is_the_host_without_www_or_the_registered_domain() -> None:
    rng = random.Random(2)
    by_host = TemplateStage(TemplateConfig(cold=ColdStart(policy="publish")))
    by_domain = TemplateStage(TemplateConfig(site_by="domain", cold=ColdStart(policy="publish")))
    hosts = ["www.gazette.co.uk", "gazette.co.uk", "sport.gazette.co.uk"]
    for n, host in enumerate(hosts):
        page = html_page(rng, n, host)
        clean(by_host, page, now=n)
        clean(by_domain, page, now=n)
    assert len(by_host.templates) == 2
    assert len(by_domain.templates) == 1


def test_text_pages_use_their_own_lines_once_the_template_is_known() -> None:
    rng = random.Random(3)
    stage = TemplateStage(TemplateConfig(cold=ColdStart(policy="publish")))
    pages = [text_page(rng, n) for n in range(4)]
    cleaned = [clean(stage, page, now=n) for n, (page, _) in enumerate(pages)]
    assert cleaned[0].text == pages[0][0][1].text  # nothing known yet: the line cleaner's choice
    assert cleaned[3].text == "\n\n".join(pages[3][1])  # the lost paragraph is back
    assert cleaned[3].boilerplate_ratio is not None and 0 < cleaned[3].boilerplate_ratio < 1


def test_revisions_come_back_with_what_was_published() -> None:
    rng = random.Random(4)
    stage = TemplateStage()  # republish by default
    first = clean(stage, html_page(rng, 0), now=0)
    record = {"id": "id0", "text": first.text, "word_count": 0, "extraction": {"extractor": "x"}}
    first.keep(("articles", record))
    second = clean(stage, html_page(rng, 1), now=1)  # never kept: never revised
    third = clean(stage, html_page(rng, 2), now=2)
    assert [r.page_id for r in third.revisions] == ["id0"]
    revision = third.revisions[0]
    assert revision.published == ("articles", record)
    assert revision.revision == 1
    assert HEADER[0] not in revision.text.split("\n")
    _, old = revision.published
    new = revised_article(old, revision.text, revision.boilerplate_ratio)
    assert new["id"] == "id0" and new["text"] == revision.text
    assert new["content_hash"] == content_hash(revision.text)
    assert new["word_count"] == len(revision.text.split())
    assert new["extraction"] == {"extractor": "x", "boilerplate_ratio": revision.boilerplate_ratio}
    assert second.revisions == []


def test_state_survives_a_restart(tmp_path: Path) -> None:
    rng = random.Random(6)
    path = tmp_path / "state" / "templates.npz"
    config = TemplateConfig(cold=ColdStart(policy="publish"), snapshot_path=str(path))
    stage = TemplateStage(config)
    for n in range(3):
        clean(stage, html_page(rng, n), now=n)
    stage.save(now=3)
    assert stage.stats()["sites"] == 1 and stage.stats()["state_bytes"] > 0
    restarted = TemplateStage(config)
    text = clean(restarted, html_page(rng, 3), now=3).text
    assert not any(x in text.split("\n") for x in HEADER)
    assert [p.name for p in path.parent.iterdir()] == ["templates.npz"]  # no temporary left


def test_snapshot_round_trip_keeps_windows_counts_and_lru_order(tmp_path: Path) -> None:
    rng = random.Random(7)
    templates = SiteTemplates(Limits(window_pages=5))
    for n in range(8):
        site = f"s{n % 3}.example"
        templates.observe(site, f"p{n}", prints(render(*made_up_article(rng))), now=n)
    path = tmp_path / "t.npz"
    assert save_snapshot(templates, path) == path.stat().st_size
    loaded = SiteTemplates(Limits(window_pages=5))
    assert load_snapshot(loaded, path) == 3
    assert [s for s, _ in loaded] == [s for s, _ in templates]
    for (_, a), (_, b) in zip(loaded, templates, strict=True):
        assert (a.seen, a.last_seen) == (b.seen, b.last_seen)
        assert list(a.pages) == list(b.pages)
        assert all(np.array_equal(a.pages[k], b.pages[k]) for k in a.pages)
    smaller = SiteTemplates(Limits(window_pages=2, max_sites=2))
    assert load_snapshot(smaller, path) == 2
    assert [s for s, _ in smaller] == [s for s, _ in templates][-2:]
    assert all(len(state.pages) <= 2 for _, state in smaller)


def test_a_failed_write_leaves_the_previous_snapshot(tmp_path: Path, monkeypatch) -> None:
    templates = SiteTemplates()
    templates.observe("a.example", "p", prints(HEADER), now=0)
    path = tmp_path / "t.npz"
    save_snapshot(templates, path)
    before = path.read_bytes()

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    templates.observe("b.example", "q", prints(FOOTER), now=1)
    with pytest.raises(OSError, match="disk full"):
        save_snapshot(templates, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["t.npz"]


def test_a_missing_snapshot_is_a_cold_start_and_a_foreign_file_is_refused(tmp_path: Path) -> None:
    assert load_snapshot(SiteTemplates(), tmp_path / "none.npz") == 0
    np.savez(tmp_path / "other.npz", header=np.frombuffer(b'{"format": "x"}', dtype=np.uint8))
    with pytest.raises(ValueError, match="not a site-templates snapshot"):
        load_snapshot(SiteTemplates(), tmp_path / "other.npz")


def test_only_text_pages_of_reasonable_size_send_their_own_lines() -> None:
    small = Page(url="https://t.example/", body="a\nb", body_kind="text", input_format="json")
    huge = Page(
        url="https://t.example/", body="ab\n" * 400_000, body_kind="text", input_format="json"
    )
    html = Page(url="https://t.example/", body="<p>a</p>", body_kind="html", input_format="json")
    assert source_lines(small) == ["a", "b"]
    assert source_lines(huge) is None
    assert source_lines(html) is None
