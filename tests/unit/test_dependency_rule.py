"""domain/ imports no framework (STYLE.md's dependency rule); a test module imports no other
test module and no private name (issue 17): what tests share lives in tests/*_builders.py,
tests/*_calls.py and the like, and their fixtures in a conftest.py."""

from __future__ import annotations

import ast
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
FORBIDDEN = {
    "sqlalchemy",
    "strawberry",
    "starlette",
    "asyncpg",
    "aiosqlite",
    "alembic",
    "adapters",
    "graphql_api",
    "uvicorn",
    "httpx",
    "click",
    "structlog",
}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_domain_imports_no_framework() -> None:
    files = sorted(DOMAIN.rglob("*.py"))
    assert len(files) > 5
    offenders = {
        str(f.relative_to(DOMAIN)): sorted(imported_roots(f) & FORBIDDEN)
        for f in files
        if imported_roots(f) & FORBIDDEN
    }
    assert offenders == {}


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from sqlalchemy import select\nimport adapters.db\n")
    assert imported_roots(bad) & FORBIDDEN == {"sqlalchemy", "adapters"}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports by absolute name (`from a.b import c` counts a.b and a.b.c)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def test_the_ingest_pipeline_imports_no_use_case() -> None:
    """domain.usecases may use domain.ingest (its checks and data rules), never the reverse:
    no package loop."""
    files = sorted((DOMAIN / "ingest").rglob("*.py"))
    assert len(files) > 5
    offenders = {
        str(f.relative_to(DOMAIN)): sorted(
            m
            for m in imported_modules(f)
            if m == "domain.usecases" or m.startswith("domain.usecases.")
        )
        for f in files
    }
    assert {f: ms for f, ms in offenders.items() if ms} == {}


def test_the_loop_check_sees_a_use_case_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from domain.usecases.bus import Actor\nfrom domain import usecases\n")
    assert imported_modules(bad) >= {"domain.usecases.bus", "domain.usecases"}


TESTS = DOMAIN.parent / "tests"


def shared_wrongly(path: Path) -> list[str]:
    """The imports of a file under tests/ that reach a test module (`test_*`) or a private name."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [
                a.name
                for a in node.names
                if a.name.split(".")[0] == "tests"
                and any(p.startswith("test_") for p in a.name.split("."))
            ]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            parts = (node.module or "").split(".")
            if node.level == 0 and parts[0] != "tests":
                continue
            if any(p.startswith("test_") for p in parts):
                found.append(module)
            found += [
                f"{module}:{a.name}"
                for a in node.names
                if a.name.startswith("test_") or a.name.startswith("_")
            ]
    return found


def test_no_test_module_imports_another_or_a_private_name() -> None:
    files = sorted(TESTS.rglob("*.py"))
    assert len(files) > 100
    offenders = {str(f.relative_to(TESTS)): shared_wrongly(f) for f in files}
    assert {f: found for f, found in offenders.items() if found} == {}


def test_the_sharing_check_sees_a_test_module_and_a_private_name(tmp_path: Path) -> None:
    bad = tmp_path / "test_bad.py"
    bad.write_text(
        "from tests.api.test_production import f\n"
        "import tests.unit.test_compile\n"
        "from tests.api import test_panels\n"
        "from .test_ingest import ingest\n"
        "from tests.builders import _private\n"
        "from tests.builders import Factory\n"
        "from domain.test_like import _ok\n"
    )
    assert shared_wrongly(bad) == [
        "tests.api.test_production",
        "tests.unit.test_compile",
        "tests.api:test_panels",
        ".test_ingest",
        "tests.builders:_private",
    ]
