"""Passwords stay out of what motcua shows and Prefect stores (no server needed here; the
run on a real Prefect server is tests/flows/test_no_secret_reaches_prefect.py): one
redaction helper, settings and runs that hold only redacted URLs (as Prefect serialises
task and subflow parameters), the real URL revealed only where a connection opens, flow
parameters with a password refused, log lines and command messages scrubbed, and no
credential in prefect.yaml."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from motcua import redact
from motcua.cli import main
from motcua.settings import URL_VARIABLES, Settings, SettingsError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def password() -> str:
    return f"s3cret-pw-{uuid.uuid4().hex[:12]}"


@pytest.fixture(autouse=True)
def _no_url_variables(monkeypatch):
    for name in URL_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_redact_url():
    r = redact.redact_url
    assert r("postgresql+psycopg://u:pw%40x@db.example:5432/wh") == "postgresql+psycopg://u:***@db.example:5432/wh"
    assert r("mysql+pymysql://u:pw@h/db?charset=utf8mb4&password=x") == \
        "mysql+pymysql://u:***@h/db?charset=utf8mb4&password=***"
    assert r("https://api.example/v1?token=abc&page=1") == "https://api.example/v1?page=1&token=***"
    # nothing secret: the very same text (no re-rendering of paths, queries, spaces)
    for same in ("duckdb:///tmp/a b/w.duckdb", "postgresql+psycopg://postgres@127.0.0.1:5432/test?b=2&a=1",
                 "/srv/export bundle", "raw:var/raw", "https://api.example/v1", None):
        assert r(same) == same
    # a URL SQLAlchemy cannot read may hold anything: its scheme only
    assert r("postgresql://u:pw@h:notaport/db") == "postgresql://***"
    assert r(r("mysql+pymysql://u:pw@h/db?token=t")) == "mysql+pymysql://u:***@h/db?token=***"


def test_conceal_and_reveal(password, monkeypatch):
    real = f"postgresql+psycopg://motcua:{password}@db.example/wh"
    shown = redact.conceal(real)
    assert shown == "postgresql+psycopg://motcua:***@db.example/wh"
    assert redact.reveal(shown) == real and redact.reveal(real) == real
    assert redact.reveal("duckdb:///x.duckdb") == "duckdb:///x.duckdb"
    # unknown to this process: the worker's environment, else a clear error without the password
    monkeypatch.setattr(redact, "_REAL", {})
    with pytest.raises(SettingsError, match=r"motcua:\*\*\*@db\.example/wh: the password is hidden") as err:
        redact.reveal(shown)
    assert password not in str(err.value)
    monkeypatch.setenv("MOTCUA_WAREHOUSE_URL", real)
    assert redact.reveal(shown) == real


def test_settings_and_runs_hold_no_password(password, tmp_path):
    """What Prefect does with task and subflow parameters (fastapi's jsonable_encoder,
    see prefect.flows.Flow.serialize_parameters), repr, model_dump and flow results."""
    from fastapi.encoders import jsonable_encoder

    from flows.stages import runs
    from flows.stages.runs import Run
    from warehouse.engine import make_engine

    real = f"postgresql+psycopg://motcua:{password}@127.0.0.1:1/wh"
    source = f"mysql+pymysql://reader:{password}@127.0.0.1:1/motcua?charset=utf8mb4"
    settings = Settings.from_env(warehouse_url=real, data_dir=tmp_path, source=source)
    run = Run("r1", tmp_path, source, real, dt.datetime(2024, 1, 1))
    assert settings.warehouse_url == "postgresql+psycopg://motcua:***@127.0.0.1:1/wh"
    assert settings.source == run.source
    assert run.source == "mysql+pymysql://reader:***@127.0.0.1:1/motcua?charset=utf8mb4"
    for shown in (repr(settings), str(settings.model_dump()), settings.model_dump_json(), str(jsonable_encoder(settings)),
                  repr(run), str(run.as_dict()), str(jsonable_encoder({"run": run, "settings": settings}))):
        assert password not in shown and "***" in shown
    # the password comes back only where a connection opens, and SQLAlchemy hides it too
    engine = make_engine(settings.warehouse_url)
    assert engine.url.password == password and password not in repr(engine)
    engine.dispose()
    # the source's stable name is the one it had before redaction (watermarks, raw zone)
    assert runs.source_name(run.source) == runs.source_name(source)


def test_flow_parameters_with_a_password_are_refused(password):
    from flows import pipeline

    real = f"postgresql+psycopg://motcua:{password}@db.example/wh"
    for call in (lambda: pipeline.settings_for(real), lambda: pipeline.resolve_source(real)):
        with pytest.raises(SettingsError, match="carries a password") as err:
            call()
        assert password not in str(err.value) and "motcua:***@db.example/wh" in str(err.value)
    shown = redact.conceal(real)
    assert pipeline.settings_for(shown).warehouse_url == shown
    assert pipeline.resolve_source(shown) == shown
    assert pipeline.resolve_source("/srv/bundle") == "/srv/bundle"


def test_log_lines_and_tracebacks_are_scrubbed(password):
    redact.conceal(f"postgresql+psycopg://motcua:{password}@db.example/wh")
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(self.format(record))

    handler = Keep()
    logger = logging.getLogger("motcua.test-redact")
    logger.addHandler(handler)
    logger.propagate = False
    redact.install_log_redaction()
    logging.getLogger("motcua").addHandler(handler)
    try:
        redact.install_log_redaction()  # idempotent: one filter per handler
        assert handler.filters.count(redact._FILTER) == 1
        logger.warning("connecting to %s", f"postgresql+psycopg://motcua:{password}@db.example/wh")
        try:
            raise RuntimeError(f"driver said: password {password} refused")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logging.getLogger("motcua").removeHandler(handler)
        logger.removeHandler(handler)
    text = "\n".join(seen)
    assert "connecting to postgresql+psycopg://motcua:***@db.example/wh" in text
    assert "RuntimeError: driver said: password *** refused" in text
    assert password not in text


def test_sources_show_their_url_redacted(password):
    from motcua.sources.database import DatabaseSource
    from motcua.sources.http import HttpSource

    assert password not in repr(DatabaseSource(f"mysql+pymysql://reader:{password}@h/db"))
    assert password not in repr(HttpSource(f"https://api.example/v1?token={password}", token=None))


def test_command_messages_show_the_url_redacted(password, tmp_path):
    """check-report and warehouse upgrade on a PostgreSQL URL with a password and nothing
    listening: the failure names the warehouse redacted and never the password."""
    url = f"postgresql+psycopg://motcua:{password}@127.0.0.1:1/wh"
    table = REPO / "tests" / "reconcile" / "fixtures" / "seed_table2.csv"
    result = CliRunner().invoke(main, ["check-report", str(table), "--year", "2019", "--warehouse", url])
    assert result.exit_code == 2, result.output
    assert "cannot read the warehouse postgresql+psycopg://motcua:***@127.0.0.1:1/wh" in result.output
    assert password not in result.output
    result = CliRunner().invoke(main, ["warehouse", "upgrade", "--warehouse", url])
    assert result.exit_code == 1 and "motcua warehouse upgrade failed" in result.output
    assert password not in result.output
    # a URL SQLAlchemy cannot read is never echoed
    bad = f"postgresql+psycopg://motcua:{password}@127.0.0.1:notaport/wh"
    result = CliRunner().invoke(main, ["check-report", str(table), "--year", "2019", "--warehouse", bad])
    assert result.exit_code != 0 and password not in result.output + str(result.exception)


def _strings(node: object, path: str = "") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in [(f"{path}.{k}", str(k)), *_strings(v, f"{path}.{k}")]]
    if isinstance(node, list):
        return [s for i, v in enumerate(node) for s in _strings(v, f"{path}[{i}]")]
    return [(path, str(node))] if node is not None else []


def test_prefect_yaml_holds_no_credentials():
    """No URL with a password, no secret-looking key, and no template that `prefect
    deploy` would resolve into the stored deployment (``{{ prefect.blocks.… }}``,
    ``{{ $VAR }}``): the flows read the worker's environment or Secret blocks at run time."""
    spec = yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))
    secretish = ("password", "passwd", "secret", "token", "api_key", "_url", "pseudonym")
    for where, text in _strings(spec):
        assert not redact.has_secret(text), where
        assert "prefect.blocks" not in text and "{{ $" not in text, where
        assert not any(word in where.lower().rsplit(".", 1)[-1] for word in secretish), where
    for deployment in spec["deployments"]:
        assert set(deployment.get("parameters") or {}) <= {"replay", "convention", "render", "year", "agency"}
        # the workers' environment holds only logging settings, never a MOTCUA_ value
        env = (deployment["work_pool"].get("job_variables") or {}).get("env") or {}
        assert set(env) <= {"PREFECT_LOGGING_EXTRA_LOGGERS", "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW"}, env


