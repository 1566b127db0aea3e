"""Fill a one-stop system's database from an export bundle, for tests, benchmarks and
demos: :func:`load_bundle_into_database` creates the tables
:class:`motcua.sources.database.DatabaseSource` reads (``ho_so``, ``qua_trinh_xu_ly``,
``thu_tuc``, ``don_vi``; grain: one ``ho_so`` row per dossier, one ``qua_trinh_xu_ly``
row per history entry) and writes each dossier's current snapshot into them."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from motcua.redact import redact_url
from motcua.sources.base import AGENCY_COLUMNS, PROCEDURE_COLUMNS
from motcua.sources.bundle import BundleSource
from motcua.sources.database import (
    BOOL_COLUMNS,
    HISTORY_COLUMNS,
    HO_SO_COLUMNS,
    INT_COLUMNS,
    JSON_COLUMNS,
    STAMP_COLUMNS,
)
from motcua.sources.stamps import contract_stamp

log = logging.getLogger(__name__)


def _schema(metadata: sa.MetaData) -> dict[str, sa.Table]:
    code = sa.String(191)
    stamp = sa.String(40)
    kw = {"mysql_charset": "utf8mb4", "mariadb_charset": "utf8mb4"}
    types: dict[str, sa.types.TypeEngine[Any]] = {}
    for c in HO_SO_COLUMNS:
        if c in INT_COLUMNS:
            types[c] = sa.Integer()
        elif c in BOOL_COLUMNS:
            types[c] = sa.Boolean()
        elif c in STAMP_COLUMNS:
            types[c] = stamp
        elif c in {"MaTTHC", "MaLinhVuc", "MaDonVi", "SoGiayToChuHoSo", "SoDienThoai"}:
            types[c] = code
        else:
            types[c] = sa.Text()
    ho_so = sa.Table(
        "ho_so", metadata,
        sa.Column("MaHoSo", code, primary_key=True),
        *[sa.Column(c, types[c]) for c in HO_SO_COLUMNS[1:]],
        sa.Index("ix_ho_so_NgayCapNhat", "NgayCapNhat"),
        **kw,
    )
    qua_trinh = sa.Table(
        "qua_trinh_xu_ly", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("MaHoSo", code, nullable=False, index=True),
        sa.Column("TrangThai", sa.Integer),
        sa.Column("ThoiDiemXuLy", stamp),
        sa.Column("DonViXuLy", code),
        sa.Column("PhongBanXuLy", sa.Text),
        sa.Column("NguoiXuLy", sa.Text),
        sa.Column("NoiDungXuLy", sa.Text),
        **kw,
    )
    thu_tuc = sa.Table("thu_tuc", metadata, *[sa.Column(c, sa.Text) for c in PROCEDURE_COLUMNS], **kw)
    don_vi = sa.Table("don_vi", metadata, *[sa.Column(c, sa.Text) for c in AGENCY_COLUMNS], **kw)
    return {"ho_so": ho_so, "qua_trinh_xu_ly": qua_trinh, "thu_tuc": thu_tuc, "don_vi": don_vi}


def _fit(column: str, value: Any) -> tuple[Any, bool]:
    """A snapshot value as stored in its column; (value, True) when it had to be changed."""
    if value is None:
        return None, False
    if column in INT_COLUMNS:
        if isinstance(value, int) and not isinstance(value, bool):
            return value, False
        try:
            return int(str(value).strip()), True
        except ValueError:
            return None, True
    if column in BOOL_COLUMNS:
        if isinstance(value, bool):
            return value, False
        return (bool(value) if isinstance(value, (int, float)) else None), True
    if column in JSON_COLUMNS:
        return json.dumps(value, ensure_ascii=False), False
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False), True
    if isinstance(value, str):
        return value, False
    return str(value), True


def load_bundle_into_database(
    bundle_path: Path | str, url: str, *, replace: bool = False, batch_rows: int = 2000
) -> dict[str, int]:
    """Create the one-stop tables at ``url`` and fill them from an export bundle.

    For tests and demos. ``ho_so`` gets each dossier's current snapshot (the greatest
    ``NgayCapNhat`` as a local instant; the first one read on a tie), ``qua_trinh_xu_ly``
    its history entries in order, ``thu_tuc``/``don_vi`` the bundle's CSVs. Lines that
    are not JSON objects or lack ``MaHoSo`` or a readable ``NgayCapNhat`` are skipped;
    fields outside the contract are dropped; values that do not fit their column's type
    are converted (or stored as NULL) and counted. Existing tables are an error unless
    ``replace`` (then they are dropped first).

    Returns counts: ``ho_so``, ``qua_trinh_xu_ly``, ``thu_tuc``, ``don_vi``,
    ``skipped_lines``, ``converted_values``.
    """
    bundle = BundleSource(bundle_path)
    current: dict[str, tuple[str, dict[str, Any]]] = {}
    skipped = 0
    for batch in bundle.iter_records():
        for line in batch.column("record").to_pylist():
            try:
                snap = json.loads(line)
            except ValueError:
                skipped += 1
                continue
            if not isinstance(snap, dict) or not isinstance(snap.get("MaHoSo"), (str, int)):
                skipped += 1
                continue
            stamp = contract_stamp(snap.get("NgayCapNhat"))
            if stamp is None:
                skipped += 1
                continue
            code = str(snap["MaHoSo"])
            if code not in current or stamp > current[code][0]:
                current[code] = (stamp, snap)

    engine = sa.create_engine(url)
    try:
        metadata = sa.MetaData()
        tables = _schema(metadata)
        existing = set(sa.inspect(engine).get_table_names()) & set(tables)
        if existing and not replace:
            raise ValueError(f"tables {sorted(existing)} already exist at the target; pass replace=True")
        metadata.drop_all(engine, checkfirst=True)
        metadata.create_all(engine)
        converted = 0
        counts = {"ho_so": 0, "qua_trinh_xu_ly": 0}
        with engine.begin() as conn:
            rows: list[dict[str, Any]] = []
            entries: list[dict[str, Any]] = []

            def flush() -> None:
                if rows:
                    conn.execute(tables["ho_so"].insert(), rows)
                    counts["ho_so"] += len(rows)
                    rows.clear()
                if entries:
                    conn.execute(tables["qua_trinh_xu_ly"].insert(), entries)
                    counts["qua_trinh_xu_ly"] += len(entries)
                    entries.clear()

            for code, (_, snap) in current.items():
                row: dict[str, Any] = {"MaHoSo": code}
                for c in HO_SO_COLUMNS[1:]:
                    row[c], changed = _fit(c, snap.get(c))
                    converted += changed
                rows.append(row)
                history = snap.get("QuaTrinhXuLy")
                for entry in history if isinstance(history, list) else []:
                    if not isinstance(entry, dict):
                        converted += 1
                        continue
                    e: dict[str, Any] = {"MaHoSo": code}
                    for c in HISTORY_COLUMNS:
                        e[c], changed = _fit(c, entry.get(c))
                        converted += changed
                    entries.append(e)
                if len(rows) >= batch_rows or len(entries) >= batch_rows * 4:
                    flush()
            flush()
            for name, read in (("thu_tuc", bundle.read_procedures), ("don_vi", bundle.read_agencies)):
                try:
                    frame = read()
                except FileNotFoundError:
                    counts[name] = 0
                    continue
                records = [
                    {k: (None if pd.isna(v) else str(v)) for k, v in rec.items()}
                    for rec in frame.to_dict(orient="records")
                ]
                if records:
                    conn.execute(tables[name].insert(), records)
                counts[name] = len(records)
    finally:
        engine.dispose()
    counts.update(skipped_lines=skipped, converted_values=converted)
    log.info("loaded %s into %s: %s", bundle_path, redact_url(url), counts)
    return counts
