"""A dry run: what a loading flow would read and rebuild, from what the warehouse
already knows, writing nothing (no run folder, no raw zone, no migration, no
``audit.run`` row; a missing DuckDB file is not created).

Known before reading the source: the source's name and watermark (so what ``nightly``
would ask for), a backfill's range, the runs left ``marts_stale`` whose periods the
next run rebuilds, and whether every period is rebuilt (no published marts, or the
transforms changed since the last publish). Not known before reading: which dossiers
changed (their periods are added to the plan) and whether the catalogue changed (a
changed catalogue rebuilds every period)."""

from __future__ import annotations

import datetime as dt

from flows.stages.runs import legacy_name, source_name
from motcua.redact import redact_url
from motcua.settings import Settings
from transforms import watermark
from transforms.partitions import (
    intervals_from_json,
    intervals_to_json,
    merge_intervals,
    rebuild_reason,
)
from warehouse import audit
from warehouse.engine import connected
from warehouse.reads import marts_empty, marts_fingerprint
from warehouse.status import absent


def preview(settings: Settings, spec: str, *, flow: str, incremental: bool = True,
            date_from: dt.date | None = None, date_to: dt.date | None = None, replay: bool = False,
            rebuild_all: bool = False) -> dict:
    """What the ``flow`` run would do (JSON-able): ``source``, ``reads`` (a sentence),
    ``since``, ``stale_runs`` and their ``stale_spans``, ``rebuild`` (a sentence),
    ``warehouse`` (redacted) and ``warehouse_missing`` (why there is none yet)."""
    name = source_name(spec)
    missing = absent(settings.warehouse_url)
    mark = stale = spans = reason = None
    if missing is None:
        with connected(settings.warehouse_url) as conn:  # read only: no migration
            mark = audit.watermark(conn, name)
            if mark is None and legacy_name(spec) not in (None, name):
                mark = audit.watermark(conn, legacy_name(spec))
            stale = audit.stale_runs(conn)
            published = audit.run_message(audit.last_completed_message(conn)).get("marts_fingerprint")
            reason = rebuild_reason(rebuild_all=rebuild_all, marts_empty=marts_empty(conn), published=published,
                                    fingerprint=marts_fingerprint(conn))
        if mark is not None:
            mark, _ = watermark.capped(mark, watermark.run_clock_stamp(dt.datetime.now()))
        spans = merge_intervals([iv for _, message in stale
                                 for iv in intervals_from_json(audit.run_message(message).get("old_spans", []))])
    else:
        reason = "no published marts"
    if flow == "backfill":
        since = None if replay else f"{date_from:%Y%m%d}000000"
        reads = (f"the raw zone's files extracted {date_from} → {date_to}" if replay
                 else f"every change at the source since {date_from} (up to today; the range {date_from} → "
                      f"{date_to} is rebuilt)")
    elif incremental:
        since = mark
        reads = f"the changes since the watermark {mark}" if mark else "everything (no watermark stored yet)"
    else:
        since = None
        reads = "everything the source holds"
    if reason:
        rebuild = f"every mart period ({reason})"
    else:
        parts = ["the periods the changed dossiers touch (known after reading)"]
        if flow == "backfill":
            parts.append(f"the periods of {date_from} → {date_to}")
        if stale:
            parts.append(f"the periods of {len(stale)} interrupted run(s) ({', '.join(r for r, _ in stale)})")
        rebuild = "; ".join(parts) + "; every period if the catalogue or agencies changed"
    return {"flow": flow, "source": name, "reads": reads, "since": since,
            "stale_runs": [r for r, _ in stale or []],
            "stale_spans": intervals_to_json(spans or []),
            "rebuild": rebuild, "warehouse": redact_url(settings.warehouse_url), "warehouse_missing": missing}