def test_a_source_is_named_without_its_password(tmp_path):
    """The source's name (raw-zone folders, watermarks, audit rows) is a digest of its URL
    with the password hidden: the same whatever the password, and no digest of the
    password to test guesses against; a watermark stored under the older name (a digest
    of the URL in clear) is still read."""
    import hashlib

    import sqlalchemy as sa

    from flows.stages.load_core import read_watermark
    from flows.stages.runs import source_name
    from motcua.settings import Settings
    from warehouse import schema
    from warehouse.engine import create_schema, make_engine

    one, two = "mysql+pymysql://etl:first-pw@db.example/onegate", "mysql+pymysql://etl:rotated@db.example/onegate"
    assert source_name(one) == source_name(two) == source_name("mysql+pymysql://etl:***@db.example/onegate")
    clear = "db-" + hashlib.sha256(one.encode()).hexdigest()[:10]
    assert source_name(one) != clear and source_name(one, legacy=True) == clear
    assert source_name("http://api.example/v1") == source_name("http://api.example/v1", legacy=True)

    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    engine = make_engine(url)
    create_schema(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(schema.source_state).values(source=clear, watermark="20240101000000"))
    engine.dispose()
    assert read_watermark(Settings.from_env(warehouse_url=url, data_dir=tmp_path), one) == "20240101000000"
