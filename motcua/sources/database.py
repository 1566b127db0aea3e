"""Database source: the one-stop system's own tables, through any SQLAlchemy URL.

Tables (domain.md section 2), with the contract's names as column names:

* ``ho_so`` -- one row per dossier, its current state: the snapshot's fields without
  ``QuaTrinhXuLy``; ``DanhSachHoSoBoSung`` is a JSON text column;
* ``qua_trinh_xu_ly`` -- ``MaHoSo`` plus the history entry's fields, one row per entry;
* ``thu_tuc`` -- the procedure catalogue (``procedures.csv`` columns);
* ``don_vi`` -- the agencies (``agencies.csv`` columns).

Values are stored in the contract's formats: timestamps as ``yyyyMMddHHmmss`` strings
(``DATETIME`` columns are accepted too and formatted back), ints as ints, booleans as
booleans. Columns the tables lack are left out of the records; extra columns are
ignored.

:meth:`DatabaseSource.iter_records` reads ``ho_so`` rows with ``NgayCapNhat >= since``
minus ``overlap_seconds`` (default 3600, as the HTTP source: a transaction that commits
late with an older stamp is still read the next night), and every row whose
``NgayCapNhat`` is NULL or unreadable (passed on as it is, so that staging quarantines it
with its reason ``updated_at_invalid`` instead of it being dropped unseen),
through a server-side cursor (``stream_results``), ``chunk_size`` rows at a time, looks up
each chunk's history entries on a second connection, and yields one batch per chunk:
each record is the dossier's snapshot reassembled as JSON (``ho_so`` row + its
``qua_trinh_xu_ly`` entries in stored order), locator ``ho_so:<MaHoSo>``. The whole
table is never in memory.

Tests and demos create and fill these tables from an export bundle with
:func:`motcua.dev.database_loader.load_bundle_into_database`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pandas as pd
import sqlalchemy as sa

from motcua.sources.base import (
    AGENCY_COLUMNS,
    PROCEDURE_COLUMNS,
    RawBatch,
    conform_catalogue,
    make_batch,
)
from motcua.sources.limits import Limits
from motcua.sources.stamps import contract_stamp, shift_stamp

log = logging.getLogger(__name__)

#: ``ho_so`` columns in the snapshot's order (the snapshot's fields without QuaTrinhXuLy).
HO_SO_COLUMNS: list[str] = [
    "MaHoSo", "MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "MaDonVi", "KenhThucHien",
    "NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "TrangThaiHoSo",
    "NgayCapNhat", "NgayTuChoi", "LoaiDoiTuong", "ChuHoSo", "SoGiayToChuHoSo", "SoDienThoai",
    "Email", "DiaChi", "DanhGia", "DuocThanhToanTrucTuyen", "HoSoCoThanhPhanSoHoa",
    "DanhSachHoSoBoSung",
]
HISTORY_COLUMNS: list[str] = [
    "TrangThai", "ThoiDiemXuLy", "DonViXuLy", "PhongBanXuLy", "NguoiXuLy", "NoiDungXuLy",
]
INT_COLUMNS = frozenset({"KenhThucHien", "TrangThaiHoSo", "LoaiDoiTuong", "DanhGia", "TrangThai"})
BOOL_COLUMNS = frozenset({"DuocThanhToanTrucTuyen", "HoSoCoThanhPhanSoHoa"})
JSON_COLUMNS = frozenset({"DanhSachHoSoBoSung"})
STAMP_COLUMNS = frozenset(
    {"NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "NgayCapNhat",
     "NgayTuChoi", "ThoiDiemXuLy"}
)
IN_LIST_MAX = 1000


def _value(column: str, value: Any) -> Any:
    """A database value back in the contract's JSON form."""
    if isinstance(value, (dt.datetime, dt.date)):
        return contract_stamp(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode("utf-8", errors="replace")
    if column in BOOL_COLUMNS and isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
        return bool(value)
    if column in JSON_COLUMNS and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _row_dict(names: list[str], row: Any) -> dict[str, Any]:
    """A row as a contract dict: NULLs left out, plain strings and ints as they are."""
    out: dict[str, Any] = {}
    for n, v in zip(names, row, strict=True):
        if v is None:
            continue
        t = type(v)
        if (t is str and n not in JSON_COLUMNS) or (t is int and n not in BOOL_COLUMNS):
            out[n] = v
        else:
            out[n] = _value(n, v)
    return out


class DatabaseSource:
    """The one-stop system's database (see the module docstring).

    ``url`` is any SQLAlchemy URL (``mysql+pymysql://user@host/db``,
    ``postgresql+psycopg://…``, ``sqlite:///file``); ``chunk_size`` is the number of
    ``ho_so`` rows fetched and yielded at a time; ``overlap_seconds`` how far before
    ``since`` to start reading (late commits with older stamps); other keyword arguments
    go to :func:`sqlalchemy.create_engine`. ``limits`` (default: from the settings): a
    row whose snapshot is over ``max_record_bytes`` is passed on cut, with a
    ``record_too_large`` error (:mod:`motcua.sources.limits`).
    """

    def __init__(
        self, url: str, chunk_size: int = 5000, overlap_seconds: float = 3600, *, limits: Limits | None = None,
        **engine_options: Any
    ) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        if overlap_seconds < 0:
            raise ValueError("overlap_seconds must not be negative")
        self.url = url
        self.chunk_size = chunk_size
        self.overlap_seconds = overlap_seconds
        #: rows passed on without a readable NgayCapNhat (staging quarantines them)
        self.unstamped = 0
        self.name = "database"
        self.limits = limits if limits is not None else Limits.from_env()
        self._engine_options = engine_options
        self._engine: sa.Engine | None = None

    def __repr__(self) -> str:
        from motcua.redact import redact_url

        return f"DatabaseSource({redact_url(self.url)!r})"

    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine (created on first use)."""
        if self._engine is None:
            self._engine = sa.create_engine(self.url, **self._engine_options)
        return self._engine

    def close(self) -> None:
        """Release the engine's connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _table(self, name: str) -> sa.Table:
        try:
            return sa.Table(name, sa.MetaData(), autoload_with=self.engine)
        except sa.exc.NoSuchTableError:
            raise LookupError(f"{self!r}: table {name!r} not found") from None

    # -- catalogue ----------------------------------------------------------

    def read_procedures(self) -> pd.DataFrame:
        """Table ``thu_tuc`` as the contract's procedure columns (strings)."""
        return self._catalogue("thu_tuc", PROCEDURE_COLUMNS)

    def read_agencies(self) -> pd.DataFrame:
        """Table ``don_vi`` as the contract's agency columns (strings)."""
        return self._catalogue("don_vi", AGENCY_COLUMNS)

    def _catalogue(self, name: str, columns: list[str]) -> pd.DataFrame:
        table = self._table(name)
        cols = [table.c[c] for c in columns if c in table.c]
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*cols)).all()
        df = pd.DataFrame([tuple(r) for r in rows], columns=[c.name for c in cols], dtype=object)
        df = df.map(lambda v: None if v is None else str(_value("", v)))
        return conform_catalogue(df, columns, f"table {name}")

    # -- records ------------------------------------------------------------

    def iter_records(self, since: str | None = None) -> Iterator[RawBatch]:
        """Snapshots of the dossiers with ``NgayCapNhat >= since`` minus the overlap window
        (all when None), and of those whose ``NgayCapNhat`` is NULL or unreadable.

        The SQL filter is a little wider than the lower bound (string columns may hold
        the contract's other timestamp forms: date only, ``Z``/offset, ISO), and rows are
        then kept when their ``NgayCapNhat``, as a local instant, is ``>=`` it. A row
        without a readable ``NgayCapNhat`` cannot be placed in time, so it is never
        filtered out: it is passed on as it is (and counted in :attr:`unstamped`), and
        staging quarantines it (``updated_at_invalid``). Rows that are re-read every
        night that way are quarantined once (the quarantine is keyed by the record).
        Limit: a text value that sorts as an older stamp (it begins ``19``/``20`` and
        is below the bound) but does not parse is not re-read; a full run reads it.
        """
        since_stamp = None
        self.unstamped = 0
        if since is not None:
            since_stamp = contract_stamp(since)
            if since_stamp is None:
                raise ValueError(f"since: not a timestamp: {since!r}")
            since_stamp = shift_stamp(since_stamp, -self.overlap_seconds)
        ho_so = self._table("ho_so")
        history = self._table("qua_trinh_xu_ly")
        if "MaHoSo" not in ho_so.c or "MaHoSo" not in history.c:
            raise LookupError(f"{self!r}: tables ho_so and qua_trinh_xu_ly need a MaHoSo column")
        cols = [ho_so.c[c] for c in HO_SO_COLUMNS if c in ho_so.c]
        stmt = sa.select(*cols)
        if since_stamp is not None and "NgayCapNhat" in ho_so.c:
            stmt = stmt.where(self._since_clause(ho_so.c.NgayCapNhat, since_stamp))
        hist_cols = [history.c[c] for c in HISTORY_COLUMNS if c in history.c]
        # "ordered as stored": by a surrogate key when the table has one
        order_keys = [c for c in history.primary_key.columns if c.name not in HISTORY_COLUMNS and c.name != "MaHoSo"]
        names = [c.name for c in cols]
        with self.engine.connect() as stream, self.engine.connect() as lookup:
            result = stream.execution_options(stream_results=True, yield_per=self.chunk_size).execute(stmt)
            for rows in result.partitions(self.chunk_size):
                dossiers: list[dict[str, Any]] = []
                for row in rows:
                    snap = _row_dict(names, row)
                    stamp = contract_stamp(snap.get("NgayCapNhat"))
                    if stamp is None:
                        self.unstamped += 1  # passed on: staging quarantines it with its reason
                    elif since_stamp is not None and stamp < since_stamp:
                        continue
                    dossiers.append(snap)
                if not dossiers:
                    continue
                entries = self._history(lookup, history, hist_cols, order_keys, dossiers)
                locs, recs = [], []
                for snap in dossiers:
                    code = snap.get("MaHoSo")
                    snap["QuaTrinhXuLy"] = entries.get(code, [])
                    locs.append(f"ho_so:{code}")
                    recs.append(json.dumps(snap, ensure_ascii=False))
                yield make_batch(locs, recs, limits=self.limits)

    @staticmethod
    def _since_clause(column: sa.Column, since_stamp: str) -> sa.ColumnElement[bool]:
        # NULL and unreadable values are always read (staging quarantines them)
        if isinstance(column.type, (sa.DateTime, sa.Date)):
            return sa.or_(column >= dt.datetime.strptime(since_stamp, "%Y%m%d%H%M%S"), column.is_(None))
        # one day of slack covers offsets (Z, ±HH:MM) and date-only values; ISO forms
        # ("2023-01-18...") sort below digits, so they get their own clause; text that
        # sorts above the bound (letters) is read by the first clause, text below "19"
        # (empty, blanks, punctuation, "12/03/…") cannot be a readable stamp
        day = shift_stamp(since_stamp, -86400)
        iso = f"{day[:4]}-{day[4:6]}-{day[6:8]}"
        return sa.or_(
            column >= day[:8],
            sa.and_(column.like("____-%"), column >= iso),
            column.is_(None),
            column < "19",
        )

    @staticmethod
    def _history(
        conn: sa.Connection,
        table: sa.Table,
        cols: list[sa.Column],
        order_keys: list[sa.Column],
        dossiers: list[dict[str, Any]],
    ) -> dict[Any, list[dict[str, Any]]]:
        codes = list({d["MaHoSo"] for d in dossiers if d.get("MaHoSo") is not None})
        out: dict[Any, list[dict[str, Any]]] = {}
        names = [c.name for c in cols]
        for start in range(0, len(codes), IN_LIST_MAX):
            part = codes[start:start + IN_LIST_MAX]
            stmt = sa.select(table.c.MaHoSo, *cols).where(table.c.MaHoSo.in_(part))
            if order_keys:
                stmt = stmt.order_by(*order_keys)
            for row in conn.execute(stmt):
                out.setdefault(row[0], []).append(_row_dict(names, row[1:]))
        return out
