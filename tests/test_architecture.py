"""The layering holds and both text catalogs agree."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy

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


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("storage", {"slack_bolt", "slack_sdk", "bot", "handlers"}),
        ("bot", {"slack_bolt", "slack_sdk", "handlers", "lark_oapi"}),
    ],
)
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


def modules(path: Path) -> set[str]:
    """Full module names a file imports (at any depth of the file)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_feishu_adapter_stands_beside_slacks_on_the_core_alone() -> None:
    """The Feishu adapter uses the core (bot/, storage/), lark-oapi and its own modules: nothing of Slack's SDKs
    or of Slack's adapter, so that another messenger can be added the same way without touching either."""
    wrong = {}
    for path in (ROOT / "handlers" / "feishu").rglob("*.py"):
        bad = {
            m
            for m in modules(path)
            if m.split(".")[0] in ("slack_bolt", "slack_sdk")
            or (m.startswith("handlers.") and not m.startswith("handlers.feishu"))
        }
        if bad:
            wrong[path.relative_to(ROOT).as_posix()] = sorted(bad)
    assert wrong == {}


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    assert set(EN) == set(ZH)
    mismatched = {
        k: (placeholders(EN[k]), placeholders(ZH[k])) for k in EN if placeholders(EN[k]) != placeholders(ZH[k])
    }
    assert mismatched == {}


def test_every_catalog_key_used_in_code_exists() -> None:
    source = "\n".join(
        line
        for d in ("bot", "handlers")
        for p in (ROOT / d).rglob("*.py")
        for line in p.read_text().splitlines()
        if "KIND_" not in line
    )  # outbox kinds look alike
    prefixes = "|".join(sorted({key.split(".")[0] for key in EN}))  # every key's first part, from the catalogs
    used = set(re.findall(rf"""["']((?:{prefixes})\.[a-z_.]+[a-z_])["']""", source))
    assert len(used) > 400  # the pattern finds the keys the code names
    assert used - set(EN) == set()


def test_a_missing_text_key_fails_loudly_in_tests_and_is_logged_once_otherwise(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from bot import text

    with pytest.raises(text.MissingText):
        text.t("en", "reply.no_such_key")
    monkeypatch.delenv("COORDBOT_STRICT_TEXT")
    assert text.t("zh", "reply.no_such_key_either") == "reply.no_such_key_either"
    text.t("en", "reply.no_such_key_either")
    assert [r.getMessage() for r in caplog.records] == ["no text for 'reply.no_such_key_either' in any catalog"]


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


def test_a_new_migration_is_written_from_the_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    import storage.db
    from storage.models import LeftChannel

    copy = tmp_path / "migrations"
    shutil.copytree(ROOT / "storage" / "migrations", copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(storage.db, "MIGRATIONS", copy)
    unchanged = storage.db.write_revision("nothing new")
    assert unchanged.name.startswith(f"{len(list((ROOT / 'storage/migrations/versions').glob('0*.py'))) + 1:04d}_")
    assert "pass" in unchanged.read_text() and "op." not in unchanged.read_text().split("def upgrade")[1]
    unchanged.unlink()
    column = sqlalchemy.Column("note", sqlalchemy.String(40), nullable=True)
    LeftChannel.__table__.append_column(column)  # a model change the migrations do not have yet
    try:
        written = storage.db.write_revision("left channel note").read_text()
    finally:
        LeftChannel.__table__._columns.remove(column)
    assert [c.name for c in LeftChannel.__table__.columns] == ["team_id", "channel_id", "left_at"]  # as it was
    assert "batch_op.add_column(sa.Column('note', sa.String(length=40), nullable=True))" in written
    assert "sqlmodel" not in written


def test_the_feishu_adapter_imports_module_by_module() -> None:
    """The Feishu adapter is the example another one is written from, and read module by module: a cycle of
    imports among its modules shows only when one of them is imported first. Each is imported first here, in a
    fresh interpreter that forgets the adapter's modules between two (the rest stays loaded, so it is quick)."""
    names = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / "handlers" / "feishu").rglob("*.py")
    )
    script = (
        "import importlib, sys\n"
        "failed = []\n"
        f"for name in {names!r}:\n"
        "    for loaded in [m for m in sys.modules if m.startswith('handlers.feishu')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        failed.append(f'{name}: {type(exc).__name__}: {exc}')\n"
        "print('\\n'.join(failed))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "", done.stdout
