"""A run: its private folder, the name of its source, the note a failure leaves in its
``audit.run`` row (written by :mod:`warehouse.audit`), and the test hook that pauses a
stage."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from motcua.redact import conceal, redact_url, reveal, scrub
from motcua.settings import Settings, check_demo_key, pause_hook, pseudonym_key
from warehouse import audit
from warehouse.engine import private_dir as _private_dir

log = logging.getLogger("motcua")


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
    written to disk) when the pseudonymisation key is missing, or is the demonstration
    key and the source is not the bundled sample (:func:`motcua.settings.check_demo_key`)."""
    check_demo_key(pseudonym_key(), source)
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


def note_failure(run: Run, settings: Settings, error: BaseException | str, flow: str = "run",
                 source: str | None = None) -> None:
    """Best effort: record why a run failed in audit.run (:func:`warehouse.audit.record_failure`:
    a run left ``marts_stale`` keeps that status, a run with no row gets a ``failed``
    one, a row another stage already wrote stays); never raises."""
    text = scrub(error)[:2000] or type(error).__name__
    audit.record_failure(settings.warehouse_url, run, text, flow=flow, source=source or source_name(run.source))


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
