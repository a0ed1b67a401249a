"""The extraction benchmark's metrics, checked on hand-counted examples."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.kit.datasets import load_aeb, load_all, load_wcxb
from tests.kit.scores import aeb_corpus, aeb_page, score, wcxb_corpus, wcxb_page


def test_aeb_page_counts_shingles_case_sensitively() -> None:
    # reference shingles: (a b c d), (b c d e); prediction: (a b c d), (b c d x)
    page = aeb_page("a b c d e", "a b c d x")
    assert page["precision"] == pytest.approx(0.5)
    assert page["recall"] == pytest.approx(0.5)
    assert aeb_page("The cat sat down", "the cat sat down")["precision"] == 0.0


def test_aeb_short_texts_are_one_shingle() -> None:
    assert aeb_page("two words", "two words") == {"precision": 1.0, "recall": 1.0}


def test_aeb_corpus_skips_empty_predictions_in_precision() -> None:
    pages = [aeb_page("a b c d e", "a b c d e"), aeb_page("a b c d e", "")]
    corpus = aeb_corpus(pages)
    assert corpus["precision"] == pytest.approx(1.0)
    assert corpus["recall"] == pytest.approx(0.5)
    assert corpus["f1"] == pytest.approx(2 * 1.0 * 0.5 / 1.5)


def test_wcxb_page_word_f1_and_snippets() -> None:
    truth = {
        "main_content": "The river rose. The river fell.",
        "with": ["river  ROSE"],
        "without": ["Subscribe now", "fell"],
    }
    page = wcxb_page("the river rose\nSubscribe now", truth)
    # prediction words: the river rose subscribe now (5); overlap: the river rose (3); ref 6
    assert page["precision"] == pytest.approx(3 / 5)
    assert page["recall"] == pytest.approx(3 / 6)
    assert (page["with_found"], page["with_total"]) == (1, 1)
    assert (page["without_leaked"], page["without_total"]) == (1, 2)


def test_wcxb_empty_reference_rewards_only_empty_output() -> None:
    assert wcxb_page("", {"main_content": ""})["f1"] == 1.0
    assert wcxb_page("anything", {"main_content": ""})["f1"] == 0.0


def test_wcxb_corpus_pass_rates_average_over_pages_with_snippets() -> None:
    pages = [
        wcxb_page("alpha beta", {"main_content": "alpha beta", "with": ["alpha", "gamma"]}),
        wcxb_page("alpha", {"main_content": "alpha", "without": ["alpha"]}),
        wcxb_page("alpha", {"main_content": "alpha"}),
    ]
    corpus = wcxb_corpus(pages)
    assert corpus["with_pass"] == pytest.approx(0.5)
    assert corpus["without_pass"] == pytest.approx(0.0)
    assert corpus["f1"] == pytest.approx(1.0)


def _gz(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.encode()))


def test_loaders_read_the_published_layouts(tmp_path: Path) -> None:
    aeb = tmp_path / "aeb"
    _gz(aeb / "html" / "p1.html.gz", "<p>one</p>")
    (aeb / "ground-truth.json").write_text(
        json.dumps({"p1": {"articleBody": "one", "url": "https://a.example/1"}})
    )
    wcxb = tmp_path / "wcxb"
    _gz(wcxb / "dev" / "html" / "0001.html.gz", "<p>two</p>")
    gt = {
        "url": "https://w.example/2",
        "_internal": {"page_type": {"primary": "category"}},
        "ground_truth": {"main_content": "two", "with": ["two"], "without": []},
    }
    (wcxb / "dev" / "ground-truth").mkdir(parents=True)
    (wcxb / "dev" / "ground-truth" / "0001.json").write_text(json.dumps(gt))

    [aeb_page_] = load_aeb(aeb)
    assert (aeb_page_.uid, aeb_page_.url, aeb_page_.truth["articleBody"]) == (
        "aeb/p1",
        "https://a.example/1",
        "one",
    )
    [wcxb_page_] = load_wcxb(wcxb, "dev")
    assert wcxb_page_.uid == "wcxb-dev/0001"
    assert wcxb_page_.page_type == "collection"
    assert wcxb_page_.truth["with"] == ["two"]


def test_page_type_accuracy_reads_wcxb_like_the_extraction_benchmark(tmp_path: Path) -> None:
    """Its own loader skipped ``category`` pages, which the extraction benchmark counts as
    collections; both now read the split with one loader, through the worker's engine."""
    from tests.kit.scores import confusion_matrix

    wcxb = tmp_path / "wcxb"
    links = "".join(f'<li><a href="/c/{n}">Story number {n}</a></li>' for n in range(30))
    _gz(wcxb / "dev" / "html" / "0001.html.gz", f"<html><body><ul>{links}</ul></body></html>")
    gt = {
        "url": "https://w.example/section/",
        "_internal": {"page_type": {"primary": "category"}},
        "ground_truth": {"main_content": "", "with": [], "without": []},
    }
    (wcxb / "dev" / "ground-truth").mkdir(parents=True)
    (wcxb / "dev" / "ground-truth" / "0001.json").write_text(json.dumps(gt))
    for engine in ("fast", "trafilatura"):
        confusion = confusion_matrix(wcxb, "dev", engine)
        assert sum(confusion.values()) == 1
        [(label, predicted)] = confusion
        assert label == "collection" and predicted, engine


def _jsonl_gz(path: Path, docs: list[dict]) -> None:
    _gz(path, "".join(json.dumps(d) + "\n" for d in docs))


def test_all_four_datasets_are_scored_with_word_f1(tmp_path: Path) -> None:
    aeb = tmp_path / "aeb"
    _gz(aeb / "html" / "p1.html.gz", "<p>one two</p>")
    (aeb / "ground-truth.json").write_text(json.dumps({"p1": {"articleBody": "one two"}}))
    for name in ("dragnet", "readability"):
        _jsonl_gz(
            tmp_path / name / "pages.jsonl.gz",
            [{"id": f"{name}/1", "url": "https://x.example/", "html": "<p>alpha beta</p>"}],
        )
        _jsonl_gz(tmp_path / name / "truth.jsonl.gz", [{"id": f"{name}/1", "text": "Alpha"}])
    pages = load_all(tmp_path)
    assert [p.dataset for p in pages] == ["aeb", "dragnet", "readability"]
    assert pages[1].html == "<p>alpha beta</p>"
    report = score(zip(pages, ["one two", "alpha beta", ""], strict=True))
    assert report["aeb"]["f1"] == pytest.approx(1.0)  # word F1, as the shared scorer
    assert report["aeb-shingles"]["f1"] == pytest.approx(1.0)
    assert report["dragnet"]["precision"] == pytest.approx(0.5)
    assert report["dragnet"]["recall"] == pytest.approx(1.0)
    assert report["readability"]["f1"] == 0.0


def test_block_model_counts_a_block_as_content_when_the_reference_holds_it() -> None:
    from bench.block_model import held_in_reference

    reference = "The council met on Tuesday.\nIt voted to close the old bridge for repairs."
    blocks = [
        "It voted to close the old bridge",  # 4 of its 4 shingles in the reference
        "It voted to open the new bridge",  # none of its 4
        "Council met on Tuesday. It said no",  # 2 of its 4: half (across the line break)
        "the council met in May and June last year",  # 0 of 6
        "Tuesday",  # a short block: its whole token sequence
        "Share",  # not in the reference
        "met Tuesday",  # two tokens, not in sequence
        "",
    ]
    assert held_in_reference(blocks, reference) == [
        True,
        False,
        True,
        False,
        True,
        False,
        False,
        False,
    ]
