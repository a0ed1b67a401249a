"""Real news text in several scripts, as the multilingual syndication generator reads it.

    python -m bench.multilingual_text --pud LANG=FILE.conllu [...] --ja-wikinews FILE.tsv[.gz]
        --out DIR

Writes ``DIR/LANG.jsonl``: one article a line, ``{"id", "title", "paragraphs", "kind"}``.

* Universal Dependencies PUD treebanks (CC BY-SA 3.0): the same 1,000 sentences in each
  language, 750 from news articles and 250 from Wikipedia, grouped by source document (the
  first six characters of ``sent_id``). A
  document is 1-5 sentences, so consecutive news documents are joined into articles of
  at least ``--min-words`` words (kind ``news``, one paragraph per document); the
  Wikipedia documents are kept apart (kind ``reference``) for outlets' standard footers.
* Japanese Wikinews articles (CC BY 2.5) from the jawikinews-headline-dataset's
  ``full-articles/origin.tsv.gz`` (tab-separated id, article, headline; MeCab-segmented):
  spaces are removed except between two Latin letters or digits, sentences that cite
  sources are dropped, three sentences make a paragraph, and articles that share more than
  20 % of their shingles with an earlier one are skipped (kind ``real``).

Where to get the files and their licences: ``bench/multilingual/README.md``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from pathlib import Path

import numpy as np

from worker.dedup.minhash import Sketcher, shingle_hashes
from worker.textunits import count_words

_JOIN = re.compile(r"(?<![0-9A-Za-z]) | (?![0-9A-Za-z])")


def pud_documents(path: Path) -> list[tuple[str, list[str]]]:
    """(document id, its sentences) in file order."""
    docs: list[tuple[str, list[str]]] = []
    doc_id = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# sent_id = "):
            doc_id = line.split("=", 1)[1].strip()[:6]  # n01001011: document n01001
        elif line.startswith("# text = "):
            sentence = line.split("=", 1)[1].strip()
            if docs and docs[-1][0] == doc_id:
                docs[-1][1].append(sentence)
            else:
                docs.append((doc_id, [sentence]))
    return docs


def paragraph(sentences: list[str], lang: str) -> str:
    return ("" if lang in ("zh", "ja") else " ").join(sentences)


def pud_articles(lang: str, path: Path, min_words: int) -> list[dict]:
    out: list[dict] = []
    pending: list[str] = []
    first = ""
    for doc_id, sentences in pud_documents(path):
        para = paragraph(sentences, lang)
        if doc_id.startswith("w"):
            out.append({"id": f"{lang}-{doc_id}", "title": "", "paragraphs": [para]})
            out[-1]["kind"] = "reference"
            continue
        first = first or doc_id
        pending.append(para)
        if sum(count_words(p) for p in pending) >= min_words:
            title = pending[0][:40]
            out.append({"id": f"{lang}-{first}", "title": title, "paragraphs": pending})
            out[-1]["kind"] = "news"
            pending, first = [], ""
    return out


def ja_wikinews(path: Path, limit: int, min_words: int) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    sketcher, seen, out = Sketcher(), [], []
    for row in rows:
        if len(row) < 3:
            continue
        sentences = []
        for raw in re.split(r"\s{2,}", row[1]):
            text = _JOIN.sub("", raw.strip())
            if len(text) >= 10 and "『" not in text and "』" not in text:
                sentences.append(text)
        paras = ["".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
        body = "\n\n".join(paras)
        if count_words(body) < min_words:
            continue
        shingles = shingle_hashes(sketcher.token_hashes(body))
        if any(np.isin(shingles, s).mean() > 0.2 for s in seen):
            continue
        seen.append(shingles)
        title = _JOIN.sub("", row[2].strip())
        out.append({"id": f"ja-{row[0]}", "title": title, "paragraphs": paras, "kind": "real"})
        if len(out) >= limit:
            break
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pud", action="append", default=[], help="LANG=FILE.conllu")
    parser.add_argument("--ja-wikinews", type=Path, help="full-articles/origin.tsv.gz")
    parser.add_argument("--ja-limit", type=int, default=200)
    parser.add_argument("--min-words", type=int, default=150)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    sets = {}
    for spec in args.pud:
        lang, path = spec.split("=", 1)
        sets[lang] = pud_articles(lang, Path(path), args.min_words)
    if args.ja_wikinews:
        sets["ja"] = ja_wikinews(args.ja_wikinews, args.ja_limit, args.min_words)
    for lang, articles in sets.items():
        with (args.out / f"{lang}.jsonl").open("w", encoding="utf-8") as f:
            for article in articles:
                f.write(json.dumps(article, ensure_ascii=False) + "\n")
        kinds = {k: sum(a["kind"] == k for a in articles) for k in ("news", "real", "reference")}
        print(lang, kinds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
