"""The audit tables' statements: a run's row in ``audit.run`` (``marts_stale`` before the
core changes, ``failed``, ``completed``, ``healed``), the quarantined records of
``audit.quarantine`` a load adds and resolves, and a source's incremental watermark in
``audit.source_state``.

Every function but :func:`record_failure` works on the caller's connection, inside the
caller's transaction (a writing one: :mod:`warehouse.locks`), so that a stage's writes
commit together; deciding what to write (statuses, messages, which runs a publish
heals, the watermark's value) is the stages' (:mod:`flows.stages`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from typing import Protocol

import pandas as pd
import sqlalchemy as sa

from transforms import stg_dossier_snapshot
from warehouse import load, schema
from warehouse.engine import make_engine
from warehouse.locks import write_transaction

log = logging.getLogger("motcua")

MARTS_STALE = "marts_stale"
"""audit.run status: the run may have changed the core and its marts are not published yet."""
MARTS_HEALED = "healed"
"""audit.run status: a stale run whose periods a later run rebuilt and published."""


class RunFacts(Protocol):
    """What an ``audit.run`` row records of a run (a :class:`flows.stages.runs.Run`)."""

    run_id: str
    started_at: dt.datetime
    counts: dict[str, int]


# --------------------------------------------------------------------------- audit.run
def run_message(value: str | None) -> dict:
    """An ``audit.run.message`` as a dict (JSON; plain text as ``{"text": ...}``)."""
    if not value:
        return {}
    try:
        out = json.loads(value)
    except ValueError:
        return {"text": value}
    return out if isinstance(out, dict) else {"text": value}


def record_run(conn: sa.Connection, run: RunFacts, *, source: str, status: str, message: str | None = None) -> None:
    """Write the run's ``audit.run`` row (one row per ``run_id``, replaced), finished now,
    flow ``run``, with the run's counts."""
    t = schema.run
    conn.execute(t.delete().where(t.c.run_id == run.run_id))
    conn.execute(t.insert().values(
        run_id=run.run_id, flow="run", source=source, started_at=run.started_at,
        finished_at=dt.datetime.now(), status=status, records_read=run.counts.get("records_read"),
        records_loaded=run.counts.get("records_loaded"), records_quarantined=run.counts.get("records_quarantined"),
        dossiers_changed=run.counts.get("dossiers_changed"), message=message))


def write_run_row(conn: sa.Connection, run: RunFacts, *, flow: str, source: str, status: str,
                  message: dict, counts: dict) -> None:
    """Write the run's ``audit.run`` row (one row per ``run_id``, replaced), not finished,
    with ``counts`` and ``message`` (as JSON)."""
    t = schema.run
    conn.execute(t.delete().where(t.c.run_id == run.run_id))
    conn.execute(t.insert().values(
        run_id=run.run_id, flow=flow, source=source, started_at=run.started_at, finished_at=None, status=status,
        records_read=counts.get("records_read"), records_loaded=counts.get("records_loaded"),
        records_quarantined=counts.get("records_quarantined"), dossiers_changed=counts.get("dossiers_changed"),
        message=json.dumps(message, ensure_ascii=False)))


def record_failure(warehouse_url: str, run: RunFacts, text: str, *, flow: str, source: str) -> None:
    """Best effort, in a transaction of its own (the write lock's transaction lock only):
    record why a run failed in its ``audit.run`` row. A run left ``marts_stale`` keeps
    that status, ``text`` added to its message; a run with no row gets a ``failed`` one;
    a row another stage already wrote stays. A failure to record is logged, not raised."""
    t = schema.run
    engine = make_engine(warehouse_url)
    try:
        with write_transaction(engine, "record the failure", check=False) as conn:
            found = conn.execute(sa.select(t.c.status, t.c.message).where(t.c.run_id == run.run_id)).all()
            row = found[0] if found else None
            if row is None:
                write_run_row(conn, run, flow=flow, source=source, status="failed", message={"error": text},
                              counts=run.counts)
                conn.execute(t.update().where(t.c.run_id == run.run_id).values(finished_at=dt.datetime.now()))
            elif row.status == MARTS_STALE:
                conn.execute(t.update().where(t.c.run_id == run.run_id).values(
                    message=json.dumps({**run_message(row.message), "error": text}, ensure_ascii=False)))
    except Exception as exc:  # noqa: BLE001 - recording the failure must not hide it
        log.warning("could not record the failure of run %s in audit.run: %s", run.run_id, exc)
    finally:
        engine.dispose()


