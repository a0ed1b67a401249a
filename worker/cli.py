"""Command line: ``ingest-worker run | extract | feed | topics | tail | dedup | replay-dlq``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from worker import __version__, config
from worker.config import ConfigError, Settings

KAFKA_SETTINGS = [
    "kafka_bootstrap_servers",
    "startup_timeout_s",
    "security_protocol",
    "sasl_mechanism",
    "sasl_username",
    "sasl_password",
    "ssl_cafile",
    "max_page_bytes",
    "log_level",
]
TOPIC_SETTINGS = [
    "input_topic",
    "output_topic",
    "duplicates_topic",
    "dlq_topic",
    "partitions",
    "replication_factor",
]
PIPELINE_SETTINGS = [
    "max_page_bytes",
    "extract_timeout_s",
    "extractor",
    "non_article_policy",
    "min_words",
    "site_templates",
    "site_key",
    "site_min_pages",
    "site_window_pages",
    "site_max_sites",
    "site_cold_start",
    "site_settle_pages",
    "site_min_change",
    "site_snapshot",
    "duplicate_policy",
    "dedup_backend",
    "dedup_snapshot",
    "dedup_containment",
    "dedup_race_window_s",
    "redis_url",
    "log_level",
    "output_topic",
    "duplicates_topic",
    "dlq_topic",
]

DEDUP_SETTINGS = [
    "dedup_backend",
    "dedup_snapshot",
    "dedup_window_s",
    "dedup_max_docs",
    "dedup_containment",
    "dedup_race_window_s",
    "redis_url",
    "redis_key_prefix",
    "redis_bucket_bits",
    "log_level",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ingest-worker", description="Raw crawled pages in, clean de-duplicated articles out."
    )
    parser.add_argument("--version", action="version", version=f"ingest-worker {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="Run the stream worker (embedded broker when no Kafka).")
    run.add_argument(
        "--no-samples",
        action="store_true",
        help="With the embedded broker, do not feed the bundled sample pages.",
    )
    run.add_argument(
        "--exit-when-idle",
        type=float,
        default=None,
        metavar="SECONDS",
        help="Stop after this long without input (batch jobs, benchmarks).",
    )
    config.add_flags(run)

    ext = sub.add_parser("extract", help="Offline: pages in (files or stdin), articles out.")
    ext.add_argument(
        "inputs",
        nargs="*",
        help="JSON lines, .html(.gz) files, directories or WARC/WET files; stdin when none.",
    )
    ext.add_argument("--output", "-o", default="-", help="Output file (default: stdout).")
    ext.add_argument(
        "--no-site-templates",
        action="store_true",
        help="Do not learn site templates across the input's records (same as "
        "--site-templates false).",
    )
    config.add_flags(ext, PIPELINE_SETTINGS)

    feed = sub.add_parser(
        "feed",
        help="Publish files, directories, JSON lines or WARC files "
        "to the input topic, keyed by host.",
    )
    feed.add_argument("inputs", nargs="*", help="Inputs; stdin when none.")
    feed.add_argument("--rate", type=float, default=0.0, help="Pages per second (0: no limit).")
    feed.add_argument("--quiet", action="store_true", help="No progress line.")
    config.add_flags(
        feed, [*KAFKA_SETTINGS, "input_topic", "create_topics", "partitions", "replication_factor"]
    )

    topics = sub.add_parser("topics", help="Create or check the worker's topics.")
    topics.add_argument("action", choices=("create", "check"))
    config.add_flags(topics, [*KAFKA_SETTINGS, *TOPIC_SETTINGS])

    tail = sub.add_parser("tail", help="Print a topic's records as JSON lines.")
    tail.add_argument("topic", nargs="?", default=None, help="Default: the output topic.")
    tail.add_argument("--max", type=int, default=0, help="Stop after N records.")
    tail.add_argument(
        "--idle",
        type=float,
        default=5.0,
        help="Stop after this many seconds without records (0: follow forever).",
    )
    config.add_flags(tail, [*KAFKA_SETTINGS, "output_topic"])

    dedup = sub.add_parser(
        "dedup",
        help="Offline near-duplicate detection: JSON lines "
        '{"id","ts","source","title","text"} in, {"id","duplicate_of"} out.',
    )
    dedup.add_argument("inputs", nargs="*", help="JSON lines files; stdin when none.")
    config.add_flags(dedup, DEDUP_SETTINGS)

    replay = sub.add_parser(
        "replay-dlq", help="Re-publish dead-lettered records to the input topic (after a fix)."
    )
    replay.add_argument(
        "--reason",
        action="append",
        default=[],
        help="Only records with this error_reason (repeatable).",
    )
    replay.add_argument("--dry-run", action="store_true", help="Count, do not publish.")
    replay.add_argument(
        "--since",
        type=_timestamp_ms,
        default=None,
        metavar="ISO_TIME",
        help="Only records dead-lettered at or after this time (ISO 8601).",
    )
    replay.add_argument(
        "--idle", type=float, default=5.0, help="Stop after this many seconds without records."
    )
    config.add_flags(replay, [*KAFKA_SETTINGS, "input_topic", "dlq_topic"])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = config.load(args)
    except ConfigError as exc:
        print(f"ingest-worker: configuration error: {exc}", file=sys.stderr)
        return 2
    for warning in config.misspelt():
        print(f"ingest-worker: warning: {warning}", file=sys.stderr)
    from worker import logs

    logs.setup(settings.log_level)
    commands: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
        "run": cmd_run,
        "extract": cmd_extract,
        "feed": cmd_feed,
        "topics": cmd_topics,
        "tail": cmd_tail,
        "dedup": cmd_dedup,
        "replay-dlq": cmd_replay_dlq,
    }
    try:
        return commands[args.command](args, settings)
    except KeyboardInterrupt:
        return 130
    except ConfigError as exc:
        print(f"ingest-worker: configuration error: {exc}", file=sys.stderr)
        return 2


def require_kafka(settings: Settings) -> None:
    """A broker is configured and answers (within ``startup_timeout_s``), else one line."""
    if not settings.kafka_bootstrap_servers:
        raise ConfigError("KAFKA_BOOTSTRAP_SERVERS: not set (host:port of a Kafka broker)")
    from worker import kafka_io

    kafka_io.wait_for_broker(settings)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from worker.runner import run_worker

    return run_worker(
        settings, feed_samples=not args.no_samples, exit_when_idle=args.exit_when_idle
    )


def cmd_extract(args: argparse.Namespace, settings: Settings) -> int:
    from worker.offline import extract_files

    if args.no_site_templates:
        settings = replace(settings, site_templates=False)
    return extract_files(args.inputs, args.output, settings)


def cmd_feed(args: argparse.Namespace, settings: Settings) -> int:
    from worker.feed import feed, unreadable_inputs

    if missing := unreadable_inputs(args.inputs):
        print(f"ingest-worker feed: cannot read {', '.join(missing)}", file=sys.stderr)
        return 2
    require_kafka(settings)
    return feed(args.inputs, settings, rate=args.rate, progress=not args.quiet)


def cmd_topics(args: argparse.Namespace, settings: Settings) -> int:
    from worker import kafka_io

    require_kafka(settings)
    if args.action == "create":
        created = kafka_io.ensure_topics(settings)
        print(
            f"created: {', '.join(created) or 'none'}; all present: "
            f"{', '.join(kafka_io.all_topics(settings))}"
        )
        return 0
    missing = kafka_io.missing_topics(settings)
    print(f"missing: {', '.join(missing)}" if missing else "all topics present")
    return 1 if missing else 0


def cmd_tail(args: argparse.Namespace, settings: Settings) -> int:
    from worker.tools import tail

    require_kafka(settings)
    return tail(
        settings, args.topic or settings.output_topic, max_records=args.max, idle_s=args.idle
    )


def cmd_dedup(args: argparse.Namespace, settings: Settings) -> int:
    from worker.dedup.offline import run_offline
    from worker.pipeline import build_deduper
    from worker.tools import open_inputs

    deduper = build_deduper(settings)
    try:
        for stream in open_inputs(args.inputs):
            run_offline(stream, sys.stdout.buffer, deduper)
    finally:
        deduper.close()
    return 0


def cmd_replay_dlq(args: argparse.Namespace, settings: Settings) -> int:
    from worker.tools import replay_dlq

    require_kafka(settings)
    return replay_dlq(
        settings,
        reasons=set(args.reason),
        dry_run=args.dry_run,
        idle_s=args.idle,
        since_ms=args.since,
    )


# ``python -m worker.dedup.offline``'s older flag names, and the settings they stand for.
OLD_DEDUP_FLAGS = {
    "--backend": "--dedup-backend",
    "--key-prefix": "--redis-key-prefix",
    "--snapshot": "--dedup-snapshot",
}


def dedup_module_main(argv: Sequence[str] | None = None) -> int:
    """``python -m worker.dedup.offline``: ``ingest-worker dedup`` with its older flag names,
    so it keeps no defaults of its own."""
    args = sys.argv[1:] if argv is None else argv
    return main(["dedup", *map(_new_dedup_flag, args)])


def _new_dedup_flag(arg: str) -> str:
    name, eq, value = arg.partition("=")
    return OLD_DEDUP_FLAGS.get(name, name) + eq + value


def _timestamp_ms(value: str) -> int:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
