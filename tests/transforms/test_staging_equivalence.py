"""The column-wise staging paths give exactly what the per-record rules give.

``stg_dossier_snapshot.build`` parses column-wise and sends the records it does not take
(source errors, text that is not a JSON object, …) to ``build_reference``, the original
per-record loop. ``int_dossier_record`` and ``timeparse`` read plain values (digits,
``yyyyMMddHHmmss``) directly and leave every other value to the pandas path they had.
Each fast path is compared here with its reference on messy input, frame for frame.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from motcua.sources.base import make_batch
from transforms import (
    coded_values,
    history_milestones,
    int_dossier_record,
    stg_dossier_snapshot,
    timeparse,
)
from transforms.arrow_text import WHITESPACE, as_text, converted, scalar_text, stripped
from transforms.snapshot_columns import build_columns
from transforms.stg_dossier_snapshot import FIELDS, HISTORY_FIELDS, build_reference

# --------------------------------------------------------------------------- messy records
GOOD = {
    "MaHoSo": "000.00.19.H04-231129-0001", "MaTTHC": "2.930411", "TenTTHC": "Gia hạn chứng chỉ hành nghề",
    "MaLinhVuc": "LV032", "TenLinhVuc": "Dược phẩm", "MaDonVi": "000.00.19.H04", "KenhThucHien": 1,
    "NgayNopHoSo": None, "LoaiDoiTuong": 1, "ChuHoSo": "Huỳnh Đức Hoa", "SoGiayToChuHoSo": "047309577670",
    "SoDienThoai": "0984447269", "Email": None, "DiaChi": "Số 74 Nguyễn Thái Học",
    "DuocThanhToanTrucTuyen": False, "HoSoCoThanhPhanSoHoa": True, "NgayTiepNhan": "20231129121338",
    "NgayHenTra": "20231220170000", "NgayKetThucXuLy": None, "NgayTra": None, "TrangThaiHoSo": 4,
    "NgayCapNhat": "20231130090414", "NgayTuChoi": None, "DanhGia": None,
    "QuaTrinhXuLy": [
        {"TrangThai": 2, "ThoiDiemXuLy": "20231129121338", "DonViXuLy": "000.00.19.H04",
         "PhongBanXuLy": "Bộ phận Một cửa", "NguoiXuLy": "Trần Văn Hải", "NoiDungXuLy": "Tiếp nhận"},
        {"TrangThai": 4, "ThoiDiemXuLy": "20231130090414", "DonViXuLy": "000.00.19.H04",
         "PhongBanXuLy": "Phòng Pháp chế", "NguoiXuLy": "Phan Quốc Việt", "NoiDungXuLy": "Chuyển xử lý"},
    ],
}

# values a contract field may hold in the wild (as JSON text)
ODD_VALUES = [
    '"x"', '"  padded  "', '"\\t tab\\n"', '""', '"   "', '"\\u00a0nbsp\\u3000"', '"\\u001cfs\\u001f"',
    '"\\u0085nel"', '"trail \\u3000"', '"end\\u2029"', '"\\u00a0"', '"a\\u200bzwsp"', '"\\u0000nul"', '"😀 emoji"', '"Thủ tục"', '"\\u1ec7 escaped"',
    "1", "0", "-0", "-17", "2", "11", "9223372036854775807", "18446744073709551616", "123456789012345678901234567890",
    "1.0", "-2.0", "2.5", "1e3", "1E-3", "0.1", "1e400",
    "true", "false", "null", "[]", "[1, 2]", '["a"]', "{}", '{"a": 1}',
]
BAD_TEXTS = [
    "", " ", "not json", "{", '{"MaHoSo": "x"', "[1, 2]", "5", '"s"', "null", "true", "NaN",
    '{"MaHoSo": NaN}', '{"MaHoSo": "x",}', '{"a": "\\ud800"}', "[" * 2000 + "]" * 2000,
    '{"MaHoSo": "x"} trailing', "\ufeff{}", '{"MaHoSo": "x"}\n',
]


def _odd_record(rng: random.Random) -> str:
    """A record with some fields (top level and history) replaced by odd values."""
    rec = json.loads(json.dumps(GOOD))
    for key in rng.sample(sorted(FIELDS), rng.randint(0, 6)):
        if rng.random() < 0.2:
            rec.pop(key, None)
        else:
            rec[key] = json.loads(rng.choice(ODD_VALUES)) if rng.random() < 0.9 else "\ufffd"
    choice = rng.random()
    if choice < 0.1:
        rec.pop("QuaTrinhXuLy")
    elif choice < 0.2:
        rec["QuaTrinhXuLy"] = json.loads(rng.choice(ODD_VALUES))
    elif choice < 0.5:
        hist = rec["QuaTrinhXuLy"]
        for _ in range(rng.randint(1, 3)):
            hist.insert(rng.randint(0, len(hist)), json.loads(rng.choice(ODD_VALUES)))  # non-object entries
        for entry in hist:
            if isinstance(entry, dict):
                for key in rng.sample(sorted(HISTORY_FIELDS), rng.randint(0, 2)):
                    if rng.random() < 0.2:
                        entry.pop(key, None)
                    else:
                        entry[key] = json.loads(rng.choice(ODD_VALUES))
    if rng.random() < 0.3:
        rec["DanhSachHoSoBoSung"] = json.loads(rng.choice(ODD_VALUES + ['[{"NgayBoSung": "20230101"}, 1]']))
    text = json.dumps(rec, ensure_ascii=rng.random() < 0.3, indent=rng.choice([None, None, 1]))
    if rng.random() < 0.05:  # a duplicated key: the last one counts
        text = text[:-1] + ', "MaHoSo": "duplicate-wins"}'
    if rng.random() < 0.05:
        text = " \t" + text + " \r"
    return text


def messy_batch(n: int = 900, seed: int = 7) -> pa.Table:
    """Mostly good records, with odd fields, bad texts, nulls and source errors spread
    over several parse blocks and Arrow chunks."""
    rng = random.Random(seed)
    texts: list[str | None] = []
    errors: list[str | None] = []
    for i in range(n):
        r = rng.random()
        if r < 0.55:
            g = json.loads(json.dumps(GOOD))
            g["MaHoSo"] = f"H{i:05d}"
            texts.append(json.dumps(g, ensure_ascii=False))
        elif r < 0.85:
            texts.append(_odd_record(rng))
        elif r < 0.95:
            texts.append(rng.choice(BAD_TEXTS))
        else:
            texts.append(None)
        errors.append(rng.choice(["HTTP 500", "", "row too long"]) if rng.random() < 0.03 else None)
    # one whole block of good records behind a source error, one block of non-objects
    for i in range(128, min(192, n)):
        errors[i] = "page lost"
    for i in range(320, min(384, n)):
        texts[i] = "[]"
    return pa.table({"locator": [f"f.jsonl:{i + 1}" for i in range(n)], "record": texts, "error": errors},
                    schema=pa.schema([("locator", pa.string()), ("record", pa.string()), ("error", pa.string())]))


def _same(fast: tuple[pd.DataFrame, pd.DataFrame], slow: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    for got, want in zip(fast, slow, strict=True):
        assert list(got.columns) == list(want.columns)
        assert [repr(t) for t in got.dtypes] == [repr(t) for t in want.dtypes]
        assert_frame_equal(got, want, check_exact=True)
        # the same Arrow data (what the Parquet files get), not only equal values
        assert pa.Table.from_pandas(got).equals(pa.Table.from_pandas(want), check_metadata=True)


# --------------------------------------------------------------------------- staging
def _columns(raw, first_id: int):
    """The column-wise path alone (None when it does not take the batch)."""
    return build_columns(raw, first_id, FIELDS, HISTORY_FIELDS, build_reference)


def test_whitespace_is_what_str_strip_removes():
    assert set(WHITESPACE) == {chr(c) for c in range(0x110000) if chr(c).isspace()}


@pytest.mark.parametrize("first_id", [0, 1000])
def test_messy_table_equals_the_per_record_rules(first_id):
    batch = messy_batch()
    fast = _columns(batch, first_id)
    assert fast is not None, "the column-wise path must take this batch (else nothing is compared)"
    _same(fast, build_reference(batch, first_id))
    staged, history = fast
    # the batch does hold the messy cases the comparison is about
    assert staged["parse_error"].str.startswith("invalid_json").sum() > 50
    assert staged["parse_error"].str.startswith("source_error").sum() > 64
    assert staged["channel_raw"].isin(["1", "0", "2.5", "1000"]).any()
    assert (staged["history_count"] > history.groupby("record_id").size().reindex(staged["record_id"])
            .fillna(0).to_numpy()).any()  # non-object history entries were skipped


def test_messy_frame_input_equals_the_per_record_rules():
    frame = messy_batch(400, seed=11).to_pandas().astype(object)
    frame.loc[5, "record"] = 12  # not text: str(12) is parsed, as before
    frame.loc[6, "error"] = float("nan")  # NaN error: no error
    frame.loc[7, "record"] = np.nan
    frame.loc[8, "record"] = _Text(json.dumps(GOOD))  # not exactly str: parsed one at a time, history and all
    assert _columns(frame, 3) is not None
    _same(stg_dossier_snapshot.build(frame, 3), build_reference(frame, 3))


class _Text(str):
    pass


def test_text_conversion_equals_text_rule():
    """Every way a list of parsed values is made Arrow text (all str, all int, all bool,
    inferred, mixed) gives ``scalar_text`` (then strip, empty as null) for each value."""
    pool = [json.loads(v) for v in ODD_VALUES] + [None, None, "x", 3, True, 2**70, -(2**63), 2**63 - 1]
    rng = random.Random(2)
    shapes = [pool, [v for v in pool if isinstance(v, str) or v is None],
              [v for v in pool if type(v) is int or v is None], [v for v in pool if type(v) is bool or v is None],
              [v for v in pool if type(v) is float or v is None], [None]]
    for _ in range(300):
        chunks = [[rng.choice(shape) for _ in range(rng.randint(0, 12))]
                  for shape in rng.choices(shapes, k=rng.randint(1, 4))]  # a column made in chunks
        want = [scalar_text(v) for chunk in chunks for v in chunk]
        for kind in ("text", "int", "bool"):
            parts = [converted(chunk, kind) for chunk in chunks]
            got = stripped(as_text(parts)).to_pylist()
            assert got == want, (kind, chunks)


def test_good_records_stay_on_the_column_path():
    batch = make_batch([f"l:{i}" for i in range(500)], [json.dumps(GOOD, ensure_ascii=False)] * 500)
    _same(_columns(batch, 0), build_reference(batch, 0))
    staged, history = stg_dossier_snapshot.build(batch)
    assert staged["parse_error"].isna().all() and len(history) == 1000
    assert staged.loc[0, "record_hash"] == stg_dossier_snapshot.record_hash(json.dumps(GOOD, ensure_ascii=False))


def test_text_rules_by_hand():
    rec = {"MaHoSo": "  H1\u3000", "TenTTHC": "", "MaLinhVuc": "   ", "KenhThucHien": 2.0, "TrangThaiHoSo": True,
           "LoaiDoiTuong": 2.5, "DanhGia": [5], "Email": {"a": 1}, "SoDienThoai": -0, "MaDonVi": None,
           "DanhSachHoSoBoSung": [{}, {}], "QuaTrinhXuLy": [None, {"TrangThai": " 9 ", "ThoiDiemXuLy": False}, 3]}
    staged, history = stg_dossier_snapshot.build(make_batch(["x"], [json.dumps(rec)]), first_record_id=7)
    row = staged.iloc[0]
    assert row["dossier_code"] == "H1" and pd.isna(row["procedure_name"]) and pd.isna(row["field_code"])
    assert (row["channel_raw"], row["status_raw"], row["applicant_type_raw"], row["phone"]) == ("2", "1", "2.5", "0")
    assert pd.isna(row["rating_raw"]) and pd.isna(row["email"]) and pd.isna(row["agency_code"])
    assert (row["supplement_rounds"], row["history_count"]) == (2, 3)
    assert history[["record_id", "position", "status_raw", "event_raw"]].values.tolist() == [[7, 1, "9", "0"]]


def test_text_arrow_cannot_hold_goes_the_per_record_way():
    frame = pd.DataFrame({"locator": ["a", "b"], "record": [json.dumps(GOOD), '{"MaHoSo": "\ud800"}'],
                          "error": [None, None]}, dtype=object)
    assert _columns(frame, 0) is None  # a lone surrogate
    _same(stg_dossier_snapshot.build(frame), build_reference(frame))


def test_empty_and_all_bad_batches():
    for texts in ([], ["[]", "", "{"]):
        batch = make_batch([f"l:{i}" for i in range(len(texts))], texts)
        _same(stg_dossier_snapshot.build(batch), build_reference(batch))


# --------------------------------------------------------------------------- rules
def test_parse_timestamps_equals_the_pandas_path():
    rng = np.random.default_rng(3)
    n = 20_000
    fields = [rng.integers(lo, hi, n) for lo, hi in ((1890, 2210), (0, 14), (0, 33), (0, 26), (0, 62), (0, 62))]
    plain = [f"{y:04d}{m:02d}{d:02d}{h:02d}{mi:02d}{s:02d}" for y, m, d, h, mi, s in zip(*fields, strict=True)]
    odd = ["20230118", "2023-01-18T16:00:00Z", "20230118230000+07:00", " 20230118230000 ", "", "  ", None,
           "٢٠٢٣٠١١٨٢٣٠٠٠٠", "2023011823000", "202301182300000", "20240229000000", "20230229000000",
           "00000101000000", "99991231235959", "abc"]
    values = plain + odd * 50
    random.Random(1).shuffle(values)
    for dtype in ("string", "object", "str"):
        s = pd.Series(values, dtype=dtype, index=np.arange(len(values)) * 3 + 1, name="updated_raw")
        got, want = timeparse.parse_timestamps(s), timeparse._parse_timestamps(s)
        assert_series_equal(got[0], want[0], check_exact=True)
        assert_series_equal(got[1], want[1], check_exact=True)
    assert got[0].notna().sum() > 10_000 and got[1].sum() > 5_000


def test_codes_and_integers_equal_to_numeric():
    pool = ["1", "2", "10", "11", "0", "00", "010", "4.0", "4.5", "-1", "+3", "abc", "", None, "١", "1e1",
            "999999999", "9999999999", "nan", "3", "7"]
    rng = random.Random(5)
    for _ in range(200):
        values = [rng.choice(pool) for _ in range(rng.randint(0, 12))]
        s = pd.Series(values, dtype="string", index=np.arange(len(values)) + 10, name="status_raw")
        for allowed in (coded_values.STATUS_CODES, coded_values.CHANNEL_CODES):
            got, want = coded_values.read_code(s, allowed), coded_values.read_code_pandas(s, allowed)
            assert_series_equal(got[0], want[0], check_exact=True)
            assert_series_equal(got[1], want[1], check_exact=True)
        if not {"4.5", "nan"} & set(values):  # those make the pandas expression raise
            assert_series_equal(coded_values.read_int64(s),
                                pd.to_numeric(s, errors="coerce").astype("Int64"), check_exact=True)


def test_history_milestones_equal_the_pivot():
    staged, history = stg_dossier_snapshot.build(messy_batch(600, seed=3))
    # more unparseable and odd event times and statuses than the messy batch has, and each
    # entry twice (so that records have several unparseable withdrawals: the first counts)
    rng = random.Random(9)
    history = pd.concat([history, history], ignore_index=True).sort_values("record_id", kind="stable")
    history["event_raw"] = pd.array([rng.choice([v, f"bad{rng.randint(0, 99)}", "20230230000000", None,
                                                 f"2023010{rng.randint(1, 9)}"]) for v in history["event_raw"]],
                                    dtype="string")
    history["status_raw"] = pd.array([rng.choice(["2", "7", "8", "9", "10", "4", "x", None])
                                      for _ in range(len(history))], dtype="string")
    idx = staged.set_index("record_id", drop=False).index
    for h in (history.iloc[:0], history):
        got = history_milestones.history_milestones_on(h, idx)
        want = history_milestones.history_milestones(h).reindex(idx)
        for c in ("h_intake_bad", "h_resolved_bad", "h_withdrawn_bad"):
            want[c] = want[c].fillna(False).astype(bool)
        for c in ("h_intake", "h_resolved9", "h_resolved10", "h_withdrawn"):
            want[c] = pd.to_datetime(want[c]).astype("datetime64[us]")
        assert_frame_equal(got.drop(columns="h_withdrawn_bad_value"), want.drop(columns="h_withdrawn_bad_value"),
                           check_exact=True)
        flagged = got["h_withdrawn_bad"]
        assert got.loc[flagged, "h_withdrawn_bad_value"].astype(str).tolist() == \
            want.loc[flagged, "h_withdrawn_bad_value"].astype(str).tolist()
    assert flagged.sum() > 20 and got["h_withdrawn"].notna().sum() > 20  # (the last round: the messy history)


def test_messy_records_run_through_the_rules():
    staged, history = stg_dossier_snapshot.build(messy_batch(400, seed=5))
    out = int_dossier_record.build(staged, history, pd.DataFrame(), {"000.00.19.H04"})
    assert len(out) == len(staged) and out["quarantine_reason"].notna().any()
