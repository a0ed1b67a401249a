"""All settings in one place: environment variables (prefix ``INGEST_``) overridden by CLI flags.

Every setting is a field of ``Settings`` with its help text; the env var name is
``INGEST_`` + the field name upper-cased, the flag ``--`` + the name with dashes.
``KAFKA_BOOTSTRAP_SERVERS`` keeps its usual name (``INGEST_KAFKA_BOOTSTRAP_SERVERS``
wins when both are set). Secrets may also come from a file: ``<VAR>_FILE``.
Values are validated once, at start-up, and an error names the setting.
"""

from __future__ import annotations

import argparse
import difflib
import math
import os
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from worker import dedup
from worker.decode import DEFAULT_MAX_BYTES
from worker.dedup.race import WINDOW_S as RACE_WINDOW_S
from worker.dedup.verify import CONTAINMENT
from worker.extract import ENGINES
from worker.templates import ColdStart, Limits, TemplateConfig

# Defaults owned by the parts they configure: each value is written once, there.
_LIMITS = Limits()
_COLD = ColdStart()
_TEMPLATES = TemplateConfig()

PREFIX = "INGEST_"


class ConfigError(ValueError):
    """A setting has an invalid value; the message starts with the setting's env var name."""


def _opt(
    default: Any,
    help: str,
    *,
    choices: tuple[str, ...] = (),
    secret: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    advanced: bool = False,
) -> Any:
    """A setting: ``advanced`` marks an expert knob whose default suits almost everyone (the
    README and ``--help`` say so; it works like any other setting)."""
    meta = {
        "help": help,
        "choices": choices,
        "secret": secret,
        "minimum": minimum,
        "maximum": maximum,
        "advanced": advanced,
    }
    return field(default=default, metadata=meta)


