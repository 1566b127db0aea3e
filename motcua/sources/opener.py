"""Open a source from its command-line form (the one place that knows every kind)."""

from __future__ import annotations

from pathlib import Path

from motcua.sources.base import Source
from motcua.sources.limits import Limits


def open_source(spec: str, limits: Limits | None = None, **options: object) -> Source:
    """Open a source from its command-line form.

    * a folder: an export bundle;
    * ``http://…`` / ``https://…``: the one-stop system's HTTP API;
    * a SQLAlchemy URL (``mysql+pymysql://…``, ``postgresql+psycopg://…``, ``sqlite:///…``): its database;
    * a ``.xlsx`` / ``.csv`` file: a vendor's spreadsheet export;
    * ``raw:<data_dir>/raw``: the raw landing zone, replayed.

    ``limits`` (default: from the ``MOTCUA_*`` settings) bound what the source may make
    the pipeline hold (:mod:`motcua.sources.limits`); the raw zone, written by the
    pipeline itself, is replayed as it is. ``spec`` may be a redacted URL
    (``user:***@``): its password is found by :func:`motcua.redact.reveal` here, where
    the source is opened.
    """
    from motcua.redact import reveal

    spec = reveal(spec)
    if spec.startswith("raw:"):
        from motcua.sources.replay import ReplaySource

        return ReplaySource(spec[4:], **options)  # type: ignore[arg-type]
    if spec.startswith(("http://", "https://")):
        from motcua.settings import Settings
        from motcua.sources.http import HttpSource

        page_size = Settings.from_env().http_page_size
        if page_size:
            options.setdefault("page_size", page_size)
        return HttpSource(spec, limits=limits, **options)  # type: ignore[arg-type]
    if "://" in spec:
        from motcua.sources.database import DatabaseSource

        return DatabaseSource(spec, limits=limits, **options)  # type: ignore[arg-type]
    path = Path(spec)
    if path.suffix.lower() in {".xlsx", ".csv"}:
        from motcua.sources.spreadsheet import SpreadsheetSource

        return SpreadsheetSource(path, limits=limits, **options)  # type: ignore[arg-type]
    if path.is_dir():
        from motcua.sources.bundle import BundleSource

        return BundleSource(path, limits=limits)
    raise ValueError(
        f"cannot open source {spec!r}: expected an export bundle folder, an http(s):// URL, "
        "a SQLAlchemy database URL or a .xlsx/.csv file"
    )
