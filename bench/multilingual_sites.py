"""Multi-page sites in other scripts, for the site templates: the shared sites generator's
method on the labelled pages of ``multilingual_extract``.

    python -m bench.multilingual_sites --generator ../shared/bench/sites/make_sites.py \\
        --newspaper4k DIR [--goose3 DIR] [--data ../shared/data] [--pages 6] --out sites.jsonl
    python -m bench.sites_bench --stream sites.jsonl

The shared generator (``make_sites.py``) reads WCXB's English article pages and keeps those of
at least 120 space-separated words, which no Chinese or Japanese article has. This uses the
generator's own functions (loaded from ``--generator``): each labelled page of a non-Latin
language (``multilingual_extract``'s set) is a site; the element holding its article is
found, and the article is replaced by the text of other real articles of the same language
from the set (up to ``--pages`` per site), so the site's real boilerplate surrounds
different content each time. Output lines are the generator's:
``{"id","site","url","html","text_dump","gt_title","gt_text"}``, sites interleaved.
"""

from __future__ import annotations

import argparse
import html as htmllib
import importlib.util
import json
import random
import re
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

import lxml.html

from bench.multilingual_extract import LabelledPage, load_labelled
from worker.textunits import count_words

MIN_WORDS = 120  # the generator's length floor, counted in text units


def load_generator(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_sites", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load the sites generator from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def paragraphs(text: str) -> str:
    """The generator pours paragraphs separated by blank lines."""
    return "\n\n".join(line.strip() for line in text.splitlines() if line.strip())


def title_of(page: LabelledPage) -> str:
    found = re.search(r"<title[^>]*>(.*?)</title>", page.html, re.IGNORECASE | re.DOTALL)
    return " ".join(htmllib.unescape(found.group(1)).split()) if found else page.uid


def build(gen: ModuleType, pages: list[LabelledPage], per_site: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    pages = [
        p for p in pages if p.lang not in ("latin", "en") and count_words(p.truth) >= MIN_WORDS
    ]
    by_lang: dict[str, list[LabelledPage]] = defaultdict(list)
    for page in pages:
        by_lang[page.lang].append(page)
    stream: list[dict] = []
    for page in pages:
        root = lxml.html.fromstring(page.html)
        truth = paragraphs(page.truth)
        container, _ = gen.find_container(root, gen.words(truth))
        if container is None or container.tag == "body":
            continue
        if len(gen.content_slots(container, truth)) < 3:
            continue
        path = root.getroottree().getpath(container)
        others = [o for o in by_lang[page.lang] if o is not page]
        parts = urlsplit(page.url or f"https://{page.uid.replace('/', '-')}.invalid/")
        site = parts.netloc or page.uid
        for n, other in enumerate(rng.sample(others, k=min(per_site, len(others)))):
            root = lxml.html.fromstring(page.html)
            container = root.getroottree().xpath(path)[0]
            title = title_of(other)
            body = paragraphs(other.truth)
            if not gen.pour(container, truth, title, body):
                continue
            for t in root.xpath("//title"):
                t.text = title
            stream.append(
                {
                    "id": f"{page.uid}-{n}",
                    "site": site,
                    "lang": page.lang,
                    "url": f"{parts.scheme or 'https'}://{site}/story/{1000 + n}.html",
                    "html": lxml.html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>"),
                    "text_dump": htmllib.unescape(gen.text_dump(root)),
                    "gt_title": title,
                    "gt_text": body,
                }
            )
    rng.shuffle(stream)
    return stream


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generator", type=Path, required=True, help="make_sites.py")
    parser.add_argument("--newspaper4k", type=Path, help="newspaper4k's tests/data folder")
    parser.add_argument("--goose3", type=Path, help="goose3's tests/data/content folder")
    parser.add_argument("--data", type=Path, help="the shared extraction datasets' folder")
    parser.add_argument("--pages", type=int, default=6, help="pages per site (at most)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    pages = load_labelled(args.newspaper4k, args.goose3, args.data)
    stream = build(load_generator(args.generator), pages, args.pages, args.seed)
    with args.out.open("w", encoding="utf-8") as out:
        for record in stream:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    sites = defaultdict(set)
    for record in stream:
        sites[record["lang"]].add(record["site"])
    summary = ", ".join(
        f"{lang} {len(s)} sites {sum(r['lang'] == lang for r in stream)} pages"
        for lang, s in sorted(sites.items())
    )
    print(f"{len(stream)} pages -> {args.out} ({summary})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
