"""The sample's snapshots: each event of a dossier given a time in office hours, and one
full snapshot of the dossier per event, with its history so far."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from motcua.dev.sample.catalogue import CENTRE_MERGER, FIELD_NAMES
from motcua.dev.sample.contract import SNAPSHOT_FIELDS
from motcua.dev.sample.generator import Dossier
from motcua.dev.sample.people import NOTES, OFFICE, STAFF
from motcua.dev.sample.workdays import DUE_TIME, SLOTS


def stamp(rng: random.Random, d: Dossier) -> None:
    """Give each event a time: office hours, increasing within the day."""
    i = 0
    while i < len(d.events):
        j = i
        while j < len(d.events) and d.events[j].day == d.events[i].day:
            j += 1
        minutes = sorted(rng.sample(SLOTS, j - i))
        for e, m in zip(d.events[i:j], minutes, strict=True):
            e.at = dt.datetime.combine(e.day, dt.time(m // 60, m % 60, rng.randint(0, 59)))
        i = j


def snapshots(d: Dossier) -> list[dict[str, Any]]:
    """One full snapshot per event, with the history so far (times as datetimes)."""
    p = d.proc
    state: dict[str, Any] = dict.fromkeys(SNAPSHOT_FIELDS)
    state.update({
        "MaHoSo": d.code, "MaTTHC": p.code, "TenTTHC": p.name,
        "MaLinhVuc": p.field_code, "TenLinhVuc": FIELD_NAMES[p.field_code],
        "MaDonVi": p.agency, "KenhThucHien": d.channel, **d.applicant,
        "DuocThanhToanTrucTuyen": False, "HoSoCoThanhPhanSoHoa": d.digitised,
    })
    history: list[dict[str, Any]] = []
    supplements: list[dict[str, Any]] = []
    rounds = iter(d.rounds)
    current_round: tuple[dt.date, dt.date, dt.date, dt.date] | None = None
    out: list[dict[str, Any]] = []
    for e in d.events:
        at = e.at
        assert at is not None
        agency, office = p.agency, OFFICE[p.field_code]
        staff_pool = STAFF.get(p.agency, STAFF["SKHCN-BRVT"])
        note = NOTES[e.kind]
        if e.kind == "submit":
            state["NgayNopHoSo"] = at
            office, staff = OFFICE["portal"], d.applicant["ChuHoSo"]
        elif e.kind in ("intake", "refuse", "return"):
            office = OFFICE["desk"]
            staff = _staff(d.code, e.kind, STAFF["desk"])
            if e.kind == "intake":
                assert d.due0 is not None
                due = dt.datetime.combine(d.due0, DUE_TIME)
                state["NgayTiepNhan"], state["NgayHenTra"] = at, due
                note = note.format(due=f"{d.due0:%d/%m/%Y}")
            elif e.kind == "refuse":
                state["NgayTuChoi"] = at
            else:
                state["NgayTra"] = at
                state["DanhGia"] = d.rating
                state["DuocThanhToanTrucTuyen"] = d.paid_online
        else:
            if p.seed_row in (5, 14) or (p.seed_row is None and p.field_code == "HDKHCN"
                                         and int(p.code[-2:]) % 3 == 0):
                agency = "TTTK-BRVT" if e.day < CENTRE_MERGER else "TTUD-BRVT"
                office = OFFICE["centre"]
                staff_pool = STAFF[agency]
            staff = _staff(d.code, "process", staff_pool)
            if e.kind == "request":
                current_round = next(rounds)
                supplements.append({
                    "NgayYeuCauBoSung": at, "NgayBoSung": None,
                    "NgayHenTraTruoc": dt.datetime.combine(current_round[2], DUE_TIME),
                    "NgayHenTraMoi": None,
                })
            elif e.kind == "resume":
                assert current_round is not None
                new_due = dt.datetime.combine(current_round[3], DUE_TIME)
                supplements[-1] = {**supplements[-1], "NgayBoSung": at, "NgayHenTraMoi": new_due}
                state["NgayHenTra"] = new_due
            elif e.kind == "resolve":
                state["NgayKetThucXuLy"] = at
        history.append({"TrangThai": e.status, "ThoiDiemXuLy": at, "DonViXuLy": agency,
                        "PhongBanXuLy": office, "NguoiXuLy": staff, "NoiDungXuLy": note})
        state["TrangThaiHoSo"] = e.status
        state["NgayCapNhat"] = at
        state["DanhSachHoSoBoSung"] = [dict(s) for s in supplements]
        state["QuaTrinhXuLy"] = [dict(h) for h in history]
        out.append(dict(state))
    return out


def _staff(code: str, step: str, pool: list[str]) -> str:
    """A stable staff member for a dossier's step (the same person on every snapshot)."""
    return pool[sum(map(ord, code + step)) % len(pool)]
