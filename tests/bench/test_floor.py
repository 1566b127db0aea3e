"""The benchmark generator and the floor (``bench/gen_bundle.py``, ``bench/floor.sql``).

* a tiny generated bundle: the floor's rows satisfy the report identities and equal a
  brute-force reference that applies domain.md section 3 dossier by dossier, period by
  period;
* an incremental bundle: only newer snapshots, for about the asked share of dossiers;
  base + increment still agree with the reference;
* a hand-made bundle of a few dossiers, with the counts worked out by hand.
"""

from __future__ import annotations

import datetime as dt
import gzip
import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
MEASURES = [
    "received_total",
    "carried_over",
    "received_new",
    "resolved_total",
    "resolved_on_time",
    "resolved_late",
    "pending_total",
    "pending_not_due",
    "pending_overdue",
    "withdrawn",
    "resolved_early",
]
KEY = ["period_type", "period_start", "agency_code", "procedure_code"]


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = _load("gen_bundle")
floor = _load("floor")


# --------------------------------------------------------------------------- reference


def _ts(value: object) -> dt.datetime | None:
    """The few timestamp forms the tests use: yyyyMMddHHmmss, yyyyMMdd, ISO with Z."""
    if value in (None, ""):
        return None
    s = str(value)
    if s.endswith("Z"):
        return dt.datetime.fromisoformat(s[:-1]) + dt.timedelta(hours=7)
    return dt.datetime.strptime(s, "%Y%m%d%H%M%S" if len(s) == 14 else "%Y%m%d")


def _records(bundle: Path) -> list[dict]:
    out = []
    for f in sorted((bundle / "dossiers").glob("*.jsonl*")):
        opener = gzip.open if f.name.endswith(".gz") else open
        with opener(f, "rt", encoding="utf-8") as fh:
            out.extend(json.loads(line) for line in fh if line.strip())
    return out


def _month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    months, d = [], first.replace(day=1)
    while d <= last:
        months.append(d)
        d = (d + dt.timedelta(days=32)).replace(day=1)
    return months


def reference(bundle: Path) -> pd.DataFrame:
    """mart.dossier_resolution by the book: newest valid snapshot per dossier, its
    milestones, then every period and dossier checked against each column's definition."""
    current: dict[str, dict] = {}
    for rec in _records(bundle):
        if int(rec["TrangThaiHoSo"]) not in range(1, 11):
            continue  # quarantined
        old = current.get(rec["MaHoSo"])
        if old is None or _ts(rec["NgayCapNhat"]) > _ts(old["NgayCapNhat"]):
            current[rec["MaHoSo"]] = rec
    dossiers = []
    for rec in current.values():
        status = int(rec["TrangThaiHoSo"])
        if status in (1, 3):
            continue
        hist: dict[int, list[dt.datetime]] = {}
        for h in rec["QuaTrinhXuLy"]:
            hist.setdefault(int(h["TrangThai"]), []).append(_ts(h["ThoiDiemXuLy"]))
        r = _ts(rec.get("NgayTiepNhan")) or min(hist.get(2, [None]))
        f = _ts(rec.get("NgayKetThucXuLy")) or min(hist.get(9, [None])) or min(hist.get(10, [None]))
        ws = hist.get(7, []) + hist.get(8, [])
        w = min(ws) if ws else (_ts(rec["NgayCapNhat"]) if status in (7, 8) else None)
        if f and w:
            f, w = (f, None) if f <= w else (None, w)
        e = f or w
        dossiers.append(
            {
                "agency_code": rec["MaDonVi"],
                "procedure_code": rec["MaTTHC"],
                "r": r.date(),
                "f": f and f.date(),
                "w": w and w.date(),
                "e": e and e.date(),
                "u": _ts(rec["NgayHenTra"]).date(),
            }
        )
    if not dossiers:
        return pd.DataFrame(columns=KEY + ["period_end"] + MEASURES)
    first = min(d["r"] for d in dossiers)
    last = max(max(d["r"], d["e"] or d["r"]) for d in dossiers)
    periods = []
    for m in _month_starts(first, last):
        periods.append(
            ("month", m, (m + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1))
        )
    for y in range(first.year, last.year + 1):
        periods.append(("year", dt.date(y, 1, 1), dt.date(y, 12, 31)))
    rows = []
    groups = sorted({(d["agency_code"], d["procedure_code"]) for d in dossiers})
    for kind, start, end in periods:
        for agency, proc in groups:
            c = dict.fromkeys(MEASURES, 0)
            for d in dossiers:
                if (d["agency_code"], d["procedure_code"]) != (agency, proc):
                    continue
                r, f, w, e, u = d["r"], d["f"], d["w"], d["e"], d["u"]
                c["carried_over"] += r < start and (e is None or e >= start)
                c["received_new"] += start <= r <= end
                if f and start <= f <= end:
                    c["resolved_on_time"] += f <= u
                    c["resolved_late"] += f > u
                    c["resolved_early"] += f < u
                c["withdrawn"] += bool(w and start <= w <= end)
                if r <= end and (e is None or e > end):
                    c["pending_not_due"] += u >= end
                    c["pending_overdue"] += u < end
            c["received_total"] = c["carried_over"] + c["received_new"]
            c["resolved_total"] = c["resolved_on_time"] + c["resolved_late"]
            c["pending_total"] = c["pending_not_due"] + c["pending_overdue"]
            if any(c.values()):
                rows.append(
                    {
                        "period_type": kind,
                        "period_start": start,
                        "period_end": end,
                        "agency_code": agency,
                        "procedure_code": proc,
                        **c,
                    }
                )
    return pd.DataFrame(rows)


