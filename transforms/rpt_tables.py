"""The report's tables from a pass's sums (:class:`transforms.rpt_counts.ReportCounts`):
tables 1–4, Biểu 06, the indicators of the scope and the frames behind the charts, as
the fields of :class:`motcua.report.ReportTables`. Pure.

Grain: table 1 and 2, one row per procedure; table 4, one row per criterion; Biểu 06,
one row per field (lĩnh vực) with a dossier; indicators, one row per indicator."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from transforms import period_counts, rpt_appendix
from transforms.mart_indicator import ONLINE_LEVELS, add_histograms
from transforms.mart_indicator import build as build_indicators
from transforms.report_tables import TABLE3
from transforms.rpt_counts import SCOPE, ReportCounts, Scope


def table4(dim_procedure: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Table 4: the procedures in force at some time in [start, end] (their latest
    version), counted by published, one-stop, inter-agency and online level 3–4."""
    p = dim_procedure.copy()
    valid_to = p["valid_to"].fillna(pd.Timestamp("2200-01-01"))
    p = p[(p["valid_from"] <= pd.Timestamp(end)) & (valid_to >= pd.Timestamp(start))]
    p = p.sort_values("valid_from").drop_duplicates("procedure_code", keep="last")
    total = len(p)
    level = p["service_level"].astype("string").str.strip().str.lower()

    def row(criterion: str, mask: pd.Series, note: str = "") -> dict:
        n = int(mask.fillna(False).astype(bool).sum())
        return {"criterion": criterion, "count": n, "share_pct": (100.0 * n / total) if total else None, "note": note}

    top = level.isin(["4", "toan_trinh"])
    n_top = int(top.sum())
    return pd.DataFrame([
        row("Số TTHC được công khai đầy đủ, đúng quy định Cổng thông tin điện tử hoặc Trang thông tin điện tử tỉnh",
            p["is_published"].astype("boolean")),
        row("Số lượng các TTHC thực hiện ở địa phương được giải quyết theo cơ chế một cửa",
            p["is_one_stop"].astype("boolean")),
        row("Số TTHC giải quyết theo cơ chế một cửa liên thông", p["is_inter_agency"].astype("boolean")),
        row("Số TTHC thực hiện cung cấp dịch vụ công trực tuyến mức độ 3,4", level.isin(list(ONLINE_LEVELS)),
            f"{n_top:02d} Mức độ 4" if n_top else ""),
    ])


def form06(counts: pd.DataFrame) -> pd.DataFrame:
    """Biểu 06 from table 2's counts per procedure (with ``field_name``): one row per
    field with a dossier received or resolved; on time there excludes early."""
    by_field = counts.assign(field_name=counts["field_name"].fillna("(không rõ lĩnh vực)")).groupby(
        "field_name", as_index=False).sum(numeric_only=True)
    out = pd.DataFrame({
        "field_name": by_field["field_name"], "received_total": by_field["received_total"],
        "received_online": by_field["received_online"], "received_offline": by_field["received_offline"],
        "carried_over": by_field["carried_over"], "resolved_total": by_field["resolved_total"],
        "resolved_early": by_field["resolved_early"],
        "resolved_on_time": by_field["resolved_on_time"] - by_field["resolved_early"],
        "resolved_late": by_field["resolved_late"], "pending_total": by_field["pending_total"],
        "pending_not_due": by_field["pending_not_due"], "pending_overdue": by_field["pending_overdue"],
    })
    return out[out[["received_total", "resolved_total"]].sum(axis=1) > 0]


def scope_indicators(acc: ReportCounts, scope: Scope, plans: pd.DataFrame | None) -> pd.DataFrame:
    """The indicators of the report's scope, every agency collapsed into one."""
    ind_counts = acc.by("procedure_code").drop(columns=list(period_counts.TOTALS))
    ind_counts.insert(0, "agency_code", SCOPE)
    ind_counts.insert(0, "period_type", "report")
    plan_frame = plans.assign(agency_code=SCOPE) if plans is not None and not plans.empty else None
    ind = build_indicators(ind_counts, None, scope.dim_agency.iloc[0:0], scope.dim_procedure.assign(agency_code=SCOPE),
                           plan_frame, days_histogram=add_histograms(acc.scope_days), scopes=("rollup",))
    ind = ind[ind["agency_code"] == SCOPE]
    return pd.DataFrame({
        "indicator_code": ind["indicator_code"], "name_vi": ind["indicator_code"].map(scope.indicator_names),
        "numerator": ind["numerator"], "denominator": ind["denominator"], "value": ind["value"]})


def tables_of(acc: ReportCounts, scope: Scope, year: int, convention: str, agency: str | None,
              plans: pd.DataFrame | None) -> dict[str, Any]:
    """The fields of ``ReportTables`` from a pass's sums."""
    start, end = acc.start, acc.end
    counts = rpt_appendix.procedure_names(acc.by("procedure_code"), scope.dim_procedure, scope.names)
    table1, table2 = rpt_appendix.table1(counts), rpt_appendix.table2(counts)
    f06 = form06(counts)

    monthly = acc.months()
    monthly_intake = pd.DataFrame({"month": pd.to_datetime(monthly["period_start"]).map(
        lambda d: d.month if convention == "calendar" else (d + pd.DateOffset(months=1)).month),
        "received_online": monthly["received_online"], "received_offline": monthly["received_offline"]})

    by_agency = acc.by("agency_code")
    names = scope.dim_agency.sort_values("valid_from").drop_duplicates("agency_code", keep="last").set_index(
        "agency_code")["agency_name"]
    open_by_agency = pd.DataFrame({"agency_code": by_agency["agency_code"],
                                   "agency_name": by_agency["agency_code"].map(names),
                                   "pending_not_due": by_agency["pending_not_due"],
                                   "pending_overdue": by_agency["pending_overdue"]})
    open_by_agency = open_by_agency[open_by_agency[["pending_not_due", "pending_overdue"]].sum(axis=1) > 0]

    return {
        "title": f"Báo cáo công tác cải cách hành chính năm {year}", "year": year, "period_start": start,
        "period_end": end, "agency_name": str(names.get(agency, agency)) if agency else "Tất cả đơn vị",
        "convention": convention, "table1": table1, "table2": table2,
        "table3": plans if plans is not None else pd.DataFrame(columns=list(TABLE3.frame_columns)),
        "table4": table4(scope.dim_procedure, start, end), "form06": f06,
        "indicators": scope_indicators(acc, scope, plans), "monthly_intake": monthly_intake,
        "ontime_by_field": f06.assign(resolved_on_time=f06["resolved_on_time"] + f06["resolved_early"])[
            ["field_name", "resolved_on_time", "resolved_total"]],
        "ontime_by_procedure": table2[["procedure_code", "procedure_name", "resolved_on_time", "resolved_total"]],
        "open_by_agency": open_by_agency, "processing_days": acc.processing_days(),
    }
