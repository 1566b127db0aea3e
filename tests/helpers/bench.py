"""The benchmark's modules and the floor's reference, for ``tests/bench``.

``bench/`` is not a package: :func:`load` imports one of its modules from its file
(``gen`` is ``bench/gen_bundle.py``, ``floor`` is ``bench/floor.py``). :func:`reference`
is ``mart.dossier_resolution`` by the book, a brute force that applies domain.md
section 3 dossier by dossier, period by period; :func:`normalise` puts a floor or a
reference frame in one form, and :func:`assert_identities` checks the report identities
on every row."""

from __future__ import annotations

import datetime as dt
import gzip
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd

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


def load(name: str) -> ModuleType:
    """``bench/<name>.py``, imported from its file as ``bench_<name>``."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = load("gen_bundle")
floor = load("floor")


def ts(value: object) -> dt.datetime | None:
    """The few timestamp forms the tests use: yyyyMMddHHmmss, yyyyMMdd, ISO with Z."""
    if value in (None, ""):
        return None
    s = str(value)
    if s.endswith("Z"):
        return dt.datetime.fromisoformat(s[:-1]) + dt.timedelta(hours=7)
    return dt.datetime.strptime(s, "%Y%m%d%H%M%S" if len(s) == 14 else "%Y%m%d")


def records(bundle: Path) -> list[dict]:
    out = []
    for f in sorted((bundle / "dossiers").glob("*.jsonl*")):
        opener = gzip.open if f.name.endswith(".gz") else open
        with opener(f, "rt", encoding="utf-8") as fh:
            out.extend(json.loads(line) for line in fh if line.strip())
    return out


def month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    months, d = [], first.replace(day=1)
    while d <= last:
        months.append(d)
        d = (d + dt.timedelta(days=32)).replace(day=1)
    return months


def reference(bundle: Path) -> pd.DataFrame:
    """mart.dossier_resolution by the book: newest valid snapshot per dossier, its
    milestones, then every period and dossier checked against each column's definition."""
    current: dict[str, dict] = {}
    for rec in records(bundle):
        if int(rec["TrangThaiHoSo"]) not in range(1, 11):
            continue  # quarantined
        old = current.get(rec["MaHoSo"])
        if old is None or ts(rec["NgayCapNhat"]) > ts(old["NgayCapNhat"]):
            current[rec["MaHoSo"]] = rec
    dossiers = []
    for rec in current.values():
        status = int(rec["TrangThaiHoSo"])
        if status in (1, 3):
            continue
        hist: dict[int, list[dt.datetime]] = {}
        for h in rec["QuaTrinhXuLy"]:
            hist.setdefault(int(h["TrangThai"]), []).append(ts(h["ThoiDiemXuLy"]))
        r = ts(rec.get("NgayTiepNhan")) or min(hist.get(2, [None]))
        f = ts(rec.get("NgayKetThucXuLy")) or min(hist.get(9, [None])) or min(hist.get(10, [None]))
        ws = hist.get(7, []) + hist.get(8, [])
        w = min(ws) if ws else (ts(rec["NgayCapNhat"]) if status in (7, 8) else None)
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
                "u": ts(rec["NgayHenTra"]).date(),
            }
        )
    if not dossiers:
        return pd.DataFrame(columns=KEY + ["period_end"] + MEASURES)
    first = min(d["r"] for d in dossiers)
    last = max(max(d["r"], d["e"] or d["r"]) for d in dossiers)
    periods = []
    for m in month_starts(first, last):
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


def normalise(df: pd.DataFrame) -> pd.DataFrame:
    out = df[KEY + ["period_end"] + MEASURES].copy()
    for c in ("period_start", "period_end"):
        out[c] = pd.to_datetime(out[c]).dt.date
    for c in MEASURES:
        out[c] = out[c].astype("int64")
    return out.sort_values(KEY).reset_index(drop=True)


def assert_identities(df: pd.DataFrame) -> None:
    assert (df["received_total"] == df["carried_over"] + df["received_new"]).all()
    assert (df["resolved_total"] == df["resolved_on_time"] + df["resolved_late"]).all()
    assert (df["pending_total"] == df["pending_not_due"] + df["pending_overdue"]).all()
    assert (
        df["received_total"] == df["resolved_total"] + df["pending_total"] + df["withdrawn"]
    ).all()
    assert (df["resolved_early"] <= df["resolved_on_time"]).all()
    assert (df[MEASURES] >= 0).all().all()
    assert (df[MEASURES] != 0).any(axis=1).all()
