"""One package per extraction engine; the modules shared by both know no engine and no parser.

The shared rules (metadata, page type, vocabulary, the record) read parser-neutral facts
that each engine gathers and passes; were one of them to import an engine or its parser,
the other engine would silently depend on it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import worker.extract

EXTRACT = Path(worker.extract.__file__).parent
ENGINE_PACKAGES = ("worker.extract.fast", "worker.extract.trafilatura_engine")
PARSERS = ("lxml", "selectolax", "trafilatura")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_shared_extract_modules_import_no_engine_and_no_parser() -> None:
    shared = [p for p in EXTRACT.glob("*.py") if p.name != "__init__.py"]  # __init__ picks one
    assert {p.stem for p in shared} >= {"metadata", "pagetype", "facts", "result"}
    for path in shared:
        for name in imported(path):
            assert not name.startswith(ENGINE_PACKAGES), (path.name, name)
            assert name.split(".")[0] not in PARSERS, (path.name, name)


def test_each_engine_is_a_package() -> None:
    for package in ENGINE_PACKAGES:
        assert (EXTRACT / package.rsplit(".", 1)[1] / "__init__.py").is_file(), package
    assert not list(EXTRACT.glob("html_*.py")) and not (EXTRACT / "lxml_facts.py").exists()
