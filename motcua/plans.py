"""The reform officer's plan register (table 3): a small spreadsheet of its own.

Columns (Vietnamese or English headers, matched without accents or case): plan
(``Kế hoạch``), number (``Số``/``Số hiệu``), issue date (``Thời gian ban hành``,
dd/mm/yyyy or ISO), tasks planned (``Số nhiệm vụ … trong kế hoạch``), tasks done
(``… được hoàn thành``), note (``Ghi chú``). Rows are validated: a bad row is an error
naming the row and the problem, never silently dropped.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pandas as pd

COLUMNS = ["plan_name", "plan_number", "issued_on", "tasks_planned", "tasks_done", "note"]


class PlanRegisterError(ValueError):
    """The plan register cannot be read or has invalid rows."""


def _key(text: str) -> str:
    t = unicodedata.normalize("NFD", str(text)).replace("đ", "d").replace("Đ", "D")
    t = "".join(ch for ch in t if unicodedata.category(ch) != "Mn").lower()
    return re.sub(r"[^a-z0-9]+", " ", t).strip()


def _column_for(header: str) -> str | None:
    k = _key(header)
    if k in ("stt", "tt"):
        return None
    if "hoan thanh" in k or k in ("tasks done", "done"):
        return "tasks_done"
    if "nhiem vu" in k or k in ("tasks planned", "planned"):
        return "tasks_planned"
    if "ban hanh" in k or "ngay" in k or k in ("issued on", "issue date", "date"):
        return "issued_on"
    if "ghi chu" in k or k == "note":
        return "note"
    if k in ("so", "so hieu", "so ky hieu", "number", "plan number"):
        return "plan_number"
    if "ke hoach" in k or k in ("plan", "plan name"):
        return "plan_name"
    return None


def read_plan_register(path: Path | str) -> pd.DataFrame:
    """Read and validate a plan register (CSV or XLSX)."""
    p = Path(path)
    if not p.exists():
        raise PlanRegisterError(f"plan register {p} does not exist")
    raw = pd.read_excel(p, dtype=str) if p.suffix.lower() == ".xlsx" else pd.read_csv(
        p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    mapping = {c: _column_for(c) for c in raw.columns}
    found = {v for v in mapping.values() if v}
    missing = [c for c in ("plan_name", "issued_on", "tasks_planned", "tasks_done") if c not in found]
    if missing:
        raise PlanRegisterError(f"plan register {p}: no column for {missing}; headers were {list(raw.columns)}")
    df = raw.rename(columns={k: v for k, v in mapping.items() if v})[[c for c in COLUMNS if c in found]]
    for c in COLUMNS:
        if c not in df.columns:
            df[c] = None
    df = df[COLUMNS]
    df = df[df["plan_name"].fillna("").str.strip() != ""].reset_index(drop=True)
    problems = []
    dates = pd.to_datetime(df["issued_on"], dayfirst=True, errors="coerce", format="mixed")
    planned = pd.to_numeric(df["tasks_planned"], errors="coerce")
    done = pd.to_numeric(df["tasks_done"], errors="coerce")
    for i in range(len(df)):
        row = f"row {i + 1} ({df.loc[i, 'plan_name']!r})"
        if pd.isna(dates[i]):
            problems.append(f"{row}: issue date {df.loc[i, 'issued_on']!r} is not a date")
        if pd.isna(planned[i]) or planned[i] < 0:
            problems.append(f"{row}: tasks planned {df.loc[i, 'tasks_planned']!r} is not a count")
        if pd.isna(done[i]) or done[i] < 0:
            problems.append(f"{row}: tasks done {df.loc[i, 'tasks_done']!r} is not a count")
        elif not pd.isna(planned[i]) and done[i] > planned[i]:
            problems.append(f"{row}: {int(done[i])} tasks done of {int(planned[i])} planned")
    if problems:
        raise PlanRegisterError(f"plan register {p}: " + "; ".join(problems))
    df["issued_on"] = dates.dt.date
    df["tasks_planned"] = planned.astype("int64")
    df["tasks_done"] = done.astype("int64")
    df["note"] = df["note"].fillna("")
    df["plan_number"] = df["plan_number"].fillna("")
    return df