def _normalise(df: pd.DataFrame) -> pd.DataFrame:
    out = df[KEY + ["period_end"] + MEASURES].copy()
    for c in ("period_start", "period_end"):
        out[c] = pd.to_datetime(out[c]).dt.date
    for c in MEASURES:
        out[c] = out[c].astype("int64")
    return out.sort_values(KEY).reset_index(drop=True)


def _assert_identities(df: pd.DataFrame) -> None:
    assert (df["received_total"] == df["carried_over"] + df["received_new"]).all()
    assert (df["resolved_total"] == df["resolved_on_time"] + df["resolved_late"]).all()
    assert (df["pending_total"] == df["pending_not_due"] + df["pending_overdue"]).all()
    assert (
        df["received_total"] == df["resolved_total"] + df["pending_total"] + df["withdrawn"]
    ).all()
    assert (df["resolved_early"] <= df["resolved_on_time"]).all()
    assert (df[MEASURES] >= 0).all().all()
    assert (df[MEASURES] != 0).any(axis=1).all()


# --------------------------------------------------------------------------- generated


@pytest.fixture(scope="module")
def base_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench") / "base"
    plan = gen.plan_from_args(
        [
            "--dossiers",
            "300",
            "--out",
            str(out),
            "--seed",
            "7",
            "--procedures",
            "12",
            "--slice",
            "128",
        ]
    )
    gen.generate(plan, log=False)
    return out


@pytest.fixture(scope="module")
def base_floor(base_bundle: Path) -> pd.DataFrame:
    return _normalise(floor.floor_frame(base_bundle))