def record_failed_steps(warehouse_url: str, run_id: str, steps: list[dict]) -> None:
    """Add ``steps`` (``{"step", "error"}``: what failed after the publish) to the run's
    ``audit.run`` message as ``failed_steps``; the run stays ``completed`` (its marts are
    published) and ``motcua status`` reports it unhealthy. Best effort, like
    :func:`record_failure`."""
    t = schema.run
    engine = make_engine(warehouse_url)
    try:
        with write_transaction(engine, "record the failed steps", check=False) as conn:
            row = conn.execute(sa.select(t.c.message).where(t.c.run_id == run_id)).first()
            if row is not None:
                conn.execute(t.update().where(t.c.run_id == run_id).values(message=json.dumps(
                    {**run_message(row.message), "failed_steps": steps}, ensure_ascii=False)))
    except Exception as exc:  # noqa: BLE001 - recording the failure must not hide it
        log.warning("could not record the failed steps of run %s in audit.run: %s", run_id, exc)
    finally:
        engine.dispose()


def complete_run(conn: sa.Connection, run: RunFacts, *, source: str, message: dict, dossiers_changed: int | None,
                 covered: list[str] | None) -> list[str]:
    """Mark the run ``completed`` in ``audit.run`` (its row written if it has none, else
    updated: ``message`` merged into its message), and the other ``marts_stale`` runs it
    covered ``healed`` (``covered``: their ids; None: every one). Returns those ids."""
    t = schema.run
    now = dt.datetime.now()
    found = conn.execute(sa.select(t.c.message).where(t.c.run_id == run.run_id)).all()
    row = found[0] if found else None
    if row is None:
        write_run_row(conn, run, flow="run", source=source, status="completed", message=message, counts=run.counts)
        conn.execute(t.update().where(t.c.run_id == run.run_id).values(finished_at=now))
    else:
        conn.execute(t.update().where(t.c.run_id == run.run_id).values(
            status="completed", finished_at=now, dossiers_changed=dossiers_changed,
            message=json.dumps({**run_message(row.message), **message}, ensure_ascii=False)))
    q = sa.select(t.c.run_id, t.c.message).where(t.c.status == MARTS_STALE, t.c.run_id != run.run_id)
    if covered is not None:
        q = q.where(t.c.run_id.in_(covered or [""]))
    healed = conn.execute(q).all()
    for r in healed:
        conn.execute(t.update().where(t.c.run_id == r.run_id).values(
            status=MARTS_HEALED,
            message=json.dumps({**run_message(r.message), "healed_by": run.run_id}, ensure_ascii=False)))
    return [r.run_id for r in healed]


def stale_runs(conn: sa.Connection) -> list[tuple[str, str | None]]:
    """(run_id, message) of every run left ``marts_stale``."""
    t = schema.run
    return [(r.run_id, r.message) for r in conn.execute(
        sa.select(t.c.run_id, t.c.message).where(t.c.status == MARTS_STALE)).all()]


def last_completed_run(conn: sa.Connection) -> str | None:
    """The id of the run that completed last (whose marts are the published ones)."""
    t = schema.run
    rows = conn.execute(sa.select(t.c.run_id).where(t.c.status == "completed")
                        .order_by(t.c.finished_at.desc()).limit(1)).all()
    return rows[0][0] if rows else None


def last_completed_message(conn: sa.Connection) -> str | None:
    """The ``audit.run`` message of the run that completed last (None: no such run)."""
    t = schema.run
    last = conn.execute(sa.select(t.c.run_id, t.c.message).where(t.c.status == "completed")
                        .order_by(t.c.finished_at.desc()).limit(1)).all()
    return last[0].message if last else None


# --------------------------------------------------------------------------- audit.quarantine
def quarantine_id(source: str, locator: str, record: str) -> str:
    """A quarantined record's key in ``audit.quarantine``: the digest of its source, its
    place in the source and its text (the same record read again finds its row)."""
    return hashlib.sha256(f"{source}\x00{locator}\x00{record}".encode("utf-8", "surrogatepass")).hexdigest()


