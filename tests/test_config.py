import argparse

import pytest

from worker import config
from worker.config import ConfigError, Settings


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    config.add_flags(parser)
    return parser.parse_args(argv)


def test_defaults_when_environment_is_empty() -> None:
    settings = config.load(env={})
    assert settings == Settings()
    assert settings.kafka_bootstrap_servers == ""


def test_environment_then_flags_override_defaults() -> None:
    env = {
        "INGEST_BATCH_SIZE": "7",
        "INGEST_OUTPUT_TOPIC": "clean",
        "KAFKA_BOOTSTRAP_SERVERS": "b:1",
    }
    settings = config.load(parse(["--batch-size", "9"]), env=env)
    assert settings.batch_size == 9
    assert settings.output_topic == "clean"
    assert settings.kafka_bootstrap_servers == "b:1"


def test_prefixed_bootstrap_wins_over_the_usual_name() -> None:
    env = {"KAFKA_BOOTSTRAP_SERVERS": "a:1", "INGEST_KAFKA_BOOTSTRAP_SERVERS": "b:2"}
    assert config.load(env=env).kafka_bootstrap_servers == "b:2"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"INGEST_BATCH_SIZE": "many"}, "INGEST_BATCH_SIZE"),
        ({"INGEST_PARTITIONS": "0"}, "INGEST_PARTITIONS"),
        ({"INGEST_DUPLICATE_POLICY": "shred"}, "INGEST_DUPLICATE_POLICY"),
        ({"INGEST_CREATE_TOPICS": "perhaps"}, "INGEST_CREATE_TOPICS"),
        ({"INGEST_INPUT_TOPIC": "articles"}, "INGEST_INPUT_TOPIC"),
        ({"INGEST_HEARTBEAT_INTERVAL_MS": "20000"}, "INGEST_HEARTBEAT_INTERVAL_MS"),
        ({"INGEST_SASL_MECHANISM": "PLAIN"}, "INGEST_SECURITY_PROTOCOL"),
    ],
)
def test_invalid_values_name_the_setting(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=f"^{named}:"):
        config.load(env=env)


def test_secret_from_file_and_masked_in_public_view(tmp_path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("hunter2\n")
    env = {
        "INGEST_SASL_PASSWORD_FILE": str(secret),
        "INGEST_SECURITY_PROTOCOL": "SASL_SSL",
        "INGEST_SASL_MECHANISM": "PLAIN",
        "INGEST_REDIS_URL": "redis://user:pw@127.0.0.1:6379/0",
    }
    settings = config.load(env=env)
    assert settings.sasl_password == "hunter2"
    public = settings.public()
    assert "hunter2" not in str(public)
    assert "pw@" not in str(public)


def test_unreadable_secret_file_names_the_setting(tmp_path) -> None:
    with pytest.raises(ConfigError, match="INGEST_SASL_PASSWORD_FILE"):
        config.load(env={"INGEST_SASL_PASSWORD_FILE": str(tmp_path / "missing")})


def test_every_setting_is_documented() -> None:
    rows = config.describe()
    assert len(rows) == len(Settings.__dataclass_fields__)
    assert all(name.startswith("INGEST_") and help_text for name, _, help_text in rows)


def readme_table(marker: str) -> str:
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    return readme.split(f"<!-- {marker}:")[1].split(f"<!-- /{marker} -->")[0]


def table_rows(advanced: bool) -> set[str]:
    rows = set()
    for name, default, help_text in config.describe(advanced=advanced):
        shown = "KAFKA_BOOTSTRAP_SERVERS" if name == "INGEST_KAFKA_BOOTSTRAP_SERVERS" else name
        rows.add(f"| `{shown}` | `{default}` | {help_text} |")
    return rows


def test_readme_configuration_tables_list_every_setting_once() -> None:
    """The everyday settings in one table, the expert knobs in the Advanced one: each row
    where it belongs and nowhere else."""
    main, advanced = readme_table("config-table"), readme_table("config-table-advanced")
    for table, rows in ((main, table_rows(False)), (advanced, table_rows(True))):
        listed = {line for line in table.splitlines() if line.startswith("| `")}
        assert listed == rows
    assert len(table_rows(False)) + len(table_rows(True)) == len(config.describe())


def test_advanced_settings_are_marked_and_still_read() -> None:
    """Expert knobs are apart in the README and marked in --help, but keep their names: old
    .env files and flags still work."""
    marked = config.advanced()
    assert "INGEST_LINGER_MS" in marked and "INGEST_BATCH_SIZE" not in marked
    assert {name for name, _, _ in config.describe(advanced=True)} == set(marked)
    assert config.load(env={"INGEST_LINGER_MS": "5"}).linger_ms == 5
    assert config.load(parse(["--linger-ms", "7"])).linger_ms == 7
    parser = argparse.ArgumentParser()
    config.add_flags(parser)
    assert "(advanced) Producer linger" in parser.format_help()


def test_containment_threshold_is_a_bounded_setting() -> None:
    assert config.load(env={"INGEST_DEDUP_CONTAINMENT": "0.8"}).dedup_containment == 0.8
    for bad in ("0", "1.01"):
        with pytest.raises(ConfigError, match="INGEST_DEDUP_CONTAINMENT"):
            config.load(env={"INGEST_DEDUP_CONTAINMENT": bad})