def test_generated_bundle_layout(base_bundle: Path) -> None:
    procs = pd.read_csv(base_bundle / "procedures.csv", dtype=str, keep_default_na=False)
    assert list(procs.columns) == gen.PROCEDURE_COLUMNS
    assert procs["MaTTHC"].str.fullmatch(r"[12]\.\d{6}").all()
    agencies = pd.read_csv(base_bundle / "agencies.csv", dtype=str, keep_default_na=False)
    assert list(agencies.columns) == gen.AGENCY_COLUMNS
    assert len(agencies) >= 24
    files = sorted((base_bundle / "dossiers").glob("part-*.jsonl.gz"))
    assert len(files) == 3  # one slice of 128 dossiers per file at least
    recs = _records(base_bundle)
    by_dossier: dict[str, list[dict]] = {}
    for rec in recs:
        by_dossier.setdefault(rec["MaHoSo"], []).append(rec)
    assert len(by_dossier) == 300
    assert 3.5 <= len(recs) / 300 <= 6
    statuses = {int(r["TrangThaiHoSo"]) for r in recs}
    assert {1, 2, 4, 9, 10} <= statuses
    for snaps in by_dossier.values():
        snaps.sort(key=lambda r: r["NgayCapNhat"])
        for k, s in enumerate(snaps, start=1):
            assert len(s["QuaTrinhXuLy"]) == k  # one snapshot per status change
            assert s["QuaTrinhXuLy"][-1]["TrangThai"] == s["TrangThaiHoSo"]
            assert s["QuaTrinhXuLy"][-1]["ThoiDiemXuLy"] == s["NgayCapNhat"]
            assert s["KenhThucHien"] in (1, 2, 3)
            if s["NgayTiepNhan"]:
                assert s["NgayHenTra"] and s["NgayHenTra"] >= s["NgayTiepNhan"]
            assert "20230101000000" <= s["NgayCapNhat"] <= "20250101000000"


def test_floor_on_generated_bundle(base_bundle: Path, base_floor: pd.DataFrame) -> None:
    got = base_floor
    assert len(got) > 50
    _assert_identities(got)
    assert set(got["period_type"]) == {"month", "year"}
    expected = _normalise(reference(base_bundle))
    pd.testing.assert_frame_equal(got, expected)


def test_incremental_bundle(base_bundle: Path, base_floor: pd.DataFrame, tmp_path: Path) -> None:
    inc = tmp_path / "inc"
    plan = gen.plan_from_args(
        [
            "--changed-fraction",
            "0.2",
            "--base-dir",
            str(base_bundle),
            "--out",
            str(inc),
            "--new-dossiers",
            "5",
        ]
    )
    meta = gen.generate(plan, log=False)
    assert meta["kind"] == "incremental" and meta["cutoff"] == "20250102000000"
    base_current: dict[str, dict] = {}
    for rec in _records(base_bundle):
        old = base_current.get(rec["MaHoSo"])
        if old is None or rec["NgayCapNhat"] > old["NgayCapNhat"]:
            base_current[rec["MaHoSo"]] = rec
    recs = _records(inc)
    for rec in recs:
        old = base_current.get(rec["MaHoSo"])
        if old is None:
            continue
        hist, old_hist = rec["QuaTrinhXuLy"], old["QuaTrinhXuLy"]
        if len(hist) == len(old_hist):  # a closed dossier re-sent
            assert hist == old_hist and rec["TrangThaiHoSo"] == old["TrangThaiHoSo"]
        else:  # an open dossier's next step
            assert hist[:-1] == old_hist and len(hist) == len(old_hist) + 1
            assert hist[-1]["ThoiDiemXuLy"] == rec["NgayCapNhat"]
            assert hist[-1]["TrangThai"] == rec["TrangThaiHoSo"]
    assert all("20250101000000" < r["NgayCapNhat"] < "20250102000000" for r in recs)
    changed = {r["MaHoSo"] for r in recs if r["MaHoSo"] in base_current}
    new = {r["MaHoSo"] for r in recs} - changed
    assert 30 <= len(changed) <= 90  # about 20 % of 300
    assert len(new) == 5
    assert len(recs) == len(changed) + sum(1 for r in recs if r["MaHoSo"] in new)
    assert (inc / "procedures.csv").read_bytes() == (base_bundle / "procedures.csv").read_bytes()
    merged = tmp_path / "merged"
    (merged / "dossiers").mkdir(parents=True)
    for src, tag in ((base_bundle, "a"), (inc, "b")):
        for f in (src / "dossiers").glob("*.jsonl.gz"):
            shutil.copy(f, merged / "dossiers" / f"{tag}-{f.name}")
    got = _normalise(floor.floor_frame(merged))
    _assert_identities(got)
    pd.testing.assert_frame_equal(got, _normalise(reference(merged)))
    assert not got.equals(base_floor)


# --------------------------------------------------------------------------- by hand


