"""stg_dossier_snapshot: one row per raw record (line, row or API item) read from a source.

Staging only parses and renames: the raw JSON text becomes typed-as-text columns in
the contract's meaning (English names), with the record's processing history split
out into :func:`history` rows (one row per history entry of each record). Business
rules (milestones, due dates, quarantine reasons) live in ``int_dossier_record``.

:func:`build` works a column at a time: each record's text is hashed and parsed
(orjson) straight from the Arrow buffer, a small block of records at a time, and the
fields' values go to Arrow a chunk at a time, where they are made text, stripped and
nulled for the whole column (:func:`transforms.snapshot_columns.build_columns`). Records
it does not take (a source error, text that is not a JSON object, a null record) go
through :func:`build_reference`, the plain per-record loop that states the rules (and
was the whole of ``build`` before), so the output is the same either way;
``tests/transforms/test_staging_equivalence.py`` holds the two to it on messy input.
"""

from __future__ import annotations

import hashlib
import json

try:  # orjson (a Prefect dependency) parses 2-3x faster; the standard library is the fallback
    from orjson import JSONDecodeError as _DecodeError
    from orjson import loads as _loads
except ImportError:  # pragma: no cover
    _loads, _DecodeError = json.loads, json.JSONDecodeError

import pandas as pd
import pyarrow as pa

from transforms.arrow_text import scalar_text
from transforms.snapshot_columns import build_columns

# contract field -> staged column
FIELDS: dict[str, str] = {
    "MaHoSo": "dossier_code",
    "MaTTHC": "procedure_code",
    "TenTTHC": "procedure_name",
    "MaLinhVuc": "field_code",
    "TenLinhVuc": "field_name",
    "MaDonVi": "agency_code",
    "KenhThucHien": "channel_raw",
    "TrangThaiHoSo": "status_raw",
    "NgayNopHoSo": "submitted_raw",
    "NgayTiepNhan": "intake_raw",
    "NgayHenTra": "due_raw",
    "NgayKetThucXuLy": "resolved_raw",
    "NgayTra": "returned_raw",
    "NgayCapNhat": "updated_raw",
    "NgayTuChoi": "refused_raw",
    "LoaiDoiTuong": "applicant_type_raw",
    "SoGiayToChuHoSo": "applicant_id",
    "SoDienThoai": "phone",
    "Email": "email",
    "DanhGia": "rating_raw",
    "DuocThanhToanTrucTuyen": "paid_online_raw",
    "HoSoCoThanhPhanSoHoa": "digitised_raw",
}
# A source error of these kinds is the record's reason as it is (the source's limits,
# motcua.sources.limits: an over-large record, an API item too deeply nested to parse);
# any other becomes "source_error: <error>".
SOURCE_ERROR_KINDS = ("record_too_large:", "invalid_json:")
# Personal data dropped at staging: never needed downstream, never stored.
DROPPED_PERSONAL = ("ChuHoSo", "DiaChi")

HISTORY_FIELDS: dict[str, str] = {
    "TrangThai": "status_raw",
    "ThoiDiemXuLy": "event_raw",
    "DonViXuLy": "agency_code",
    "PhongBanXuLy": "office",
}

STAGED_COLUMNS = [
    "record_id", "locator", "record_hash", "parse_error",
    *FIELDS.values(), "supplement_rounds", "history_count",
]
HISTORY_COLUMNS = ["record_id", "position", *HISTORY_FIELDS.values()]


def record_hash(text: str) -> str:
    """Stable identity of a record's raw text (sha256, hex)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def build(raw: pa.Table | pd.DataFrame, first_record_id: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse raw records into (staged snapshots, history entries).

    ``raw`` has the source contract's columns ``locator, record, error``. Every input
    row gives exactly one staged row; rows whose text is not a JSON object, or that the
    source flagged with an error, carry ``parse_error`` and empty fields.
    """
    out = build_columns(raw, first_record_id, FIELDS, HISTORY_FIELDS, build_reference)
    return out if out is not None else build_reference(raw, first_record_id)


def build_reference(raw: pa.Table | pd.DataFrame, first_record_id: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`build`, one record at a time: the statement of the rules (and the path for
    the records :func:`build` does not take column-wise)."""
    df = raw.to_pandas() if isinstance(raw, pa.Table) else raw
    n = len(df)
    cols: dict[str, list] = {c: [None] * n for c in FIELDS.values()}
    parse_error: list[str | None] = [None] * n
    hashes: list[str] = [""] * n
    rounds: list[int | None] = [None] * n
    hcount: list[int] = [0] * n
    h_rid: list[int] = []
    h_pos: list[int] = []
    h_cols: dict[str, list] = {c: [] for c in HISTORY_FIELDS.values()}
    records = df["record"].tolist()
    errors = df["error"].tolist() if "error" in df.columns else [None] * n
    items = list(FIELDS.items())
    hitems = list(HISTORY_FIELDS.items())
    for i, (text, err) in enumerate(zip(records, errors, strict=True)):
        text = "" if text is None else str(text)
        hashes[i] = record_hash(text)
        if err is not None and not (isinstance(err, float) and pd.isna(err)):
            err = str(err)
            parse_error[i] = err if err.startswith(SOURCE_ERROR_KINDS) else f"source_error: {err}"
            continue
        try:
            obj = _loads(text)
        except (_DecodeError, ValueError, RecursionError) as exc:
            parse_error[i] = f"invalid_json: {exc.__class__.__name__}: {str(exc)[:120]}"
            continue
        if not isinstance(obj, dict):
            parse_error[i] = f"invalid_json: not a JSON object ({type(obj).__name__})"
            continue
        for key, col in items:
            v = obj.get(key)
            if v is None:
                continue
            if type(v) is str:  # the common case, kept out of scalar_text for speed
                v = v.strip()
                if v:
                    cols[col][i] = v
            else:
                cols[col][i] = scalar_text(v)
        sup = obj.get("DanhSachHoSoBoSung")
        rounds[i] = len(sup) if isinstance(sup, list) else 0
        hist = obj.get("QuaTrinhXuLy")
        if isinstance(hist, list):
            hcount[i] = len(hist)
            rid = first_record_id + i
            for pos, entry in enumerate(hist):
                if not isinstance(entry, dict):
                    continue
                h_rid.append(rid)
                h_pos.append(pos)
                for key, col in hitems:
                    v = entry.get(key)
                    if type(v) is str:
                        v = v.strip() or None
                        h_cols[col].append(v)
                    else:
                        h_cols[col].append(scalar_text(v))
    staged = pd.DataFrame(
        {
            "record_id": pd.RangeIndex(first_record_id, first_record_id + n).to_numpy(),
            "locator": df["locator"].astype("string").to_numpy() if n else [],
            "record_hash": hashes,
            "parse_error": pd.array(parse_error, dtype="string"),
            **{c: pd.array(v, dtype="string") for c, v in cols.items()},
            "supplement_rounds": pd.array(rounds, dtype="Int64"),
            "history_count": pd.array(hcount, dtype="Int64"),
        }
    )
    history = pd.DataFrame(
        {
            "record_id": pd.array(h_rid, dtype="int64"),
            "position": pd.array(h_pos, dtype="int64"),
            **{c: pd.array(v, dtype="string") for c, v in h_cols.items()},
        }
    )
    return staged, history
