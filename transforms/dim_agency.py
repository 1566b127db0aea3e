"""dim_agency: one row per agency version (type-2), agency_code x valid_from.

From ``agencies.csv``: name, parent (``MaDonViCha``), validity and the agency that took
it over (``ThayTheBoi``) when it merged or ended. Codes seen on dossiers but absent
from the list get a placeholder row (``is_known`` False) so that every fact finds its
agency. :func:`rollup_paths` gives each agency its chain of ancestors, both as it was
(``parent_code``) and as of today (following successors), for roll-ups.
"""

from __future__ import annotations

import pandas as pd

from transforms.dim_procedure import OPEN_START, _date, _date_text

COLUMNS = ["agency_code", "valid_from", "valid_to", "agency_name", "parent_code", "successor_code", "is_known"]


def _text(values: pd.Series) -> pd.Series:
    s = values.astype("string").str.strip()
    return s.mask(s == "")


def build(agencies: pd.DataFrame, seen_codes: set[str] | None = None) -> pd.DataFrame:
    """Agency rows -> dimension rows (plus placeholders for ``seen_codes`` not listed)."""
    a = agencies
    out = pd.DataFrame(
        {
            "agency_code": _text(a["MaDonVi"]),
            "valid_from": _date(a["HieuLucTu"]).fillna(OPEN_START),
            "valid_to": _date(a["HieuLucDen"]),
            "agency_name": _text(a["TenDonVi"]),
            "parent_code": _text(a["MaDonViCha"]),
            "successor_code": _text(a["ThayTheBoi"]),
            "is_known": True,
        }
    )
    out = out[out["agency_code"].notna()]
    missing = sorted((seen_codes or set()) - set(out["agency_code"]))
    if missing:
        extra = pd.DataFrame(
            {
                "agency_code": pd.array(missing, dtype="string"),
                "valid_from": OPEN_START,
                "valid_to": pd.NaT,
                "agency_name": pd.array([None] * len(missing), dtype="string"),
                "parent_code": pd.array([None] * len(missing), dtype="string"),
                "successor_code": pd.array([None] * len(missing), dtype="string"),
                "is_known": False,
            }
        )
        extra["valid_to"] = extra["valid_to"].astype("datetime64[us]")
        out = pd.concat([out, extra], ignore_index=True)
    out = out.drop_duplicates(["agency_code", "valid_from"], keep="last")
    out["is_known"] = out["is_known"].astype(bool)
    return out.sort_values(["agency_code", "valid_from"]).reset_index(drop=True)[COLUMNS]


def to_catalogue(dim: pd.DataFrame) -> pd.DataFrame:
    """Dimension rows -> ``agencies.csv`` rows (text), placeholders (``is_known`` False)
    left out: the inverse of :func:`build` (``build(to_catalogue(dim), seen)`` gives
    ``dim`` back when ``seen`` holds the placeholders' codes), for re-placing records
    with the warehouse's own catalogue (a quarantine retry)."""
    known = dim[dim["is_known"].astype("boolean").fillna(False).astype(bool)]
    return pd.DataFrame({
        "MaDonVi": known["agency_code"].astype("string").fillna(""),
        "TenDonVi": known["agency_name"].astype("string").fillna(""),
        "MaDonViCha": known["parent_code"].astype("string").fillna(""),
        "HieuLucTu": _date_text(known["valid_from"], open_start=True),
        "HieuLucDen": _date_text(known["valid_to"]),
        "ThayTheBoi": known["successor_code"].astype("string").fillna(""),
    }).reset_index(drop=True)


def _latest(dim: pd.DataFrame) -> pd.DataFrame:
    return dim.sort_values(["agency_code", "valid_from"]).drop_duplicates("agency_code", keep="last").set_index("agency_code")


def ancestors(dim: pd.DataFrame, follow_successors: bool) -> dict[str, list[str]]:
    """For every agency code: itself, then its ancestors up the tree.

    With ``follow_successors`` the tree is today's: an agency that was taken over is
    replaced by its successor (repeatedly) before going up, so a past year rolls up
    to the agencies that exist now. Cycles are cut.
    """
    latest = _latest(dim)
    parent = latest["parent_code"].dropna().to_dict()
    successor = latest["successor_code"].dropna().to_dict()
    out: dict[str, list[str]] = {}
    for code in latest.index:
        chain = [code]
        seen = {code}
        cur = code
        while True:
            nxt = None
            if follow_successors and cur in successor and successor[cur] not in seen:
                nxt = successor[cur]
            elif cur in parent and parent[cur] not in seen:
                nxt = parent[cur]
            if not nxt:
                break
            chain.append(nxt)
            seen.add(nxt)
            cur = nxt
        out[code] = chain
    return out
