"""The settings: one typed object parsed from ``MOTCUA_*`` variables by their annotations,
the only reader of those variables in the tree, and listed in full by ``.env.example``
and ``motcua --help``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from motcua import settings as settings_module
from motcua.settings import SECRET_VARIABLES, Settings, SettingsError, describe

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("motcua", "flows", "transforms", "expectations", "warehouse")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith("MOTCUA_") and name not in SECRET_VARIABLES:
            monkeypatch.delenv(name)
    monkeypatch.chdir(ROOT / "tests")  # no .env here


def test_values_are_parsed_from_the_annotations(monkeypatch, tmp_path):
    monkeypatch.setenv("MOTCUA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MOTCUA_QUARANTINE_THRESHOLD", "0.25")
    monkeypatch.setenv("MOTCUA_WORKERS", "3")
    monkeypatch.setenv("MOTCUA_LOCK_TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("MOTCUA_WRITE_LIMIT", " OFF ")
    monkeypatch.setenv("MOTCUA_DUCKDB_THREADS", "")  # empty: unset
    s = Settings.from_env(workers=1)  # an override beats the environment
    assert s.data_dir == tmp_path and isinstance(s.data_dir, Path)
    assert (s.quarantine_threshold, s.workers, s.lock_timeout_seconds, s.write_limit) == (0.25, 1, 2.5, "off")
    assert s.duckdb_threads is None and s.http_page_size is None and s.source is None
    for name in ("MOTCUA_LOCK_TIMEOUT_SECONDS", "MOTCUA_WRITE_LIMIT"):
        monkeypatch.delenv(name)
    defaults = Settings.from_env()
    assert defaults.lock_timeout_seconds == 6 * 3600 and defaults.write_limit == "auto"


@pytest.mark.parametrize(("name", "value"), [
    ("MOTCUA_QUARANTINE_THRESHOLD", "1.5"), ("MOTCUA_QUARANTINE_THRESHOLD", "much"), ("MOTCUA_WORKERS", "-1"),
    ("MOTCUA_BATCH_RECORDS", "0"), ("MOTCUA_WRITE_LIMIT", "sometimes"), ("MOTCUA_LOCK_TIMEOUT_SECONDS", "soon"),
    ("MOTCUA_DUCKDB_THREADS", "0"), ("MOTCUA_HTTP_PAGE_SIZE", "ten"),
])
def test_an_invalid_value_names_its_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name) as err:
        Settings.from_env()
    assert repr(value) in str(err.value)


def test_an_invalid_url_setting_does_not_echo_the_url(monkeypatch):
    secret = "pw-never-shown-42"
    with pytest.raises(SettingsError, match="MOTCUA_WAREHOUSE_URL") as err:
        Settings.from_env(warehouse_url=[f"postgresql://u:{secret}@h/db"])
    assert secret not in str(err.value)


def _environ_key(node: ast.AST) -> ast.AST | None:
    """The key of ``os.environ.get(k)``, ``os.environ[k]``, ``os.getenv(k)``,
    ``os.environ.setdefault/pop(k)``, else None."""
    if isinstance(node, ast.Call) and node.args:
        f = node.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Attribute) and f.value.attr == "environ":
            return node.args[0]
        if isinstance(f, ast.Attribute) and f.attr == "getenv":
            return node.args[0]
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "environ":
        return node.slice
    return None


def test_no_motcua_variable_is_read_outside_the_settings_module():
    """Every ``MOTCUA_`` variable is read in the motcua/settings package; elsewhere an environment
    read takes a literal key that is not ``MOTCUA_…`` (``CI``, Prefect's own), or a name the
    user chose (``motcua warehouse create-reader --password-env``)."""
    allowed_dynamic = {("motcua/commands/warehouse.py", "password_env")}
    problems = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = str(path.relative_to(ROOT))
            if rel.startswith("motcua/settings/"):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            constants = {t.id: n.value.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
                         for t in n.targets if isinstance(t, ast.Name)
                         and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)}
            for node in ast.walk(tree):
                key = _environ_key(node)
                if key is None:
                    continue
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    value = key.value
                elif isinstance(key, ast.Name) and key.id in constants:
                    value = constants[key.id]
                elif isinstance(key, ast.Name) and (rel, key.id) in allowed_dynamic:
                    continue
                else:
                    problems.append(f"{rel}:{node.lineno}: an environment read with a computed key")
                    continue
                if value.startswith("MOTCUA_"):
                    problems.append(f"{rel}:{node.lineno}: reads {value} (use motcua.settings)")
    assert not problems, "\n".join(problems)


def test_the_check_above_finds_a_read():
    """The scan is not vacuous: it sees the reads motcua/settings/environment.py makes."""
    tree = ast.parse((ROOT / "motcua" / "settings" / "environment.py").read_text(encoding="utf-8"))
    assert sum(_environ_key(n) is not None for n in ast.walk(tree)) >= 4


def test_env_example_and_help_list_every_setting():
    every = [name for name, _, _ in describe()] + list(SECRET_VARIABLES)
    assert len(every) == len(Settings.model_fields) + 2
    example = set(re.findall(r"^#?\s*(MOTCUA_[A-Z_]+)=", (ROOT / ".env.example").read_text(encoding="utf-8"), re.M))
    assert set(every) <= example, sorted(set(every) - example)
    assert example <= set(every), sorted(example - set(every))  # nothing listed that is not read
    from motcua.cli import main

    shown = CliRunner().invoke(main, ["--help"]).output
    for name in every:
        assert name in shown
    assert "[duckdb:///var/warehouse.duckdb]" in shown  # the defaults too


def test_secrets_are_not_fields(monkeypatch):
    monkeypatch.setenv("MOTCUA_SOURCE_TOKEN", "tok-xyz")
    s = Settings.from_env()
    assert "tok-xyz" not in s.model_dump_json() and settings_module.secret("source_token") == "tok-xyz"
    with pytest.raises(KeyError):
        settings_module.secret("warehouse_url")
