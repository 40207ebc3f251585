"""domain/ imports no framework (STYLE.md's dependency rule)."""

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
