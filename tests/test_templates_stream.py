"""Cold start: publish and re-publish over a stream of synthetic site pages."""

from __future__ import annotations

import random

from tests.test_templates import FOOTER, HEADER, made_up_article, render
from worker.templates.coldstart import ColdStart, Emission, PageIn, TemplateStream
from worker.templates.state import Limits, SiteTemplates


def site_pages(seed: int, n: int, site: str = "gazette.example") -> list[PageIn]:
    rng = random.Random(seed)
    out = []
    for k in range(n):
        title, body = made_up_article(rng)
        out.append(PageIn(site, f"{site}/{k}", render(title, body), "\n", title, None, k))
    return out


def stream(policy: str, **cold: object) -> TemplateStream:
    return TemplateStream(SiteTemplates(), ColdStart(policy=policy, **cold))  # type: ignore[arg-type]


def has_chrome(text: str) -> bool:
    return any(line in text.split("\n") for line in HEADER + FOOTER)


def run(ts: TemplateStream, pages: list[PageIn]) -> list[Emission]:
    out: list[Emission] = []
    for n, page in enumerate(pages):
        out.extend(ts.push(page, now=n))
    return out


def test_publish_emits_every_page_once_in_order() -> None:
    pages = site_pages(1, 5)
    out = run(stream("publish"), pages)
    assert [e.page_id for e in out] == [p.page_id for p in pages]
    assert [has_chrome(e.text) for e in out] == [True, True, False, False, False]
    assert all(e.revision == 0 for e in out)


def test_republish_revises_the_first_pages_once_the_template_is_known() -> None:
    pages = site_pages(2, 6)
    out = run(stream("republish"), pages)
    final = {e.page_id: e for e in out}
    assert len(final) == len(pages)
    assert not any(has_chrome(e.text) for e in final.values())
    revised = [e for e in out if e.revision > 0]
    assert {e.page_id for e in revised} == {pages[0].page_id, pages[1].page_id}
    assert all(e.context == int(e.page_id.rsplit("/", 1)[1]) for e in out)  # context comes back
    first = pages[0].lines
    assert final[pages[0].page_id].text == "\n".join(first[len(HEADER) : -len(FOOTER)])


def test_revisions_stop_once_the_site_is_settled() -> None:
    pages = site_pages(3, 12)
    ts = stream("republish", settle_pages=4)
    out = run(ts, pages)
    assert all(e.revision == 0 for e in out[len(pages) // 2 :])
    assert ts.revisable_bytes() == 0


def test_small_changes_are_not_republished() -> None:
    rng = random.Random(4)
    title, body = made_up_article(rng)
    lines = [*HEADER, title, *body]
    pages = [PageIn("s.example", "p0", lines, title=title)]
    for k in range(1, 4):
        t, b = made_up_article(rng)
        pages.append(PageIn("s.example", f"p{k}", [*HEADER, t, *b], title=t))
    out = run(stream("republish", min_change=0.9), pages)
    assert all(e.revision == 0 for e in out)


def test_revisable_pages_are_bounded_in_bytes() -> None:
    ts = stream("republish", max_pending_bytes=20_000)
    for k in range(30):  # thirty new sites, two pages each: none ever settles
        for page in site_pages(100 + k, 2, site=f"s{k}.example"):
            ts.push(page, now=k)
            assert ts.revisable_bytes() <= 20_000
    assert ts.revisable_bytes() > 0


def test_own_headline_survives_a_related_box_on_every_other_page() -> None:
    rng = random.Random(8)
    star_title, star_body = made_up_article(rng)
    ts = stream("publish")
    for k in range(4):
        t, b = made_up_article(rng)
        ts.push(PageIn("s.example", f"o{k}", render(t, b, [star_title]), title=t), now=k)
    [own] = ts.push(PageIn("s.example", "star", render(star_title, star_body), title=star_title), 5)
    assert own.text.split("\n")[0] == star_title
    t, b = made_up_article(rng)
    [other] = ts.push(PageIn("s.example", "o9", render(t, b, [star_title]), title=t), now=6)
    assert star_title not in other.text.split("\n")


def test_lookahead_cleans_a_batch_before_its_template_was_published() -> None:
    pages = site_pages(9, 3)
    ts = stream("publish")
    for page in pages:
        ts.observe(page, now=0)
    out = run(ts, pages)
    assert not any(has_chrome(e.text) for e in out)
    assert ts.templates.pages_seen(pages[0].site) == 3  # observed twice, counted once


def test_text_pages_keep_the_line_cleaners_choice_until_the_template_is_known() -> None:
    rng = random.Random(10)
    pages = []
    for k in range(4):
        title, body = made_up_article(rng)
        lines = render(title, body)
        # the line cleaner kept the body but missed its last paragraph and the headline
        fallback = [line in body[:-1] for line in lines]
        pages.append(PageIn("t.example", f"t{k}", lines, "\n\n", None, None, k, fallback))
    out = run(stream("publish"), pages)
    assert out[0].text == "\n\n".join(pages[0].lines[len(HEADER) + 1 : -len(FOOTER) - 1])
    assert out[3].text == "\n\n".join(pages[3].lines[len(HEADER) : -len(FOOTER)])


def test_a_host_of_unrelated_pages_keeps_the_line_cleaners_cuts() -> None:
    """A mirror serving many sites' pages: a few generic lines repeat (the template is
    "known"), but each page's own menus do not; restoring every line the cleaner cut put
    them back (1,332 words against 448 on such a page)."""
    rng = random.Random(13)
    generic = ["Skip to content", "Menu", "Search this site"]
    pages = []
    for k in range(5):
        _, body = made_up_article(rng)
        own_menu = [made_up_article(rng)[0] for _ in range(6)]  # another site's chrome each time
        lines = [*generic, *own_menu, *body]
        fallback = [line in body for line in lines]
        pages.append(PageIn("mirror.example", f"m{k}", lines, "\n\n", None, None, k, fallback))
    out = run(stream("publish"), pages)
    assert [e.text for e in out] == ["\n\n".join(p.lines[len(generic) + 6 :]) for p in pages]


def test_a_page_is_never_emptied_by_its_template() -> None:
    rng = random.Random(11)
    _, body = made_up_article(rng)
    ts = TemplateStream(SiteTemplates(Limits(min_pages=3)), ColdStart(policy="publish"))
    out = [ts.push(PageIn("m.example", f"copy{k}", [*HEADER, *body]), now=k) for k in range(3)]
    assert "\n".join(body) in out[-1][0].text


def test_a_replayed_page_replaces_its_earlier_copy() -> None:
    pages = site_pages(12, 3)
    ts = stream("republish")
    run(ts, pages[:2])
    again = ts.push(pages[1], now=2)  # a record processed again after a crash
    assert [e.page_id for e in again] == [pages[1].page_id]
    out = ts.push(pages[2], now=3)
    assert sorted(e.page_id for e in out) == sorted(p.page_id for p in pages[:3])
