"""What the warehouse says about its own state, for ``motcua status`` and the read
commands: whether a warehouse is there at all (:func:`absent`: asked before any engine
is made, so a missing DuckDB file is never created by a read), the last run of each
flow, each source's watermark, when the marts were last published and how many
quarantined records are open (:func:`read_status`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from warehouse import schema
from warehouse.audit import run_message
from warehouse.engine import connected


def absent(url: str) -> str | None:
    """Why there is no warehouse to read at ``url`` (one line), or None when there is one
    with motcua's tables. A DuckDB file that does not exist is reported, never created;
    a server warehouse without ``audit.run`` is reported as not set up."""
    from motcua.redact import redact_url, reveal

    try:
        parsed = make_url(reveal(url))
    except (sa.exc.ArgumentError, ValueError):
        return f"warehouse URL {redact_url(url)!r} is not a SQLAlchemy URL (e.g. duckdb:///var/warehouse.duckdb)"
    db = parsed.database
    if parsed.get_backend_name() == "duckdb" and db and db != ":memory:" and not db.startswith(("md:", "motherduck:")):
        path = Path(db).expanduser()
        if not path.is_file():
            return f"no warehouse at {path}: run `motcua run` (or `motcua nightly`) first, or pass --warehouse"
    with connected(url) as conn:
        if not sa.inspect(conn).has_table(schema.run.name, schema=schema.run.schema):
            return (f"the warehouse at {redact_url(url)} has no motcua tables yet: run `motcua run` "
                    "(or `motcua warehouse upgrade`) first")
    return None


def _iso(value: object) -> str | None:
    return None if value is None else value.isoformat(sep=" ", timespec="seconds")  # type: ignore[attr-defined]


def _watermark_time(mark: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(mark, "%Y%m%d%H%M%S") if mark else None
    except ValueError:
        return None


def read_status(conn: sa.Connection, now: dt.datetime, stale_hours: float) -> dict:
    """The warehouse's state at ``now``: ``runs`` (the latest run of each flow: when,
    seconds taken, status, records read/loaded/quarantined, dossiers changed, the
    error or source faults its message records), ``sources`` (watermark, when it was
    stored, its age in hours and ``stale`` when older than ``stale_hours``),
    ``marts_published_at`` (the last completed run) and ``quarantine_open`` per source."""
    r = schema.run
    latest = sa.select(r.c.flow, sa.func.max(r.c.started_at).label("started_at")).group_by(r.c.flow).subquery()
    rows = conn.execute(sa.select(r).join(latest, (r.c.flow == latest.c.flow) & (r.c.started_at == latest.c.started_at))
                        .order_by(r.c.flow)).all()
    runs = []
    for row in rows:
        message = run_message(row.message)
        took = (row.finished_at - row.started_at).total_seconds() if row.finished_at and row.started_at else None
        runs.append({"flow": row.flow, "run_id": row.run_id, "source": row.source, "status": row.status,
                     "started_at": _iso(row.started_at), "finished_at": _iso(row.finished_at),
                     "seconds": None if took is None else round(took, 1),
                     "records_read": row.records_read, "records_loaded": row.records_loaded,
                     "records_quarantined": row.records_quarantined, "dossiers_changed": row.dossiers_changed,
                     "error": message.get("error"), "source_faults": message.get("source_faults") or [],
                     "failed_steps": message.get("failed_steps") or []})
    s = schema.source_state
    sources = []
    for row in conn.execute(sa.select(s).order_by(s.c.source)).all():
        mark = _watermark_time(row.watermark)
        hours = None if mark is None else (now - mark).total_seconds() / 3600
        sources.append({"source": row.source, "watermark": row.watermark, "stored_at": _iso(row.updated_at),
                        "run_id": row.run_id, "age_hours": None if hours is None else round(hours, 1),
                        "stale": hours is not None and hours > stale_hours})
    published = conn.execute(sa.select(sa.func.max(r.c.finished_at)).where(r.c.status == "completed")).scalar()
    q = schema.quarantine
    open_by_source = {src: int(n) for src, n in conn.execute(
        sa.select(q.c.source, sa.func.count()).where(q.c.resolved_run_id.is_(None)).group_by(q.c.source)).all()}
    return {"runs": runs, "sources": sources, "marts_published_at": _iso(published),
            "quarantine_open": open_by_source, "stale_hours": stale_hours}
