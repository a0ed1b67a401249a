"""Do the lxml and Lexbor gatherers lead the shared rules to the same metadata and page type?

    python -m bench.facts_agreement --data DIR [--split dev] [--limit N] [--show FIELD]

DIR holds ``aeb/`` and ``wcxb/`` (as for ``bench.fast_bench``). Per page, the lxml path
(the trafilatura engine's parse and its ``facts.extract_metadata``, ``facts.classify_page``)
and the Lexbor path (``fast.facts`` gatherers, ``metadata_from_facts``, ``classify_shape``)
read the same
HTML; both page types and languages are decided on the same main text (the fast
engine's), so a difference comes from the gathering alone. Prints the share of pages
where each field is equal, and the CPU time of each path's parse, gathering, rules and
language identification.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from bench.fast_bench import LoadedPage, load_pages
from worker.extract.fast import extract_fast
from worker.extract.fast.facts import classed_elements, gather_facts, gather_shape
from worker.extract.language import page_language
from worker.extract.metadata import PageMetadata, metadata_from_facts
from worker.extract.pagetype import classify_shape
from worker.extract.trafilatura_engine.facts import classify_page, extract_metadata
from worker.extract.trafilatura_engine.page import parse_html

FIELDS = (
    "title",
    "description",
    "authors",
    "published_at",
    "modified_at",
    "site_name",
    "canonical_url",
    "image_url",
    "language_hint",
    "schema_types",
    "og_type",
    "language",
    "page_type",
)


def fields(meta: PageMetadata, page_type: str, text: str) -> dict:
    return {
        **asdict(meta),
        "language": page_language(text, meta.language_hint),
        "page_type": page_type,
    }


def lxml_path(page: LoadedPage, text: str) -> dict:
    tree = parse_html(page.html)
    if tree is None:
        return fields(PageMetadata(), classify_shape(None, page.url, text, None), text)
    meta = extract_metadata(tree, page.url or None)
    return fields(meta, classify_page(tree, page.url, text, meta), text)


def lexbor_path(page: LoadedPage, text: str) -> dict:
    tree = LexborHTMLParser(page.html)
    classed = classed_elements(tree)
    meta = metadata_from_facts(gather_facts(tree, classed), page.url or None)
    shape = gather_shape(tree, classed)
    return fields(meta, classify_shape(shape, page.url, text, meta), text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder holding aeb/ and wcxb/")
    parser.add_argument("--split", default="dev", help="WCXB split folder (default: dev)")
    parser.add_argument("--limit", type=int, default=0, help="first N pages per dataset")
    parser.add_argument("--show", action="append", default=[], help="print differences")
    args = parser.parse_args(argv)
    pages = load_pages(args.data, args.split, args.limit)
    equal: Counter[str] = Counter()
    seconds = {"lxml": 0.0, "lexbor": 0.0}
    for page in pages:
        text = extract_fast(page.html, page.url).text
        found = {}
        for name, path in (("lxml", lxml_path), ("lexbor", lexbor_path)):
            started = time.process_time()
            found[name] = path(page, text)
            seconds[name] += time.process_time() - started
        for key in FIELDS:
            a, b = found["lxml"][key], found["lexbor"][key]
            equal[key] += a == b
            if a != b and key in args.show:
                print(f"{page.uid} {key}\n  lxml   {a!r}\n  lexbor {b!r}")
    print(f"pages {len(pages)}")
    print(f"{'field':<15} equal")
    for key in FIELDS:
        print(
            f"{key:<15} {100 * equal[key] / len(pages):6.2f}%  ({len(pages) - equal[key]} differ)"
        )
    for name, total in seconds.items():
        print(f"{name} parse, facts, rules, language: {1000 * total / len(pages):.2f} ms/page CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
