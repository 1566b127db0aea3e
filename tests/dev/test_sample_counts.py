"""The sample's dossiers recounted with :mod:`helpers.sample_counter`: 2019 equals the seed
report row by row, and 2020 has open, late, withdrawn, stopped and unknown-procedure dossiers."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from helpers.sample_counter import SEED_ROWS, _history_time, _intake, _received, _resolution, _ts

from motcua.dev.sample.catalogue import SEED_PROCEDURES


@pytest.fixture(scope="module")
def bundle(sample: tuple[Path, dict[str, Any]]) -> tuple[Path, dict[str, Any]]:
    """Here, the sample bundle (``conftest.py``'s ``bundle`` is the small source bundle)."""
    return sample


def test_2019_counts_equal_the_seed(current: dict[str, dict[str, Any]]) -> None:
    seed_codes = [sp.code for sp in SEED_PROCEDURES]
    counts: dict[str, Counter[str]] = {c: Counter() for c in seed_codes}
    for obj in current.values():
        intake = _intake(obj)
        if _received(obj) and intake and intake.year == 2019 and obj["MaTTHC"] in counts:
            counts[obj["MaTTHC"]]["online" if obj["KenhThucHien"] == 2 else "other"] += 1
    got = [(counts[c]["online"], counts[c]["other"]) for c in seed_codes]
    assert got == [(online, other) for _, _, online, other in SEED_ROWS]
    assert sum(map(sum, got)) == 477


def test_2019_all_resolved_on_time_in_2019(
    bundle: tuple[Path, dict[str, Any]], current: dict[str, dict[str, Any]]
) -> None:
    quarantined = set(bundle[1]["quarantined_dossiers"])
    seed_codes = {sp.code for sp in SEED_PROCEDURES}
    checked = 0
    channels: Counter[int] = Counter()
    for code, obj in current.items():
        intake = _intake(obj)
        if not (_received(obj) and intake and intake.year <= 2019):
            continue
        resolved = _resolution(obj)
        if intake.year == 2018:  # nothing carried over into 2019
            ended = resolved or _history_time(obj, (7, 8))
            assert ended is not None and ended.year == 2018, code
            continue
        if obj["MaTTHC"] not in seed_codes:
            assert code in quarantined, code  # only the records that must be quarantined
            continue
        due = _ts(obj.get("NgayHenTra"))
        assert due is not None and resolved is not None, code
        assert resolved.year == 2019 and resolved.date() <= due.date(), code
        assert not any(h["TrangThai"] in (7, 8) for h in obj["QuaTrinhXuLy"]), code
        channels[obj["KenhThucHien"]] += 1
        checked += 1
    assert checked == 477
    assert channels[2] == 11 and channels[3] > 0 and channels[1] + channels[3] == 466


def test_2019_has_dossiers_that_count_nowhere(current: dict[str, dict[str, Any]]) -> None:
    status = Counter(obj["TrangThaiHoSo"] for obj in current.values()
                     if not _received(obj)
                     and (_ts(obj.get("NgayNopHoSo")) or _ts(obj.get("NgayTuChoi"))
                          or dt.datetime.min).year == 2019)
    assert status[1] >= 2 and status[3] >= 2


def test_2020_has_open_late_withdrawn_stopped_and_unknown(
    current: dict[str, dict[str, Any]],
) -> None:
    year_end = dt.date(2020, 12, 31)
    received = [o for o in current.values()
                if _received(o) and (_intake(o) or dt.datetime.min).year == 2020]
    ends = Counter(o["TrangThaiHoSo"] for o in received)
    assert ends[7] == 1 and ends[8] == 1
    open_ = [o for o in received if o["TrangThaiHoSo"] in (2, 4, 5)]
    overdue = [o for o in open_ if _ts(o["NgayHenTra"]).date() < year_end]
    assert len(open_) > len(overdue) > 0
    late = [o for o in received
            if _resolution(o) and _resolution(o).date() > _ts(o["NgayHenTra"]).date()]
    assert late
    assert any(len(o.get("DanhSachHoSoBoSung") or []) > 0 for o in received)
    unknown = [o for o in received if o["MaTTHC"] == "1.999999"]
    assert len(unknown) == 1 and _ts(unknown[0]["NgayHenTra"]) is not None
    assert all(_ts(o["NgayCapNhat"]) <= dt.datetime(2020, 12, 31, 23, 59, 59)
               for o in current.values())
