"""The sample's records that must be quarantined: one line per case of
:data:`QUARANTINE_CASES`, each with a dossier code of its own."""

from __future__ import annotations

import datetime as dt
from typing import Any

from motcua.dev.sample.catalogue import SEED_PROCEDURES, UNKNOWN_PROCEDURE_NO_DUE
from motcua.dev.sample.generator import Generator
from motcua.dev.sample.render import as_contract, json_line
from motcua.dev.sample.snapshots import snapshots, stamp

QUARANTINE_CASES: dict[str, str] = {
    "truncated": "a line cut off mid-JSON (the last line of a file)",
    "no_code": "no MaHoSo",
    "empty_code": "MaHoSo is an empty string",
    "status_42": "TrangThaiHoSo 42 (outside the status table)",
    "channel_9": "KenhThucHien 9 (outside the channel table)",
    "bad_updated": "NgayCapNhat 'not-a-date'",
    "resolved_before_intake": "NgayKetThucXuLy before NgayTiepNhan",
    "no_intake": "status 4 without NgayTiepNhan or a status-2 history entry",
    "bad_intake": "NgayTiepNhan '31/02/2019'",
    "bad_due": "NgayHenTra '2019-13-45'",
    "unknown_no_due": "procedure 1.888888 (not in the catalogue) and no NgayHenTra",
}


def quarantine_records(gen: Generator) -> list[tuple[str, str, dict[str, Any]]]:
    """(case, line text, applicant) for every record that must be quarantined. Each
    has a dossier code of its own; those on the seed's procedures cannot be read as a
    dossier at all (no JSON, no code), the others are on made-up procedures."""
    rng = gen.rng("quarantine")
    row9 = SEED_PROCEDURES[8].code
    out: list[tuple[str, str, dict[str, Any]]] = []
    for k, case in enumerate(QUARANTINE_CASES):
        intake = gen.random_day(rng, dt.date(2019, 2, 11), dt.date(2019, 11, 29))
        if case in ("truncated", "no_code", "empty_code"):
            proc = gen.proc_on(row9, intake)
        else:
            made_up = [p for p in gen.procs_on(intake) if p.seed_row is None]
            proc = made_up[(k * 7) % len(made_up)]
        outcome = "on_time" if case == "resolved_before_intake" else "open"
        d = gen.received(rng, year=2019, proc=proc, channel=1, intake=intake, outcome=outcome)
        d.events = [e for e in d.events if e.kind != "return"]
        stamp(rng, d)
        snap = snapshots(d)[-1]
        if case == "no_code":
            del snap["MaHoSo"]
        elif case == "empty_code":
            snap["MaHoSo"] = ""
        elif case == "status_42":
            snap["TrangThaiHoSo"] = 42
        elif case == "channel_9":
            snap["KenhThucHien"] = 9
        elif case == "bad_updated":
            snap["NgayCapNhat"] = "not-a-date"
        elif case == "resolved_before_intake":
            early = dt.datetime.combine(gen.cal.before(intake, 2), dt.time(9, 12, 40))
            snap["NgayKetThucXuLy"] = early
            for entry in snap["QuaTrinhXuLy"]:
                if entry["TrangThai"] == 9:
                    entry["ThoiDiemXuLy"] = early
        elif case == "no_intake":
            snap["NgayTiepNhan"] = None
            snap["QuaTrinhXuLy"] = [e for e in snap["QuaTrinhXuLy"] if e["TrangThai"] != 2]
        elif case == "bad_intake":
            snap["NgayTiepNhan"] = "31/02/2019"
        elif case == "bad_due":
            snap["NgayHenTra"] = "2019-13-45"
        elif case == "unknown_no_due":
            snap["MaTTHC"] = UNKNOWN_PROCEDURE_NO_DUE
            snap["TenTTHC"] = "Thủ tục không rõ mã (minh họa)"
            snap["NgayHenTra"] = None
        text = json_line(as_contract(snap))
        out.append((case, text[: len(text) // 2] if case == "truncated" else text,
                    d.applicant))
    return out

