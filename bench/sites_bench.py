"""Site-template learning on multi-page-per-site streams: streaming word F1 in arrival order.

    python -m bench.sites_bench --wcxb DIR [--pages 6 30] [--seed 7] [--half a|b|all]
    python -m bench.sites_bench --stream sites.jsonl [--stream more.jsonl]
    python -m bench.sites_bench --wcxb DIR --restart-every 1000   # cold restarts: their cost

Streams come from the sites generator (``make_sites.py``, run as a subprocess with
``--generator``; ``--work DIR`` keeps the generated files for the next run) or are given with
``--stream``: JSON lines ``{"id","site","url","html","text_dump","gt_title","gt_text"}`` in
arrival order. Every page is extracted once per form (``html`` with the worker's extractor,
``text_dump`` with the plain-text line cleaner; ``--cache DIR`` keeps those results), then
the template stage is replayed over the extracted pages under each variant:

* ``none``: the extractor alone;
* ``publish``, ``republish``, ``lookahead``: online, in arrival order, as the worker
  runs it (``lookahead`` learns from each batch of ``--batch`` records before cleaning it);
* ``oracle``: every page of a site known in advance (reference, not reachable online).

Score: lower-cased ``\\w+`` multiset F1 against ``gt_text``, mean over pages, of each page's
final version (and of its first version: what a consumer sees before revisions); "pages
worse": the share of pages whose final F1 is more than 0.05 below the extractor alone's.
``--half`` keeps half of the sites (by a hash of the site name) so one half can be held out.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean

import orjson

from worker.config import Settings
from worker.extract import ENGINES, Extractor, make_extractor
from worker.model import Extracted, Page
from worker.templates.coldstart import ColdStart, Emission, PageIn, TemplateStream
from worker.templates.snapshot import save_snapshot
from worker.templates.stage import page_input, source_lines
from worker.templates.state import Limits, SiteTemplates

WORD_RE = re.compile(r"\w+")
WORSE_BY = 0.05  # a page whose F1 drops this much below the extractor alone's is made worse
FORMS = ("html", "text_dump")
VARIANTS = ("none", "publish", "republish", "lookahead", "oracle")
DEFAULT_GENERATOR = "../shared/bench/sites/make_sites.py"


@dataclass(slots=True)
class Extraction:
    """One page's extractor output in one form: what the template stage starts from."""

    text: str
    title: str | None
    lines: list[str] | None  # a text page's own lines


@dataclass(slots=True)
class BenchPage:
    uid: str
    site: str
    url: str
    truth: Counter[str]
    forms: dict[str, Extraction] = field(default_factory=dict)


@dataclass(slots=True)
class Scored:
    final: float
    first: float
    revisions: int = 0
    bytes_per_site: float = 0.0
    bytes_per_page: float = 0.0  # state bytes per page held in the windows
    snapshot_bytes_per_site: float = 0.0
    peak_revisable_bytes: int = 0
    micros_per_page: float = 0.0
    worse: float = 0.0  # share of pages whose final F1 is WORSE_BY below the extractor alone's


# --- streams -------------------------------------------------------------------------------


def generate(args: argparse.Namespace, pages: int, work: Path) -> Path:
    out = work / f"sites-{args.split}-p{pages}-s{args.seed}.jsonl"
    if out.exists():
        return out
    cmd = [
        sys.executable,
        args.generator,
        "--wcxb",
        str(args.wcxb),
        "--split",
        args.split,
        "--pages-per-site",
        str(pages),
        "--seed",
        str(args.seed),
        "--out",
        str(out),
    ]
    subprocess.run(cmd, check=True)
    return out


def in_half(site: str, half: str) -> bool:
    if half == "all":
        return True
    bit = hashlib.blake2b(site.encode(), digest_size=1).digest()[0] & 1
    return bit == (0 if half == "a" else 1)


def read_stream(path: Path, half: str, max_sites: int) -> Iterator[dict]:
    sites: set[str] = set()
    with path.open("rb") as fh:
        for line in fh:
            record = orjson.loads(line)
            site = record["site"]
            if not in_half(site, half):
                continue
            if site not in sites:
                if max_sites and len(sites) >= max_sites:
                    continue
                sites.add(site)
            yield record


# --- extraction (once per page and form) ---------------------------------------------------


