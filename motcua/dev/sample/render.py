"""The sample's lines: a snapshot as a JSON line, with the harmless mess of real logs
(decomposed Unicode, other spellings, empty strings for nulls, other timestamp forms,
shuffled or repeated history entries, legacy records without some fields)."""

from __future__ import annotations

import datetime as dt
import json
import random
import unicodedata
from functools import lru_cache
from typing import Any

from motcua.dev.sample.contract import TIMESTAMP_FIELDS


@lru_cache(maxsize=1 << 16)
def _fmt(value: dt.datetime) -> str:
    return f"{value:%Y%m%d%H%M%S}"


def _fmt_styled(value: dt.datetime, style: str) -> str:
    utc = value - dt.timedelta(hours=7)
    return {
        "offset": f"{value:%Y%m%d%H%M%S}+07:00",
        "iso": f"{value:%Y-%m-%dT%H:%M:%S}+07:00",
        "iso_z": f"{utc:%Y-%m-%dT%H:%M:%SZ}",
        "z": f"{utc:%Y%m%d%H%M%S}Z",
    }[style]


def _ts(value: Any) -> Any:
    return _fmt(value) if isinstance(value, dt.datetime) else value


def as_contract(snap: dict[str, Any]) -> dict[str, Any]:
    """A snapshot with its datetimes (top level, supplement rounds, history) as contract
    timestamps."""
    out = dict(snap)
    for k in TIMESTAMP_FIELDS:
        if k in out:
            out[k] = _ts(out[k])
    for key, fields in (("DanhSachHoSoBoSung", None), ("QuaTrinhXuLy", ("ThoiDiemXuLy",))):
        items = out.get(key)
        if isinstance(items, list):
            out[key] = [
                {k: (_ts(v) if fields is None or k in fields else v) for k, v in item.items()}
                for item in items
            ]
    return out


def json_line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


_TCDLCL_SPELLINGS = ["TCĐLCL", "TCDLCL"]


def render_line(snap: dict[str, Any], rng: random.Random, *, legacy: bool) -> str:
    """One snapshot as a JSON line, with the harmless mess of real logs."""
    s = dict(snap)
    if rng.random() < 0.1:
        s["TenTTHC"] = unicodedata.normalize("NFD", s["TenTTHC"])
    r = rng.random()
    if s["MaLinhVuc"] == "TCDLCL" and r < 0.35:
        s["TenLinhVuc"] = _TCDLCL_SPELLINGS[int(r < 0.2)]
    elif r > 0.9:
        s["TenLinhVuc"] = unicodedata.normalize("NFD", s["TenLinhVuc"])
    history = [dict(h) for h in s["QuaTrinhXuLy"]]
    if len(history) > 1 and rng.random() < 0.15:
        rng.shuffle(history)
    if len(history) > 2 and rng.random() < 0.03:
        history.insert(rng.randrange(len(history)), dict(history[1]))
    if rng.random() < 0.1:
        style = rng.choice(["offset", "iso", "iso_z", "z"])
        for k in TIMESTAMP_FIELDS:
            if isinstance(s[k], dt.datetime) and rng.random() < 0.6:
                s[k] = _fmt_styled(s[k], style)
        for h in history:
            if rng.random() < 0.5:
                h["ThoiDiemXuLy"] = _fmt_styled(h["ThoiDiemXuLy"], style)
    s["QuaTrinhXuLy"] = history
    if rng.random() < 0.3:
        s = {k: ("" if v is None else v) for k, v in s.items()}
    if legacy:
        for k in ("NgayHenTra", "DanhSachHoSoBoSung", "DanhGia", "DuocThanhToanTrucTuyen",
                  "HoSoCoThanhPhanSoHoa", "Email"):
            s.pop(k, None)
    return json_line(as_contract(s))