@dataclass(frozen=True, slots=True)
class Settings:
    # --- Kafka -------------------------------------------------------------------------
    kafka_bootstrap_servers: str = _opt(
        "", "Kafka bootstrap servers (host:port,...). Empty: start an embedded broker (Tansu)."
    )
    input_topic: str = _opt("pages.raw", "Topic of raw crawled pages.")
    output_topic: str = _opt("articles", "Topic clean articles are published to.")
    duplicates_topic: str = _opt("articles.duplicates", "Topic for duplicates (policy 'topic').")
    dlq_topic: str = _opt("pages.dlq", "Dead-letter topic: original record plus the error.")
    group_id: str = _opt("ingest-worker", "Consumer group id.")
    create_topics: bool = _opt(True, "Create missing topics at start-up (never auto-created).")
    partitions: int = _opt(6, "Partitions for topics created at start-up.", minimum=1)
    replication_factor: int = _opt(
        1, "Replication factor for topics created at start-up.", minimum=1
    )
    batch_size: int = _opt(256, "Records polled and processed per batch.", minimum=1)
    poll_timeout_ms: int = _opt(
        500, "How long one poll waits for records.", minimum=1, advanced=True
    )
    session_timeout_ms: int = _opt(
        10_000, "Consumer group session timeout.", minimum=100, advanced=True
    )
    heartbeat_interval_ms: int = _opt(
        3_000, "Consumer heartbeat interval.", minimum=10, advanced=True
    )
    max_poll_interval_ms: int = _opt(
        300_000, "Longest gap between polls before eviction.", minimum=1000, advanced=True
    )
    auto_offset_reset: str = _opt(
        "earliest", "Where a new group starts.", choices=("earliest", "latest")
    )
    linger_ms: int = _opt(
        20, "Producer linger: batch records for this long.", minimum=0, advanced=True
    )
    producer_batch_bytes: int = _opt(
        1_048_576, "Producer batch size in bytes.", minimum=1024, advanced=True
    )
    security_protocol: str = _opt(
        "PLAINTEXT",
        "Kafka security protocol.",
        choices=("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"),
    )
    sasl_mechanism: str = _opt(
        "",
        "SASL mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512).",
        choices=("", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"),
    )
    sasl_username: str = _opt("", "SASL user name.")
    sasl_password: str = _opt("", "SASL password (or INGEST_SASL_PASSWORD_FILE).", secret=True)
    ssl_cafile: str = _opt("", "CA bundle for Kafka TLS.")
    startup_timeout_s: float = _opt(
        15.0,
        "At start-up, how long to wait for a Kafka broker to answer before stopping with one "
        "line (a broker lost later is waited for).",
        minimum=0.1,
    )
    # --- Pages and extraction ----------------------------------------------------------
    max_page_bytes: int = _opt(
        DEFAULT_MAX_BYTES, "Largest accepted page (after gunzip), bytes.", minimum=1024
    )
    max_text_chars: int = _opt(
        2_000_000,
        "Longest extracted text (characters); longer ones go to the DLQ as too_large.",
        minimum=1000,
    )
    processes: int = _opt(
        0,
        "Processes for the CPU stages (0: one per core); each page runs in one of them.",
        minimum=0,
    )
    extract_timeout_s: float = _opt(
        10.0,
        "Time budget for extracting one page; past 1.5x (at least +1 s) its process is killed.",
        minimum=0.01,
        advanced=True,
    )
    extractor: str = _opt(
        ENGINES[0],
        "Extraction engine: our fast Lexbor engine, or trafilatura plus our rules.",
        choices=ENGINES,
    )
    non_article_policy: str = _opt(
        "publish",
        "Pages that are not articles: publish with page_type set, or skip with a reason.",
        choices=("publish", "skip"),
    )
    min_words: int = _opt(1, "Skip articles with fewer extracted words than this.", minimum=0)
    # --- Site templates ----------------------------------------------------------------
    site_templates: bool = _opt(
        True, "Learn each site's template (lines on several of its pages) and remove it."
    )
    site_key: str = _opt(
        _TEMPLATES.site_by,
        "What a site is: the host (www. ignored) or the registered domain.",
        choices=("host", "domain"),
    )
    site_min_pages: int = _opt(
        _LIMITS.min_pages,
        "Distinct pages of a site a line must be on to count as its template.",
        minimum=2,
        advanced=True,
    )
    site_window_pages: int = _opt(
        _LIMITS.window_pages,
        "Most recent pages kept as evidence per site.",
        minimum=2,
        advanced=True,
    )
    site_max_sites: int = _opt(
        _LIMITS.max_sites,
        "Sites tracked; the least recently seen are dropped beyond this.",
        minimum=1,
    )
    site_ttl_s: float = _opt(
        _LIMITS.ttl_s, "Sites not seen for this long are dropped (seconds).", minimum=60
    )
    site_cold_start: str = _opt(
        _COLD.policy,
        "A new site's first pages: publish as they are, or also re-publish them improved "
        "under the same key once the site's template is known.",
        choices=("publish", "republish"),
    )
    site_settle_pages: int = _opt(
        _COLD.settle_pages,
        "republish: pages arriving while their site has fewer are revisable.",
        minimum=1,
        advanced=True,
    )
    site_min_change: float = _opt(
        _COLD.min_change,
        "republish: share of a page's words that must change to re-publish.",
        minimum=0,
        advanced=True,
    )
    site_snapshot: str = _opt("", "File site templates are snapshotted to (empty: none).")
    site_snapshot_every_s: float = _opt(
        _TEMPLATES.snapshot_every_s,
        "Least time between two site-template snapshots.",
        minimum=0,
        advanced=True,
    )
    # --- Dedup -------------------------------------------------------------------------
    duplicate_policy: str = _opt(
        "topic", "What to do with duplicates.", choices=("topic", "drop", "annotate")
    )
    dedup_backend: str = _opt(
        dedup.BACKENDS[0], "Dedup index: in process or shared in Redis.", choices=dedup.BACKENDS
    )
    dedup_snapshot: str = _opt("", "File the in-process index is snapshotted to (memory).")
    dedup_changelog: str = _opt(
        "",
        "Topic the in-process index is written to and rebuilt from at start-up, so a SIGKILL "
        "forgets nothing (memory backend). Empty: the output topic + .dedup-changelog; "
        "off: none.",
    )
    dedup_window_s: float = _opt(
        dedup.WINDOW_S, "How long a story stays in the index (seconds).", minimum=60
    )
    dedup_max_docs: int = _opt(
        dedup.MAX_DOCS, "Most stories the in-process index holds.", minimum=100
    )
    dedup_containment: float = _opt(
        CONTAINMENT,
        "Near-duplicate threshold: share of the shorter text's 5-word shingles found in an "
        "earlier story for it to count as a copy. Lower catches more rewrites and more false "
        "copies.",
        minimum=0.1,
        maximum=1.0,
    )
    dedup_race_window_s: float = _opt(
        RACE_WINDOW_S,
        "How long after a story's canonical copy arrived a copy fetched earlier still takes "
        "its place (seconds; the canonical is republished as a duplicate). 0: never.",
        minimum=0,
    )
    redis_key_prefix: str = _opt(dedup.KEY_PREFIX, "Prefix of every Redis key of the index.")
    redis_bucket_bits: int = _opt(
        dedup.BUCKET_BITS,
        "Redis index buckets = 2^bits; size to about a third of the stories per window.",
        minimum=4,
        advanced=True,
    )
    redis_url: str = _opt(dedup.REDIS_URL, "Redis URL for the shared dedup index.", secret=True)
    # --- Operations --------------------------------------------------------------------
    metrics_host: str = _opt("127.0.0.1", "Address of the metrics/health HTTP server.")
    metrics_port: int = _opt(
        9108, "Port of /metrics, /healthz, /readyz (0: any free port).", minimum=0
    )
    log_level: str = _opt("INFO", "Log level.", choices=("DEBUG", "INFO", "WARNING", "ERROR"))

    def public(self) -> dict[str, Any]:
        """Settings safe to log: secrets masked."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("secret") and value:
                value = _mask(f.name, value)
            out[f.name] = value
        return out


def dedup_changelog_topic(settings: Settings) -> str | None:
    """The dedup changelog topic, None when there is none (Redis keeps the index itself)."""
    if settings.dedup_backend != "memory" or settings.dedup_changelog == "off":
        return None
    return settings.dedup_changelog or f"{settings.output_topic}.dedup-changelog"


def _mask(name: str, value: str) -> str:
    if name == "redis_url" and "@" not in value:
        return value  # no credentials in it
    return "***"


def env_name(name: str) -> str:
    return PREFIX + name.upper()


def _raw_from_env(name: str, env: Mapping[str, str]) -> str | None:
    keys = [env_name(name)]
    if name == "kafka_bootstrap_servers":
        keys.append("KAFKA_BOOTSTRAP_SERVERS")
    for key in keys:
        if key in env:
            return env[key]
        if key + "_FILE" in env:
            path = Path(env[key + "_FILE"])
            try:
                return path.read_text().strip()
            except OSError as exc:
                raise ConfigError(f"{key}_FILE: cannot read {path}: {exc.strerror}") from exc
    return None


def _convert(name: str, raw: str, default: Any) -> Any:
    label = env_name(name)
    if isinstance(default, bool):
        low = raw.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{label}: expected true/false, got {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{label}: expected an integer, got {raw!r}") from None
    if isinstance(default, float):
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{label}: expected a number, got {raw!r}") from None
        if not math.isfinite(value):  # nan passes every bound check, inf every minimum
            raise ConfigError(f"{label}: expected a finite number, got {raw!r}")
        return value
    return raw.strip()


def _validate(settings: Settings) -> None:
    for f in fields(settings):
        value = getattr(settings, f.name)
        label = env_name(f.name)
        choices = f.metadata.get("choices")
        if choices and value not in choices:
            raise ConfigError(
                f"{label}: must be one of {', '.join(map(repr, choices))}, got {value!r}"
            )
        minimum = f.metadata.get("minimum")
        if minimum is not None and value < minimum:
            raise ConfigError(f"{label}: must be >= {minimum}, got {value!r}")
        maximum = f.metadata.get("maximum")
        if maximum is not None and value > maximum:
            raise ConfigError(f"{label}: must be <= {maximum}, got {value!r}")
    if settings.heartbeat_interval_ms >= settings.session_timeout_ms:
        raise ConfigError(
            f"{env_name('heartbeat_interval_ms')}: must be below {env_name('session_timeout_ms')}"
        )
    if settings.dedup_backend == "redis" and not settings.redis_url.startswith(
        ("redis://", "rediss://", "unix://")
    ):
        raise ConfigError(f"{env_name('redis_url')}: expected redis://, rediss:// or unix://")
    if settings.sasl_mechanism and not settings.security_protocol.startswith("SASL"):
        raise ConfigError(
            f"{env_name('security_protocol')}: SASL_PLAINTEXT or SASL_SSL needed "
            f"with {env_name('sasl_mechanism')}"
        )
    if settings.site_window_pages < settings.site_min_pages:
        raise ConfigError(
            f"{env_name('site_window_pages')}: must be at least {env_name('site_min_pages')}"
        )
    topics = [
        settings.input_topic,
        settings.output_topic,
        settings.dlq_topic,
        settings.duplicates_topic,
    ]
    if settings.input_topic in topics[1:] or settings.input_topic == dedup_changelog_topic(
        settings
    ):
        raise ConfigError(
            f"{env_name('input_topic')}: must differ from the output, "
            "duplicates and dead-letter topics"
        )


def add_flags(parser: argparse.ArgumentParser, names: list[str] | None = None) -> None:
    """Add ``--flag`` overrides for the given settings (all when None)."""
    group = parser.add_argument_group("settings (flags override INGEST_* environment variables)")
    for f in fields(Settings):
        if names is not None and f.name not in names:
            continue
        flag = "--" + f.name.replace("_", "-")
        default = f.default if f.default is not MISSING else None
        shown = "***" if f.metadata.get("secret") else default
        group.add_argument(
            flag,
            dest=f"cfg_{f.name}",
            default=None,
            metavar="VALUE",
            help=f"{help_text(f)} [{env_name(f.name)}; default {shown!r}]",
        )


def load(
    args: argparse.Namespace | None = None, env: Mapping[str, str] | None = None, **overrides: Any
) -> Settings:
    """Build validated Settings: defaults < environment < CLI flags < keyword overrides."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for f in fields(Settings):
        raw = _raw_from_env(f.name, env)
        flag = getattr(args, f"cfg_{f.name}", None) if args is not None else None
        if flag is not None:
            raw = flag
        if raw is not None:
            values[f.name] = _convert(f.name, raw, f.default)
    settings = replace(Settings(), **values, **overrides)
    _validate(settings)
    return settings


def known_env_names() -> set[str]:
    """Every variable ``load`` reads: settings, their ``_FILE`` forms and the usual Kafka name."""
    names = {env_name(f.name) for f in fields(Settings)} | {"KAFKA_BOOTSTRAP_SERVERS"}
    return names | {name + "_FILE" for name in names}


def misspelt(env: Mapping[str, str] | None = None) -> list[str]:
    """One warning per ``INGEST_*`` variable that is no setting (a typo is otherwise silently
    ignored), naming the closest known one."""
    env = os.environ if env is None else env
    known = known_env_names()
    settings = sorted(name for name in known if name.startswith(PREFIX))
    warnings = []
    for name in sorted(env):
        if not name.startswith(PREFIX) or name in known:
            continue
        close = difflib.get_close_matches(name.removesuffix("_FILE"), settings, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else "see --help for the settings"
        warnings.append(f"{name} is not a setting and is ignored ({hint})")
    return warnings


def describe(advanced: bool | None = None) -> list[tuple[str, str, str]]:
    """(env var, default, help) rows for the README's tables: the everyday settings
    (``advanced=False``), the expert knobs (``True``) or all of them (None)."""
    return [
        (
            env_name(f.name),
            "***" if f.metadata.get("secret") else repr(f.default),
            f.metadata["help"],
        )
        for f in fields(Settings)
        if advanced is None or bool(f.metadata.get("advanced")) == advanced
    ]


def help_text(f: Any) -> str:
    """A setting's help, marked when it is an expert knob."""
    return ("(advanced) " if f.metadata.get("advanced") else "") + f.metadata["help"]


def advanced() -> list[str]:
    """The env names of the expert knobs."""
    return [env_name(f.name) for f in fields(Settings) if f.metadata.get("advanced")]
