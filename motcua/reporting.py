"""Computing the annual report's tables from the warehouse (I/O around the pure
:mod:`transforms.rpt_appendix`), and printing them in a terminal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from transforms import periods, rpt_appendix
from transforms.mart_indicator import rollup_map
from warehouse.engine import make_engine


@dataclass
class AppendixTables:
    year: int
    start: dt.date
    end: dt.date
    convention: str
    agency: str | None
    table1: pd.DataFrame
    table2: pd.DataFrame
    counts: pd.DataFrame


def load_core(warehouse_url: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from flows.stages import read_core

    engine = make_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            return read_core(conn)
    finally:
        engine.dispose()


def filter_agency(fct: pd.DataFrame, dim_agency: pd.DataFrame, agency: str | None) -> pd.DataFrame:
    """Dossiers received by ``agency`` or any agency under it (as it was or today)."""
    if not agency:
        return fct
    ru = rollup_map(dim_agency, fct["agency_code"])
    members = set(ru.loc[ru["rollup_code"] == agency, "agency_code"])
    if not members:
        raise ValueError(f"agency {agency!r} has no dossiers in the warehouse")
    return fct[fct["agency_code"].isin(members)]


def appendix_tables(warehouse_url: str, year: int, convention: str = "calendar",
                    agency: str | None = None) -> AppendixTables:
    fct, dim_proc, dim_ag = load_core(warehouse_url)
    fct = filter_agency(fct, dim_ag, agency)
    start, end = periods.bounds(year, "year", 1, convention)
    counts = rpt_appendix.counts_for_period(fct, dim_proc, start, end)
    return AppendixTables(year, start, end, convention, agency, rpt_appendix.table1(counts),
                          rpt_appendix.table2(counts), counts)


def latest_year(warehouse_url: str) -> int | None:
    fct, _, _ = load_core(warehouse_url)
    r = fct.loc[fct["is_received"].astype(bool), "intake_at"]
    return None if r.empty else int(r.max().year)


def write_csv(tables: AppendixTables, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, t in (("bieu1", tables.table1), ("bieu2", tables.table2)):
        p = out_dir / f"{name}-{tables.year}.csv"
        rpt_appendix.with_total(t).to_csv(p, index=False, encoding="utf-8-sig")
        paths.append(p)
    return paths


def print_tables(tables: AppendixTables) -> None:
    """Print tables 1 and 2 (with their totals rows) in the terminal."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=200)
    label = f"{tables.start:%d/%m/%Y}–{tables.end:%d/%m/%Y}"
    t1 = Table(title=f"Biểu 1. KẾT QUẢ TIẾP NHẬN, GIẢI QUYẾT HỒ SƠ TTHC, DVC NĂM {tables.year} ({label})")
    for h in ("TT", "Mã TTHC", "Tên TTHC, DVC", "Mức độ", "Địa chỉ đăng tải", "Trực tuyến", "Không trực tuyến"):
        t1.add_column(h, overflow="fold", max_width=60 if h == "Tên TTHC, DVC" else None)
    rows1 = rpt_appendix.with_total(tables.table1)
    for i, r in rows1.iterrows():
        last = i == len(rows1) - 1
        t1.add_row("" if last else str(i + 1), "" if last else str(r["procedure_code"]), str(r["procedure_name"]),
                   "" if last else str(r["service_level"] or ""), "" if last else str(r["service_url"] or ""),
                   str(int(r["received_online"])), str(int(r["received_offline"])), style="bold" if last else None)
    console.print(t1)
    t2 = Table(title=f"Biểu 2. TỔNG HỢP SỐ LƯỢNG HỒ SƠ GIẢI QUYẾT TẠI TẤT CẢ CÁC LĨNH VỰC NĂM {tables.year} ({label})")
    heads = ["(1) STT", "Mã TTHC", "(2) Tên TTHC", "(3) Lĩnh vực", "(4) Tổng", "(5) Kỳ trước", "(6) Mới",
             "(7) Đã GQ", "(8) Đúng hạn", "(9) Quá hạn", "(10) Đang GQ", "(11) Chưa đến hạn", "(12) Quá hạn",
             "Rút/dừng"]
    for h in heads:
        t2.add_column(h, overflow="fold", max_width=50 if "Tên" in h else None)
    rows2 = rpt_appendix.with_total(tables.table2)
    nums = ["received_total", "carried_over", "received_new", "resolved_total", "resolved_on_time",
            "resolved_late", "pending_total", "pending_not_due", "pending_overdue", "withdrawn"]
    for i, r in rows2.iterrows():
        last = i == len(rows2) - 1
        t2.add_row("" if last else str(i + 1), "" if last else str(r["procedure_code"]), str(r["procedure_name"]),
                   "" if last else str(r["field_name"] or ""), *[str(int(r[c])) for c in nums],
                   style="bold" if last else None)
    console.print(t2)
