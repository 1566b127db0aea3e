"""A run: its private folder, its ``audit.run`` row, the note a failure leaves, and the
test hook that pauses a stage."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from motcua.redact import conceal, redact_url, reveal, scrub
from motcua.settings import Settings, pause_hook, pseudonym_key
from warehouse import locks, schema
from warehouse.engine import make_engine
from warehouse.engine import private_dir as _private_dir

log = logging.getLogger("motcua")


MARTS_STALE = "marts_stale"
"""audit.run status: the run may have changed the core and its marts are not published yet."""
MARTS_HEALED = "healed"
"""audit.run status: a stale run whose periods a later run rebuilt and published."""

@dataclass
class Run:
    """Where one run keeps its files, and what it has counted so far.

    ``source`` and ``warehouse_url`` are held redacted (a password as ``***``, see
    :func:`motcua.redact.conceal`): a Run is passed to Prefect tasks and to the Dask
    subflow (whose parameters Prefect stores), and returned in flow results."""

    run_id: str
    run_dir: Path
    source: str
    warehouse_url: str
    started_at: dt.datetime
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.source = conceal(self.source)  # type: ignore[assignment]
        self.warehouse_url = conceal(self.warehouse_url)  # type: ignore[assignment]

    def as_dict(self) -> dict:
        d = asdict(self)
        d["run_dir"] = str(self.run_dir)
        d["started_at"] = self.started_at.isoformat()
        return d


def frame_private(df: pd.DataFrame, path: Path) -> None:
    """``df`` written as Parquet to ``path``, owner-only (0600) like everything in a run folder."""
    df.to_parquet(path, index=False)
    os.chmod(path, 0o600)


def write_private(table: pa.Table, path: Path) -> None:
    _private_dir(path.parent)
    pq.write_table(table, path)
    os.chmod(path, 0o600)


def new_run(settings: Settings, source: str, run_id: str | None = None) -> Run:
    """A new run and its private folder. Fails at once (before any personal data is
    written to disk) when the pseudonymisation key is missing."""
    pseudonym_key()
    now = dt.datetime.now()
    rid = run_id or f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    run_dir = _private_dir(Path(settings.data_dir) / "runs" / rid)
    return Run(rid, run_dir, source, settings.warehouse_url, now)


def source_name(spec: str, legacy: bool = False) -> str:
    """A stable, file-system safe name for a source (used in the raw zone and watermarks):
    a digest of the spec with its password hidden (a secret's digest, even cut short,
    would let anyone who reads the raw zone's folder names or audit.source_state confirm
    a guessed password; and a rotated password is still the same source). ``legacy``:
    the digest of the spec in clear, as earlier releases named sources (a watermark
    stored under that name is still found, see :func:`read_watermark`)."""
    if spec.startswith("raw:"):
        return "replay"
    kind = "http" if spec.startswith(("http://", "https://")) else "db" if "://" in spec else "file"
    if kind == "file":
        kind = "bundle" if Path(spec).is_dir() else "sheet"
        spec = str(Path(spec).resolve())
    else:
        spec = reveal(spec) if legacy else redact_url(spec)
    digest = hashlib.sha256(spec.encode()).hexdigest()[:10]
    return f"{kind}-{digest}"


def legacy_name(spec: str) -> str | None:
    """:func:`source_name` as earlier releases made it; None when the password is not known here."""
    try:
        return source_name(spec, legacy=True)
    except Exception:  # noqa: BLE001 - a hidden password this process cannot reveal
        return None


def record_run(conn: sa.Connection, run: Run, status: str, message: str | None = None) -> None:
    t = schema.run
    conn.execute(t.delete().where(t.c.run_id == run.run_id))
    conn.execute(t.insert().values(
        run_id=run.run_id, flow="run", source=source_name(run.source), started_at=run.started_at,
        finished_at=dt.datetime.now(), status=status, records_read=run.counts.get("records_read"),
        records_loaded=run.counts.get("records_loaded"), records_quarantined=run.counts.get("records_quarantined"),
        dossiers_changed=run.counts.get("dossiers_changed"), message=message))


def run_message(value: str | None) -> dict:
    if not value:
        return {}
    try:
        out = json.loads(value)
    except ValueError:
        return {"text": value}
    return out if isinstance(out, dict) else {"text": value}


def write_run_row(conn: sa.Connection, run: Run, *, flow: str, source: str, status: str,
                   message: dict, counts: dict) -> None:
    t = schema.run
    conn.execute(t.delete().where(t.c.run_id == run.run_id))
    conn.execute(t.insert().values(
        run_id=run.run_id, flow=flow, source=source, started_at=run.started_at, finished_at=None, status=status,
        records_read=counts.get("records_read"), records_loaded=counts.get("records_loaded"),
        records_quarantined=counts.get("records_quarantined"), dossiers_changed=counts.get("dossiers_changed"),
        message=json.dumps(message, ensure_ascii=False)))


def note_failure(run: Run, settings: Settings, error: BaseException | str, flow: str = "run",
                 source: str | None = None) -> None:
    """Best effort: record why a run failed in audit.run. A run left ``marts_stale``
    keeps that status (its periods are still to rebuild); a run with no row gets a
    ``failed`` one; a row another stage already wrote (e.g. ``failed`` by load_core) stays."""
    t = schema.run
    text = scrub(error)[:2000] or type(error).__name__
    engine = make_engine(settings.warehouse_url)
    try:
        with locks.write_transaction(engine, "record the failure", check=False) as conn:
            found = conn.execute(sa.select(t.c.status, t.c.message).where(t.c.run_id == run.run_id)).all()
            row = found[0] if found else None
            if row is None:
                write_run_row(conn, run, flow=flow, source=source or source_name(run.source), status="failed",
                               message={"error": text}, counts=run.counts)
                conn.execute(t.update().where(t.c.run_id == run.run_id).values(finished_at=dt.datetime.now()))
            elif row.status == MARTS_STALE:
                conn.execute(t.update().where(t.c.run_id == run.run_id).values(
                    message=json.dumps({**run_message(row.message), "error": text}, ensure_ascii=False)))
    except Exception as exc:  # noqa: BLE001 - recording the failure must not hide it
        log.warning("could not record the failure of run %s in audit.run: %s", run.run_id, exc)
    finally:
        engine.dispose()


def pause_for_test(stage_name: str) -> None:
    """Test hook, inert in production: when ``MOTCUA_TEST_PAUSE_AT`` names this stage,
    write the stage's name to ``MOTCUA_TEST_PAUSE_FILE`` (if set) and sleep
    ``MOTCUA_TEST_PAUSE_SECONDS`` (default 600) so that a test can kill the run there."""
    at, marker, seconds = pause_hook()
    if at != stage_name:
        return
    if marker:
        Path(marker).write_text(stage_name, encoding="utf-8")
    time.sleep(seconds)