def _snap(
    code: str,
    agency: str,
    proc: str,
    status: int,
    upd: str,
    hist: list[tuple[int, str]],
    **fields: str,
) -> dict:
    return {
        "MaHoSo": code,
        "MaTTHC": proc,
        "MaDonVi": agency,
        "KenhThucHien": 1,
        "TrangThaiHoSo": status,
        "NgayCapNhat": upd,
        "QuaTrinhXuLy": [{"TrangThai": s, "ThoiDiemXuLy": t} for s, t in hist],
        **fields,
    }


A_HIST = [
    (2, "20230110090000"),
    (4, "20230111090000"),
    (9, "20230125100000"),
    (10, "20230126080000"),
]
A = dict(code="A", agency="AG1", proc="1.000001")
B = dict(code="B", agency="AG1", proc="1.000001")
C = dict(code="C", agency="AG2", proc="2.000002")
D = dict(code="D", agency="AG2", proc="2.000002")
A_DUE = dict(NgayTiepNhan="20230110090000", NgayHenTra="20230120170000")
B_DUE = dict(NgayTiepNhan="20230215080000", NgayHenTra="20230301170000")
C_DUE = dict(NgayTiepNhan="20231220140000")

HAND_FILES = {
    "part-0001.jsonl": [
        # A, resolved late (25 Jan, due 20 Jan), then returned: the current snapshot
        _snap(
            **A,
            status=10,
            upd="20230126080000",
            hist=A_HIST,
            **A_DUE,
            NgayKetThucXuLy="20230125100000",
            NgayTra="20230126080000",
        ),
        # a newer record of A with a status outside the table: quarantined, ignored
        _snap(**A, status=99, upd="20230301000000", hist=A_HIST, **A_DUE),
        # C, still in processing at the end of 2023 (due 5 Jan 2024)
        _snap(
            **C,
            status=4,
            upd="20231221090000",
            NgayHenTra="20240105170000",
            **C_DUE,
            hist=[(2, "20231220140000"), (4, "20231221090000")],
        ),
        # B, withdrawn on 5 March (due 1 March)
        _snap(
            **B,
            status=7,
            upd="20230305100000",
            **B_DUE,
            hist=[(2, "20230215080000"), (4, "20230216080000"), (7, "20230305100000")],
        ),
    ],
    "part-0002.jsonl": [
        # older snapshots of A, arriving later: must not overwrite the current one
        _snap(**A, status=2, upd="20230110090000", hist=A_HIST[:1], **A_DUE),
        _snap(
            **A,
            status=9,
            upd="20230125100000",
            hist=A_HIST[:3],
            **A_DUE,
            NgayKetThucXuLy="20230125100000",
        ),
        _snap(
            **A,
            status=9,
            upd="20230125100000",
            hist=A_HIST[:3],
            **A_DUE,
            NgayKetThucXuLy="20230125100000",
        ),  # the same snapshot twice
        # C asked for more documents: the due moved to 25 Jan 2024, still open
        _snap(
            **C,
            status=5,
            upd="20240110090000",
            NgayHenTra="20240125170000",
            **C_DUE,
            hist=[(2, "20231220140000"), (4, "20231221090000"), (5, "20240110090000")],
        ),
        # D: received 1 Feb 2024, due date-only 15 Feb, resolved at 18:30Z on 9 Feb,
        # i.e. 01:30 on 10 Feb local time: early
        _snap(
            **D,
            status=9,
            upd="20240210013000",
            NgayTiepNhan="20240201080000",
            NgayHenTra="20240215",
            NgayKetThucXuLy="2024-02-09T18:30:00Z",
            hist=[(2, "20240201080000"), (9, "20240210013000")],
        ),
        # refused at intake and never accepted: counted nowhere
        _snap(
            "E",
            "AG3",
            "1.000003",
            3,
            "20230601100000",
            [(1, "20230601090000"), (3, "20230601100000")],
        ),
        _snap("F", "AG3", "1.000003", 1, "20230602100000", [(1, "20230602100000")]),
        # G: resolved (history 9, no NgayKetThucXuLy) and withdrawn at the same instant:
        # the resolution wins; 12 Apr is after the due 10 Apr: late
        _snap(
            "G",
            "AG4",
            "2.000004",
            7,
            "20230412100000",
            NgayTiepNhan="20230405080000",
            NgayHenTra="20230410170000",
            hist=[(2, "20230405080000"), (9, "20230412100000"), (7, "20230412100000")],
        ),
    ],
}