def insert_quarantine(conn: sa.Connection, quarantine: pd.DataFrame) -> None:
    """Add a run's quarantined records to ``audit.quarantine`` (one row per
    ``quarantine_id``, :func:`quarantine_id`): a record already there keeps its row, so a
    resolved one stays resolved; an open one takes the reason it fails with now (the
    rules or the catalogue may have changed since)."""
    t = schema.quarantine
    known: dict[str, tuple[str | None, str | None]] = {}
    ids = quarantine["quarantine_id"].tolist()
    for start in range(0, len(ids), 5000):
        rows = conn.execute(sa.select(t.c.quarantine_id, t.c.reason, t.c.resolved_run_id)
                            .where(t.c.quarantine_id.in_(ids[start:start + 5000])))
        known.update((r[0], (r[1], r[2])) for r in rows)
    again = quarantine[quarantine["quarantine_id"].isin(known)]
    for qid, reason in zip(again["quarantine_id"], again["reason"], strict=True):
        old_reason, resolved = known[qid]
        if resolved is None and reason != old_reason:
            conn.execute(t.update().where(t.c.quarantine_id == qid).values(reason=reason))
    load.insert(conn, t, quarantine[~quarantine["quarantine_id"].isin(known)])


def correct_quarantine(conn: sa.Connection, corrections: pd.DataFrame) -> None:
    """Give open rows their corrected record (a quarantine retry's ``--from-file``):
    ``quarantine_id`` (the row), ``new_id`` (:func:`quarantine_id` of the corrected
    text) and ``record`` (the corrected text). The row keeps its place, its reason and
    its history; the run that re-reads the record then resolves it or gives it its new
    reason like any other."""
    t = schema.quarantine
    for qid, new_id, record in zip(corrections["quarantine_id"], corrections["new_id"], corrections["record"],
                                   strict=True):
        conn.execute(t.update().where(t.c.quarantine_id == qid, t.c.resolved_run_id.is_(None))
                     .values(quarantine_id=new_id, record=record))


def open_quarantine(conn: sa.Connection, source: str) -> dict[tuple[str, str], list[str]]:
    """The open quarantine rows of ``source`` by (locator, hash of the record text)."""
    t = schema.quarantine
    rows = load.read_frame(conn, sa.select(t.c.quarantine_id, t.c.locator, t.c.record).where(
        t.c.source == source, t.c.resolved_run_id.is_(None)))
    out: dict[tuple[str, str], list[str]] = {}
    for qid, loc, rec in zip(rows["quarantine_id"], rows["locator"], rows["record"], strict=True):
        out.setdefault((str(loc), stg_dossier_snapshot.record_hash(str(rec))), []).append(qid)
    return out


def resolve_quarantine(conn: sa.Connection, run_id: str, fixed: list[str]) -> None:
    """Mark the quarantine rows ``fixed`` resolved by ``run_id`` (their record loaded in
    that run: the same text at the same place, now accepted)."""
    t = schema.quarantine
    for start in range(0, len(fixed), 5000):
        conn.execute(t.update().where(t.c.quarantine_id.in_(fixed[start:start + 5000])).values(
            resolved_run_id=run_id))


# --------------------------------------------------------------------------- audit.source_state
def watermark(conn: sa.Connection, source: str) -> str | None:
    """The watermark stored for ``source`` (a source name), as stored."""
    t = schema.source_state
    return conn.execute(sa.select(t.c.watermark).where(t.c.source == source)).scalar()


def store_watermark(conn: sa.Connection, source: str, mark: str, *, ceiling: str, run_id: str) -> None:
    """Store ``mark`` as the watermark of ``source`` in ``audit.source_state`` (one row per
    source, replaced), unless the stored one is already at or past ``mark`` and not past
    ``ceiling`` (a stored mark past the clock, written before the cap, is healed)."""
    t = schema.source_state
    old = conn.execute(sa.select(t.c.watermark).where(t.c.source == source)).scalar()
    if old and mark <= old <= ceiling:
        return
    conn.execute(t.delete().where(t.c.source == source))
    conn.execute(t.insert().values(source=source, watermark=mark, updated_at=dt.datetime.now(), run_id=run_id))
