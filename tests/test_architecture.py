"""The layering holds and both text catalogs agree."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.text import EN, ZH, placeholders

ROOT = Path(__file__).resolve().parent.parent
COMPOSITION_ROOT = {"bot/app.py", "bot/cli.py", "bot/__main__.py"}


def imports(path: Path) -> set[str]:
    """Top-level module names a file imports."""
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(("package", "forbidden"), [
    ("storage", {"slack_bolt", "slack_sdk", "bot", "handlers"}),
    ("bot", {"slack_bolt", "slack_sdk", "handlers"}),
])
def test_imports_point_inwards(package: str, forbidden: set[str]) -> None:
    wrong = {}
    for path in (ROOT / package).rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel in COMPOSITION_ROOT or "/migrations/" in rel:
            continue
        bad = imports(path) & forbidden
        if bad:
            wrong[rel] = sorted(bad)
    assert wrong == {}


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    assert set(EN) == set(ZH)
    mismatched = {k: (placeholders(EN[k]), placeholders(ZH[k]))
                  for k in EN if placeholders(EN[k]) != placeholders(ZH[k])}
    assert mismatched == {}


def test_every_catalog_key_used_in_code_exists() -> None:
    source = "\n".join(line for d in ("bot", "handlers") for p in (ROOT / d).rglob("*.py")
                       for line in p.read_text().splitlines() if "KIND_" not in line)  # outbox kinds look alike
    prefixes = ("error|reply|remind|notify|sheet|list|view|modal|field|hint|thread|button|changes|help|status|"
                "priority|history|action|meeting|echo|placeholder|default|home|lang|channel")
    used = set(re.findall(rf"""["']((?:{prefixes})\.[a-z_.]+[a-z_])["']""", source))
    assert used - set(EN) == set()


def test_migrations_build_exactly_the_models_schema(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine
    from sqlmodel import SQLModel

    import storage.models  # noqa: F401
    from storage.db import migrate

    engine = create_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    migrate(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
