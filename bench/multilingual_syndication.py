"""A syndication stream in one language, for dedupe in scripts other than English.

    python -m bench.multilingual_syndication --text DIR/LANG.jsonl --lang LANG
        [--docs 600] [--seed 1] --out STREAM.jsonl

Built like the shared English generator (same stream format, same label semantics, read by
``bench.dedup_bench``) from the real articles ``bench.multilingual_text`` writes: a story
is first one of those articles, then a "mosaic" of paragraphs drawn from all of them
(of at least 120 words; no two stories share more than 30 % of the smaller one's words).
Copies of a story get the edits wire copies get, in the story's language: a dateline or
agency credit, leftover boilerplate lines, notices, a paragraph swap, light copy-editing
(a few words replaced by words of other stories: in scripts without spaces, a couple of
characters), typography
(NBSP, zero-width characters, entities, full-width or half-width punctuation and digits,
hard wraps), and truncation to 40-90 % of the paragraphs, extended until at least half of
the words are kept, usually closed by a "read the full story" line. Hard negatives (new
clusters): ``followup`` stories that quote 2-3 paragraphs of an earlier story (20-45 % of
the follow-up, at most 45 % of the earlier story) and ``footer`` stories of one outlet
that end in the same standard footer (real sentences, from the reference documents).
Not generated: the English generator's template briefs (``short``) and retitles (dedupe
reads only the text). Words are counted as the worker counts them (``count_words``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tests.kit.syndication import Generator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--text", type=Path, required=True, help="LANG.jsonl of multilingual_text")
    parser.add_argument("--lang", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--docs", type=int, default=600)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--p-singleton", type=float, default=0.7)
    parser.add_argument("--size-alpha", type=float, default=1.8)
    parser.add_argument("--max-cluster", type=int, default=30)
    parser.add_argument("--p-original", type=float, default=0.85)
    parser.add_argument("--p-verbatim", type=float, default=0.08)
    parser.add_argument("--p-truncate", type=float, default=0.25)
    parser.add_argument("--p-footer", type=float, default=0.06)
    parser.add_argument("--p-followup", type=float, default=0.08)
    parser.add_argument("--max-overlap", type=float, default=0.3)
    args = parser.parse_args(argv)
    with args.text.open(encoding="utf-8") as f:
        articles = [json.loads(line) for line in f if line.strip()]
    docs = Generator(articles, args.lang, args).run()
    with args.out.open("w", encoding="utf-8") as f:
        for doc in docs:
            f.write(json.dumps(doc, ensure_ascii=False) + "\n")
    clusters = {d["cluster"] for d in docs}
    truncated = sum("truncate" in d["meta"]["ops"] for d in docs)
    print(json.dumps({"docs": len(docs), "clusters": len(clusters), "truncated": truncated}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
