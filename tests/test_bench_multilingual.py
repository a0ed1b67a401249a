"""The multilingual syndication generator: labels it promises, on articles made up here."""

from __future__ import annotations

import argparse
import random

from tests.kit.syndication import Generator
from worker.textunits import count_words

_HAN = "".join(chr(cp) for cp in range(0x4E00, 0x4E00 + 600))  # common Han


def _articles(lang: str, n: int = 40) -> list[dict]:
    rng = random.Random(5)
    words = ["".join(rng.choice("bcdfglmnprstv") + rng.choice("aeiou") for _ in range(3))]
    words += [
        "".join(rng.choice("bcdfglmnprstv") + rng.choice("aeiou") for _ in range(3))
        for _ in range(900)
    ]

    def sentence() -> str:
        if lang == "zh":
            return "".join(rng.choice(_HAN) for _ in range(rng.randint(20, 40))) + "。"
        return " ".join(rng.choice(words) for _ in range(rng.randint(12, 25))) + "."

    out = [
        {
            "id": f"a{i}",
            "title": "",
            "kind": "news",
            "paragraphs": [sentence() + sentence() for _ in range(6)],
        }
        for i in range(n)
    ]
    out += [
        {"id": f"w{i}", "title": "", "kind": "reference", "paragraphs": [sentence() + sentence()]}
        for i in range(10)
    ]
    return out


def _args(seed: int = 3, docs: int = 300) -> argparse.Namespace:
    return argparse.Namespace(
        seed=seed, docs=docs, p_singleton=0.7, size_alpha=1.8, max_cluster=30, p_original=0.85,
        p_verbatim=0.08, p_truncate=0.25, p_footer=0.12, p_followup=0.15, max_overlap=0.3,
    )  # fmt: skip


def test_stream_is_deterministic_and_labelled_like_the_shared_one() -> None:
    for lang in ("zh", "en"):
        docs = Generator(_articles(lang), lang, _args()).run()
        assert docs == Generator(_articles(lang), lang, _args()).run()
        assert len(docs) > 100
        assert [d["ts"] for d in docs] == sorted(d["ts"] for d in docs)
        assert set(docs[0]) == {"id", "cluster", "ts", "source", "title", "text", "meta"}
        seen: set[str] = set()
        for doc in docs:
            meta = doc["meta"]
            if "truncate" in meta["ops"]:
                assert meta["kind"] == "copy" and meta["kept"] >= 0.5
            if meta.get("hn") and doc["cluster"] not in seen:
                assert meta["kind"] == "original"  # the hard negative is the outlet's own text
            seen.add(doc["cluster"])
        kinds = {d["meta"].get("hn") for d in docs}
        assert {"footer", "followup"} <= kinds


def test_truncated_copies_end_in_a_read_more_line_of_their_language() -> None:
    docs = Generator(_articles("zh"), "zh", _args()).run()
    more = [d for d in docs if "read_more" in d["meta"]["ops"]]
    assert more
    assert all(count_words(d["text"]) > 0 for d in more)
    assert any("全文" in d["text"] or "未完" in d["text"] or "原文" in d["text"] for d in more)