def extract_all(
    records: Iterable[dict], forms: Sequence[str], cache: Path | None, engine: str
) -> list[BenchPage]:
    cached = load_cache(cache) if cache else {}
    extract = make_extractor(engine)
    pages, fresh = [], {}
    for record in records:
        page = BenchPage(record["id"], record["site"], record["url"], words(record["gt_text"]))
        for form in forms:
            key = f"{form}:{record['id']}"
            if key not in cached:
                cached[key] = fresh[key] = extract_form(extract, record, form)
            page.forms[form] = cached[key]
        pages.append(page)
    if cache and fresh:
        append_cache(cache, fresh)
    return pages


def extract_form(extract: Extractor, record: dict, form: str) -> Extraction:
    """One form of a page through the worker's extractor (``make_extractor``), which reads
    a text dump with the plain-text cleaner as the worker does."""
    if form == "html":
        page = Page(url=record["url"], body=record["html"], body_kind="html", input_format="json")
        got = extract(page)
        return Extraction(got.text, got.title, None)
    page = Page(url=record["url"], body=record["text_dump"], body_kind="text", input_format="json")
    got = extract(page)
    return Extraction(got.text, got.title, source_lines(page))


def load_cache(cache: Path) -> dict[str, Extraction]:
    out: dict[str, Extraction] = {}
    if cache.exists():
        with cache.open("rb") as fh:
            for line in fh:
                row = orjson.loads(line)
                out[row["key"]] = Extraction(row["text"], row["title"], row["lines"])
    return out


def append_cache(cache: Path, fresh: dict[str, Extraction]) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    with cache.open("ab") as fh:
        for key, ex in fresh.items():
            row = {"key": key, "text": ex.text, "title": ex.title, "lines": ex.lines}
            fh.write(orjson.dumps(row) + b"\n")


# --- scoring -------------------------------------------------------------------------------


def words(text: str) -> Counter[str]:
    return Counter(w.lower() for w in WORD_RE.findall(text))


def f1(text: str, truth: Counter[str]) -> float:
    pred = words(text)
    overlap = sum((pred & truth).values())
    if not overlap:
        return 0.0
    p, r = overlap / sum(pred.values()), overlap / sum(truth.values())
    return 2 * p * r / (p + r)


# --- variants ------------------------------------------------------------------------------


def stream_for(variant: str, args: argparse.Namespace, window: int) -> TemplateStream:
    cold = ColdStart(
        policy="republish" if variant == "republish" else "publish",
        settle_pages=args.settle_pages,
        min_change=args.min_change,
    )
    limits = Limits(min_pages=args.min_pages, window_pages=window)
    return TemplateStream(SiteTemplates(limits), cold)


def run_variant(
    pages: Sequence[BenchPage], form: str, variant: str, args: argparse.Namespace
) -> Scored:
    if variant == "none":
        scores = [f1(p.forms[form].text, p.truth) for p in pages]
        return Scored(mean(scores), mean(scores))
    window = len(pages) if variant == "oracle" else args.window
    stream = stream_for(variant, args, window)
    inputs = [bench_input(p, form) for p in pages]
    if variant == "oracle":
        for page_in in inputs:
            stream.observe(page_in, 0.0)
    first: dict[str, str] = {}
    final: dict[str, str] = {}
    revisions = peak = 0
    started = time.perf_counter()
    restart_every = 0 if variant == "oracle" else args.restart_every
    for position, page_in in enumerate(inputs):
        if restart_every and position and position % restart_every == 0:
            stream = stream_for(variant, args, window)  # restarted without template state
        if variant == "lookahead" and position % args.batch == 0:
            for ahead in inputs[position : position + args.batch]:
                stream.observe(ahead, float(position))
        emitted = stream.push(page_in, float(position))
        record(emitted, first, final)
        revisions += sum(1 for e in emitted if e.revision > 0)
        peak = max(peak, stream.revisable_bytes())
    elapsed = time.perf_counter() - started
    sites = len(stream.templates)
    state_bytes = stream.templates.total_bytes()
    held = sum(len(state.pages) for _, state in stream.templates)
    finals = [f1(final[p.uid], p.truth) for p in pages]
    alone = [f1(p.forms[form].text, p.truth) for p in pages]
    return Scored(
        final=mean(finals),
        first=mean(f1(first[p.uid], p.truth) for p in pages),
        revisions=revisions,
        bytes_per_site=state_bytes / max(sites, 1),
        bytes_per_page=state_bytes / max(held, 1),
        snapshot_bytes_per_site=snapshot_size(stream.templates) / max(sites, 1),
        peak_revisable_bytes=peak,
        micros_per_page=1e6 * elapsed / max(len(inputs), 1),
        worse=mean(x < y - WORSE_BY for x, y in zip(finals, alone, strict=True)),
    )


