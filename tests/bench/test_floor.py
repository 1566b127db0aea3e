"""The floor (``bench/floor.py``, ``bench/floor.sql``): on a tiny generated bundle its
rows satisfy the report identities and equal the brute-force reference of
:mod:`helpers.bench`; on a hand-made bundle of a few dossiers they equal the counts
worked out by hand (the comments beside each snapshot and expected row say why).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
from helpers.bench import MEASURES, assert_identities, floor, normalise, reference


def test_floor_on_generated_bundle(base_bundle: Path, base_floor: pd.DataFrame) -> None:
    got = base_floor
    assert len(got) > 50
    assert_identities(got)
    assert set(got["period_type"]) == {"month", "year"}
    expected = normalise(reference(base_bundle))
    pd.testing.assert_frame_equal(got, expected)


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
    got = normalise(floor.floor_frame(tmp_path))
    assert_identities(got)
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
    expected = normalise(pd.DataFrame(rows))
    pd.testing.assert_frame_equal(got, expected)
    pd.testing.assert_frame_equal(normalise(reference(tmp_path)), expected)