_Z = dict.fromkeys(MEASURES, 0)
HAND_EXPECTED = [
    # AG1 / 1.000001: A (new Jan, resolved late Jan), B (new Feb, open not due at end of
    # Feb since due 1 Mar >= 28 Feb, carried into Mar and withdrawn there)
    (
        "year",
        "2023-01-01",
        "AG1",
        "1.000001",
        dict(received_total=2, received_new=2, resolved_total=1, resolved_late=1, withdrawn=1),
    ),
    (
        "month",
        "2023-01-01",
        "AG1",
        "1.000001",
        dict(received_total=1, received_new=1, resolved_total=1, resolved_late=1),
    ),
    (
        "month",
        "2023-02-01",
        "AG1",
        "1.000001",
        dict(received_total=1, received_new=1, pending_total=1, pending_not_due=1),
    ),
    ("month", "2023-03-01", "AG1", "1.000001", dict(received_total=1, carried_over=1, withdrawn=1)),
    (
        "year",
        "2023-01-01",
        "AG4",
        "2.000004",
        dict(received_total=1, received_new=1, resolved_total=1, resolved_late=1),
    ),
    (
        "month",
        "2023-04-01",
        "AG4",
        "2.000004",
        dict(received_total=1, received_new=1, resolved_total=1, resolved_late=1),
    ),
    # AG2 / 2.000002: C (new Dec 2023, due 25 Jan 2024 after the pause: not due on
    # 31 Dec, overdue on 31 Jan and after), D (new Feb 2024, resolved 10 Feb, early)
    (
        "year",
        "2023-01-01",
        "AG2",
        "2.000002",
        dict(received_total=1, received_new=1, pending_total=1, pending_not_due=1),
    ),
    (
        "month",
        "2023-12-01",
        "AG2",
        "2.000002",
        dict(received_total=1, received_new=1, pending_total=1, pending_not_due=1),
    ),
    (
        "year",
        "2024-01-01",
        "AG2",
        "2.000002",
        dict(
            received_total=2,
            carried_over=1,
            received_new=1,
            resolved_total=1,
            resolved_on_time=1,
            resolved_early=1,
            pending_total=1,
            pending_overdue=1,
        ),
    ),
    (
        "month",
        "2024-01-01",
        "AG2",
        "2.000002",
        dict(received_total=1, carried_over=1, pending_total=1, pending_overdue=1),
    ),
    (
        "month",
        "2024-02-01",
        "AG2",
        "2.000002",
        dict(
            received_total=2,
            carried_over=1,
            received_new=1,
            resolved_total=1,
            resolved_on_time=1,
            resolved_early=1,
            pending_total=1,
            pending_overdue=1,
        ),
    ),
]


def test_floor_hand_worked(tmp_path: Path) -> None:
    (tmp_path / "dossiers").mkdir()
    for name, snaps in HAND_FILES.items():
        text = "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in snaps)
        (tmp_path / "dossiers" / name).write_text(text, encoding="utf-8")
    got = _normalise(floor.floor_frame(tmp_path))
    _assert_identities(got)
    rows = []
    for kind, start, agency, proc, counts in HAND_EXPECTED:
        s = dt.date.fromisoformat(start)
        end = (
            dt.date(s.year, 12, 31)
            if kind == "year"
            else ((s + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1))
        )
        rows.append(
            {
                "period_type": kind,
                "period_start": s,
                "period_end": end,
                "agency_code": agency,
                "procedure_code": proc,
                **(_Z | counts),
            }
        )
    expected = _normalise(pd.DataFrame(rows))
    pd.testing.assert_frame_equal(got, expected)
    pd.testing.assert_frame_equal(_normalise(reference(tmp_path)), expected)