def bench_input(page: BenchPage, form: str) -> PageIn:
    """The same candidate lines the worker builds (``page_input``) from a cached extraction."""
    ex = page.forms[form]
    body_kind = "html" if ex.lines is None else "text"
    as_page = Page(url=page.url, body="", body_kind=body_kind, input_format="json")
    return page_input(as_page, Extracted(text=ex.text, title=ex.title), page.uid, ex.lines)


def record(
    emitted: Sequence[Emission],
    first: dict[str, str],
    final: dict[str, str],
) -> None:
    for e in emitted:
        first.setdefault(e.page_id, e.text)
        final[e.page_id] = e.text


def snapshot_size(templates: SiteTemplates) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        return save_snapshot(templates, Path(tmp) / "templates.npz")


# --- report --------------------------------------------------------------------------------


def report_rows(label: str, form: str, results: dict[str, Scored], n: int) -> list[str]:
    base = results["none"].final
    rows = []
    for variant, s in results.items():
        rows.append(
            f"| {label} | {form} | {variant} | {s.final:.4f} | {s.final - base:+.4f} | "
            f"{s.first:.4f} | {1000 * s.revisions / n:.0f} | "
            f"{s.bytes_per_site / 1024:.1f} | {s.bytes_per_page:.0f} | "
            f"{s.snapshot_bytes_per_site / 1024:.1f} | "
            f"{s.peak_revisable_bytes / 2**20:.1f} | {s.micros_per_page:.0f} | {s.worse:.1%} |"
        )
    return rows


HEADER = (
    "| stream | form | variant | F1 final | vs none | F1 first | revisions/1k | KiB/site | "
    "B/page kept | snapshot KiB/site | revisable MiB | us/page | pages worse |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--wcxb", type=Path, help="WCXB folder (generates the streams)")
    ap.add_argument("--split", default="dev")
    ap.add_argument("--pages", type=int, nargs="+", default=[6, 30], help="pages per site")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--generator", default=DEFAULT_GENERATOR, help="path of make_sites.py")
    ap.add_argument("--work", type=Path, help="keep generated streams here")
    ap.add_argument("--stream", type=Path, action="append", help="use this stream instead")
    ap.add_argument("--half", choices=["all", "a", "b"], default="all")
    ap.add_argument("--max-sites", type=int, default=0)
    ap.add_argument("--forms", nargs="+", choices=FORMS, default=list(FORMS))
    ap.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    ap.add_argument("--cache", type=Path, help="folder for extraction results (reused)")
    ap.add_argument("--extractor", choices=ENGINES, default=Settings().extractor)
    ap.add_argument("--min-pages", type=int, default=Limits().min_pages)
    ap.add_argument("--window", type=int, default=Limits().window_pages)
    ap.add_argument("--settle-pages", type=int, default=ColdStart().settle_pages)
    ap.add_argument("--min-change", type=float, default=ColdStart().min_change)
    ap.add_argument("--batch", type=int, default=64, help="lookahead batch, in records")
    ap.add_argument("--out", type=Path, help="write the results as JSON")
    ap.add_argument(
        "--restart-every",
        type=int,
        default=0,
        metavar="N",
        help="start the template stage cold every N records (what a restart without template "
        "state costs)",
    )
    args = ap.parse_args(argv)
    if not args.stream and not args.wcxb:
        ap.error("give --wcxb DIR (to generate streams) or --stream FILE")
    if "none" not in args.variants:
        args.variants.insert(0, "none")

    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        streams = args.stream or [generate(args, k, work) for k in args.pages]
        print(HEADER)
        results: dict[str, dict] = {}
        for path in streams:
            name = f"{path.stem}.{args.extractor}.extractions.jsonl"
            cache = args.cache / name if args.cache else None
            records = read_stream(path, args.half, args.max_sites)
            pages = extract_all(records, args.forms, cache, args.extractor)
            label = f"{path.stem} ({len({p.site for p in pages})} sites, {len(pages)} pages)"
            for form in args.forms:
                scored = {v: run_variant(pages, form, v, args) for v in args.variants}
                for row in report_rows(label, form, scored, len(pages)):
                    print(row, flush=True)
                results[f"{path.stem}/{form}"] = {
                    v: {k: getattr(s, k) for k in s.__slots__}  # type: ignore[attr-defined]
                    for v, s in scored.items()
                }
        if args.out:
            args.out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
