"""Site templates wired into the pipeline, ``ingest-worker extract`` and the worker."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from tests.kit.kafka import Topics, produce, read_all, start_worker
from tests.kit.pages import WORDS
from tests.test_cli import cli, lines
from worker import config
from worker.config import ConfigError, Settings
from worker.model import Origin
from worker.pipeline import Outcome, build_stages, process

# A site's chrome that a page-by-page extractor keeps: prose inside the article body.
CHROME = [
    "The Valley Gazette has covered the harbour, the council and the river towns since 1887, "
    "from its office on Station Road.",
    "Our reporters attend every council meeting, every court hearing and most of the weekend "
    "markets in the region.",
    "Letters to the editor are printed on Thursdays, and the editor answers readers' questions "
    "in the Saturday edition.",
]
MENU = ["Home", "News", "Sport", "Business", "Weather", "Contact us"]


def article(seed: int) -> tuple[str, list[str]]:
    rng = random.Random(seed)
    title = " ".join(rng.choice(WORDS) for _ in range(6)).capitalize() + f" {seed}"
    body = [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(25, 40))).capitalize() + "."
        for _ in range(4)
    ]
    return title, body


def html_record(seed: int, host: str = "gazette.example", head: str = "") -> bytes:
    title, body = article(seed)
    paragraphs = "".join(f"<p>{x}</p>" for x in [*body, *CHROME])
    html = (
        f"<html><head><title>{title}</title>{head}</head><body>"
        f"<nav><ul>{''.join(f'<li><a href=/{m}>{m}</a></li>' for m in MENU)}</ul></nav>"
        f"<article><h1>{title}</h1>{paragraphs}</article></body></html>"
    )
    url = f"https://{host}/news/{seed}"
    return orjson.dumps({"url": url, "html": html, "status": 200, "record_id": f"r{seed}"})


def text_record(seed: int) -> bytes:
    title, body = article(seed)
    text = "\n\n".join([*MENU, title, *body, *CHROME, "© 2024 Gazette Media Ltd"])
    url = f"https://dump.example/story/{seed}"
    return orjson.dumps({"url": url, "text": text, "status": 200, "record_id": f"t{seed}"})


def run(records: list[bytes], **overrides: object) -> list[Outcome]:
    stages = build_stages(replace(Settings(), **overrides))
    return [process(r, [], None, Origin("pages.raw", 0, i), stages) for i, r in enumerate(records)]


def text_of(outcome: Outcome) -> str:
    assert outcome.value is not None
    return orjson.loads(outcome.value)["text"]


def has_chrome(text: str) -> bool:
    return any(x in text for x in CHROME)


@pytest.mark.parametrize("make", [html_record, text_record], ids=["html", "text"])
def test_chrome_goes_once_the_site_has_min_pages(make) -> None:
    outcomes = run([make(n) for n in range(5)], site_cold_start="publish")
    assert [o.kind for o in outcomes] == ["published"] * 5
    texts = [text_of(o) for o in outcomes]
    assert all(has_chrome(t) for t in texts[:2])  # two pages: nothing repeats on three yet
    assert not any(has_chrome(t) for t in texts[2:])
    plain = [text_of(o) for o in run([make(n) for n in range(5)], site_templates=False)]
    for n, (t, untouched) in enumerate(zip(texts, plain, strict=True)):
        title, body = article(n)  # the articles stay whole, headline included if extracted
        assert all(x in t for x in body)
        assert (title in t) == (title in untouched)
    assert all(o.revisions == [] for o in outcomes)
    ratios = [o.boilerplate_ratio for o in outcomes]
    assert all(r is not None for r in ratios) and ratios[3] > ratios[0]


@pytest.mark.parametrize("make", [html_record, text_record], ids=["html", "text"])
def test_without_site_templates_the_chrome_stays(make) -> None:
    texts = [text_of(o) for o in run([make(n) for n in range(5)], site_templates=False)]
    assert all(has_chrome(t) for t in texts)


def test_pages_sharing_a_canonical_link_are_still_distinct_pages() -> None:
    same = '<link rel="canonical" href="https://gazette.example/">'  # a common template bug
    outcomes = run([html_record(n, head=same) for n in range(4)], site_cold_start="publish")
    assert [has_chrome(text_of(o)) for o in outcomes] == [True, True, False, False]


def test_one_story_on_several_urls_of_a_site_is_not_learnt_as_its_template() -> None:
    """The same article under three URLs (tracking parameters, section paths) is a copy for
    the dedupe stage, not evidence that the article is chrome: no page loses its body."""
    site = [html_record(n) for n in range(3)]
    story = orjson.loads(html_record(42))
    copies = [
        orjson.dumps({**story, "url": f"{story['url']}?from=feed-{n}", "record_id": f"c{n}"})
        for n in range(3)
    ]
    outcomes = run([*site, *copies])
    _, body = article(42)
    last = outcomes[-1]
    assert last.kind == "duplicate"
    for outcome in outcomes[3:]:
        assert all(x in text_of(outcome) for x in body)
        for revision in outcome.revisions:
            assert all(x in orjson.loads(revision.value)["text"] for x in body)


def test_a_restarted_pipeline_knows_the_site_from_its_snapshot(tmp_path: Path) -> None:
    settings = replace(Settings(), site_cold_start="publish", site_snapshot=str(tmp_path / "t"))
    stages = build_stages(settings)
    for n in range(3):
        process(html_record(n), [], None, Origin(offset=n), stages)
    assert stages.templates is not None
    stages.templates.save()
    restarted = build_stages(settings)
    assert not has_chrome(text_of(process(html_record(9), [], None, Origin(), restarted)))
    cold = build_stages(replace(settings, site_snapshot=""))
    assert has_chrome(text_of(process(html_record(9), [], None, Origin(), cold)))


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"INGEST_SITE_COLD_START": "hold"}, "INGEST_SITE_COLD_START"),
        ({"INGEST_SITE_KEY": "path"}, "INGEST_SITE_KEY"),
        ({"INGEST_SITE_MIN_PAGES": "5", "INGEST_SITE_WINDOW_PAGES": "4"}, "INGEST_SITE_WINDOW"),
    ],
)
def test_site_template_settings_are_validated(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=f"^{named}"):
        config.load(env=env)


def test_other_sites_chrome_is_not_evidence() -> None:
    hosts = ["a.example", "b.example", "c.example", "d.example"]
    outcomes = run([html_record(n, host) for n, host in enumerate(hosts)])
    assert all(has_chrome(text_of(o)) for o in outcomes)


def test_republish_sends_improved_versions_under_the_same_key() -> None:
    outcomes = run([html_record(n) for n in range(5)])  # republish is the default
    assert outcomes[0].revisions == [] and outcomes[1].revisions == []
    revised = outcomes[2].revisions
    assert [r.key for r in revised] == [outcomes[0].key, outcomes[1].key]
    assert [r.record_id for r in revised] == ["r0", "r1"]
    for r in revised:
        assert r.kind == "revised" and r.topic == "articles"
        record = orjson.loads(r.value)
        assert not has_chrome(record["text"])
        assert record["word_count"] == len(record["text"].split())
    assert not any(o.revisions for o in outcomes[3:])  # nothing left to improve


def test_offline_extract_learns_across_records_in_order() -> None:
    stdin = b"".join(html_record(n) + b"\n" for n in range(5))
    stdin += b"".join(text_record(n) + b"\n" for n in range(4))
    on = cli("extract", stdin=stdin)
    assert on.returncode == 0, on.stderr.decode()
    out = lines(on.stdout)
    assert [o["id"] for o in out] == [f"r{n}" for n in range(5)] + [f"t{n}" for n in range(4)]
    assert not any(has_chrome(o["text"]) for o in out)  # early pages revised in place
    published = cli("extract", "--site-cold-start", "publish", stdin=stdin)
    first = [has_chrome(o["text"]) for o in lines(published.stdout)]
    assert first == [True, True, False, False, False, True, True, False, False]
    off = cli("extract", "--no-site-templates", stdin=stdin)
    assert all(has_chrome(o["text"]) for o in lines(off.stdout))


@pytest.mark.integration
def test_worker_removes_a_sites_chrome_and_republishes_early_pages(
    kafka_bootstrap: str, unique: str, tmp_path: Path
) -> None:
    topics = Topics(f"st{unique}")
    snapshot = tmp_path / "templates.npz"
    env = {**topics.env(kafka_bootstrap), "INGEST_SITE_SNAPSHOT": str(snapshot)}
    records = [(b"gazette.example", html_record(n), []) for n in range(5)]
    worker = start_worker(env, tmp_path / "w.log")
    try:
        produce(kafka_bootstrap, topics.input, records)
        out = read_all(kafka_bootstrap, topics.output, 7, timeout=90, settle=2)
    finally:
        assert worker.stop() == 0
    values = [orjson.loads(r.value) for r in out]
    assert len(values) == 7  # five pages, then the first two again, improved
    last: dict[bytes, dict] = {}
    for r, v in zip(out, values, strict=True):
        assert r.key == v["id"].encode()
        last[r.key] = v
    assert sorted(v["provenance"]["record_id"] for v in last.values()) == [
        f"r{n}" for n in range(5)
    ]
    assert not any(has_chrome(v["text"]) for v in last.values())
    assert snapshot.exists() and '"site_templates_saved"' in worker.log()


def test_stages_take_plain_values_not_the_settings() -> None:
    """Only the pipeline builds the stages from the settings (``template_config``,
    ``build_deduper``): the stages' own packages never import the configuration."""
    import ast

    root = Path(__file__).parent.parent / "worker"
    importers = []
    for path in [*root.glob("templates/*.py"), *root.glob("dedup/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            if any(name == "worker.config" for name in names):
                importers.append(path.name)
    assert importers == []
