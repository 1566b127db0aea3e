"""The annual report's numbers, computed from the warehouse for any year, period
convention and agency (I/O around pure transforms), handed to :mod:`motcua.report`
for rendering; and the dossiers behind any cell (``explain``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from motcua.report.exports import csv_safe
from transforms import period_counts, periods, rpt_appendix
from transforms.mart_indicator import ONLINE_LEVELS, rollup_map
from transforms.mart_indicator import build as build_indicators
from warehouse.engine import make_engine

INDICATOR_NAMES = {
    "on_time_rate": "Tỷ lệ hồ sơ giải quyết đúng hạn",
    "early_rate": "Tỷ lệ hồ sơ giải quyết trước hạn",
    "online_intake_rate": "Tỷ lệ hồ sơ tiếp nhận trực tuyến",
    "online_procedures_used_rate": "Tỷ lệ TTHC trực tuyến có phát sinh hồ sơ trực tuyến",
    "overdue_open": "Số hồ sơ đang giải quyết quá hạn",
    "processing_days_median": "Thời gian giải quyết, trung vị (ngày làm việc)",
    "processing_days_p90": "Thời gian giải quyết, phân vị 90 (ngày làm việc)",
    "published_rate": "Tỷ lệ TTHC công khai",
    "one_stop_rate": "Tỷ lệ TTHC thực hiện theo cơ chế một cửa",
    "inter_agency_rate": "Tỷ lệ TTHC thực hiện theo cơ chế một cửa liên thông",
    "satisfaction_rate": "Tỷ lệ hài lòng",
    "online_payment_rate": "Tỷ lệ thanh toán trực tuyến",
    "digitised_rate": "Tỷ lệ hồ sơ số hóa",
    "plan_completion_rate": "Tỷ lệ nhiệm vụ kế hoạch hoàn thành",
}
SCOPE = "*"


@dataclass
class Core:
    """What a report reads: the dossier facts (when loaded for a period, only those that
    reach it, in the agency scope: see :func:`load_core`) and the two dimensions;
    ``names`` (how often each procedure code was recorded under each name, by agency)
    and ``agency_codes`` (every agency code on a fact) are counted over every fact."""

    fct: pd.DataFrame
    dim_procedure: pd.DataFrame
    dim_agency: pd.DataFrame
    names: pd.DataFrame | None = None
    agency_codes: frozenset[str] | None = None


REPORT_FCT_COLUMNS = [
    "dossier_code", "agency_code", "procedure_code", "procedure_name_recorded", "is_received", "intake_at",
    "ended_at", "due_date", "resolved_at", "withdrawn_at", "resolution_class", "channel_code", "rating",
    "paid_online", "digitised", "processing_working_days", "applicant_pseudonym",
]
"""The fct_dossier columns reports and explanations use."""


def load_core(warehouse_url: str, year: int | None = None, convention: str = "calendar",
              agency: str | None = None) -> Core:
    """The core, read for a report of ``year`` (every fact when None): only the facts
    that can count in its period (received by its end and not ended before its start:
    every cell of tables 1–2, the indicators and the months is about such dossiers),
    only the agencies in ``agency``'s scope, only :data:`REPORT_FCT_COLUMNS`. Recorded
    names and agency codes are counted by the warehouse over every fact, so the report
    reads one period's dossiers, not the whole history."""
    import sqlalchemy as sa

    from flows.stages import iter_fct, read_dims
    from warehouse import load, schema

    t = schema.fct_dossier
    engine = make_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            dim_proc, dim_ag = read_dims(conn)
            codes = frozenset(str(c) for (c,) in conn.execute(
                sa.select(t.c.agency_code).where(t.c.agency_code.is_not(None)).distinct()))
            names = load.read_frame(conn, sa.select(
                t.c.agency_code, t.c.procedure_code, t.c.procedure_name_recorded, sa.func.count().label("n"))
                .group_by(t.c.agency_code, t.c.procedure_code, t.c.procedure_name_recorded))
            core = Core(pd.DataFrame(), dim_proc, dim_ag, names, codes)
            where = []
            if year is not None:
                start, end = period_of(year, convention)
                after_end = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
                where += [sa.or_(t.c.intake_at.is_(None), t.c.intake_at < after_end),
                          sa.or_(t.c.ended_at.is_(None), t.c.ended_at >= dt.datetime.combine(start, dt.time()))]
            members = agency_members(core, agency)
            if members is not None:
                where.append(t.c.agency_code.in_(sorted(members)))
            parts = list(iter_fct(conn, REPORT_FCT_COLUMNS, where=sa.and_(*where) if where else None))
            core.fct = (pd.concat(parts, ignore_index=True) if parts else
                        load.read_frame(conn, sa.select(*[t.c[c] for c in REPORT_FCT_COLUMNS]).limit(0)))
            if not parts:
                from flows.stages import _typed_fct

                core.fct = _typed_fct(core.fct)
            return core
    finally:
        engine.dispose()


def agency_members(core: Core, agency: str | None) -> set[str] | None:
    """Agency codes at or under ``agency`` (as it was or today); None = everything."""
    if not agency:
        return None
    codes = pd.concat([core.fct["agency_code"] if "agency_code" in core.fct else pd.Series(dtype="string"),
                       pd.Series(sorted(core.agency_codes or ()), dtype="string"),
                       core.dim_procedure["agency_code"], core.dim_agency["agency_code"]])
    ru = rollup_map(core.dim_agency, codes.dropna())
    members = set(ru.loc[ru["rollup_code"] == agency, "agency_code"])
    if not members:
        raise ValueError(f"unknown agency {agency!r}: not in core.dim_agency nor on any dossier")
    return members


def scoped(core: Core, agency: str | None) -> Core:
    members = agency_members(core, agency)
    if members is None:
        return core
    names = core.names[core.names["agency_code"].isin(members)] if core.names is not None else None
    return Core(core.fct[core.fct["agency_code"].isin(members)],
                core.dim_procedure[core.dim_procedure["agency_code"].isin(members)], core.dim_agency,
                names, core.agency_codes)


def recorded_names(core: Core) -> pd.DataFrame:
    """Recorded procedure names (counts) over every fact in ``core``'s scope; from its
    facts when the warehouse did not count them."""
    if core.names is None:
        return core.fct
    return core.names.drop(columns="agency_code")


def period_of(year: int, convention: str) -> tuple[dt.date, dt.date]:
    return periods.bounds(year, "year", 1, convention)


def latest_year(warehouse_url: str) -> int | None:
    """The year of the latest intake of a received dossier (None: no dossier)."""
    import sqlalchemy as sa

    from warehouse import schema

    t = schema.fct_dossier
    engine = make_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            latest = conn.execute(sa.select(sa.func.max(t.c.intake_at)).where(t.c.is_received)).scalar()
    finally:
        engine.dispose()
    return None if latest is None else pd.Timestamp(latest).year


def _single(start: dt.date, end: dt.date) -> pd.DataFrame:
    return pd.DataFrame({"period_start": [pd.Timestamp(start)], "period_end": [pd.Timestamp(end)]}).astype(
        "datetime64[us]")


def _table4(dim_procedure: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
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


def build_report(warehouse_url: str, year: int, convention: str = "calendar", agency: str | None = None,
                 plans: pd.DataFrame | None = None, core: Core | None = None):
    """Every table of the annual report for ``year`` (``ReportTables``)."""
    from motcua.report import ReportTables

    full = core or load_core(warehouse_url, year, convention, agency)
    c = scoped(full, agency)
    start, end = period_of(year, convention)
    counts = rpt_appendix.counts_for_period(c.fct, c.dim_procedure, start, end, names=recorded_names(c))
    table1, table2 = rpt_appendix.table1(counts), rpt_appendix.table2(counts)

    by_field = counts.assign(field_name=counts["field_name"].fillna("(không rõ lĩnh vực)")).groupby(
        "field_name", as_index=False).sum(numeric_only=True)
    form06 = pd.DataFrame({
        "field_name": by_field["field_name"], "received_total": by_field["received_total"],
        "received_online": by_field["received_online"], "received_offline": by_field["received_offline"],
        "carried_over": by_field["carried_over"], "resolved_total": by_field["resolved_total"],
        "resolved_early": by_field["resolved_early"],
        "resolved_on_time": by_field["resolved_on_time"] - by_field["resolved_early"],
        "resolved_late": by_field["resolved_late"], "pending_total": by_field["pending_total"],
        "pending_not_due": by_field["pending_not_due"], "pending_overdue": by_field["pending_overdue"],
    })
    form06 = form06[form06[["received_total", "resolved_total"]].sum(axis=1) > 0]

    # indicators for the report's scope: every agency collapsed into one
    grid = _single(start, end).assign(period_type="report")
    fct1 = c.fct.assign(agency_code=SCOPE)
    ind_counts = period_counts.count(fct1, grid, ["agency_code", "procedure_code"])
    ind_counts.insert(0, "period_type", "report")
    empty_ag = full.dim_agency.iloc[0:0]
    plan_frame = None
    if plans is not None and not plans.empty:
        plan_frame = plans.assign(agency_code=SCOPE)
    ind = build_indicators(ind_counts, fct1, empty_ag, c.dim_procedure.assign(agency_code=SCOPE), plan_frame)
    ind = ind[ind["agency_code"] == SCOPE]
    indicators = pd.DataFrame({
        "indicator_code": ind["indicator_code"], "name_vi": ind["indicator_code"].map(INDICATOR_NAMES),
        "numerator": ind["numerator"], "denominator": ind["denominator"], "value": ind["value"]})

    months = periods.grid(start, end, "month", convention)
    monthly = period_counts.count(c.fct.assign(_all=SCOPE), months, ["_all"])
    monthly_intake = pd.DataFrame({"month": pd.to_datetime(monthly["period_start"]).map(
        lambda d: d.month if convention == "calendar" else (d + pd.DateOffset(months=1)).month),
        "received_online": monthly["received_online"], "received_offline": monthly["received_offline"]})

    by_agency = period_counts.count(c.fct, _single(start, end), ["agency_code"])
    names = full.dim_agency.sort_values("valid_from").drop_duplicates("agency_code", keep="last").set_index(
        "agency_code")["agency_name"]
    open_by_agency = pd.DataFrame({"agency_code": by_agency["agency_code"],
                                   "agency_name": by_agency["agency_code"].map(names),
                                   "pending_not_due": by_agency["pending_not_due"],
                                   "pending_overdue": by_agency["pending_overdue"]})
    open_by_agency = open_by_agency[open_by_agency[["pending_not_due", "pending_overdue"]].sum(axis=1) > 0]

    f = c.fct
    resolved = f[f["is_received"].astype(bool) & f["resolved_at"].notna()
                 & (f["resolved_at"] >= pd.Timestamp(start)) & (f["resolved_at"] < pd.Timestamp(end) + pd.Timedelta(days=1))]
    hist = resolved["processing_working_days"].dropna().astype(int).value_counts().sort_index()
    processing_days = pd.DataFrame({"working_days": hist.index.to_numpy(), "dossiers": hist.to_numpy()})

    agency_name = "Tất cả đơn vị"
    if agency:
        agency_name = str(names.get(agency, agency))
    return ReportTables(
        title=f"Báo cáo công tác cải cách hành chính năm {year}", year=year, period_start=start, period_end=end,
        agency_name=agency_name, convention=convention,  # type: ignore[arg-type]
        table1=table1, table2=table2,
        table3=plans if plans is not None else pd.DataFrame(
            columns=["plan_name", "plan_number", "issued_on", "tasks_planned", "tasks_done", "note"]),
        table4=_table4(c.dim_procedure, start, end), form06=form06, indicators=indicators,
        monthly_intake=monthly_intake,
        ontime_by_field=form06.assign(resolved_on_time=form06["resolved_on_time"] + form06["resolved_early"])[
            ["field_name", "resolved_on_time", "resolved_total"]],
        ontime_by_procedure=table2[["procedure_code", "procedure_name", "resolved_on_time", "resolved_total"]],
        open_by_agency=open_by_agency, processing_days=processing_days)


# --------------------------------------------------------------------------- explain
WHY = {
    "received_new": "received in the period",
    "carried_over": "received before the period, not ended before it",
    "received_total": "carried over or received in the period",
    "resolved_on_time": "resolved in the period on or before its due day",
    "resolved_early": "resolved in the period before its due day",
    "resolved_late": "resolved in the period after its due day",
    "resolved_total": "resolved in the period",
    "pending_not_due": "open at the period end, due on or after the end",
    "pending_overdue": "open at the period end, due before the end",
    "pending_total": "open at the period end",
    "withdrawn": "withdrawn or stopped in the period",
    "received_online": "received online in the period",
    "received_offline": "received in person or by post in the period",
}
COLUMN_ALIASES = {"4": "received_total", "5": "carried_over", "6": "received_new", "7": "resolved_total",
                  "8": "resolved_on_time", "9": "resolved_late", "10": "pending_total", "11": "pending_not_due",
                  "12": "pending_overdue"}


def _per_dossier(c: Core, start: dt.date, end: dt.date, procedure: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    fct = c.fct if procedure is None else c.fct[c.fct["procedure_code"] == procedure]
    per = period_counts.add_totals(period_counts.count(fct, _single(start, end), ["procedure_code", "dossier_code"]))
    return per, fct


def _explained(per: pd.DataFrame, fct: pd.DataFrame, col: str) -> pd.DataFrame:
    hit = per[per[col] > 0]
    detail = fct.set_index("dossier_code").loc[hit["dossier_code"]]
    out = pd.DataFrame({
        "dossier_code": hit["dossier_code"].to_numpy(),
        "procedure_code": hit["procedure_code"].to_numpy(),
        "agency_code": detail["agency_code"].to_numpy(),
        "applicant": detail["applicant_pseudonym"].astype("string").str.slice(0, 12).to_numpy(),
        "channel": detail["channel_code"].to_numpy(),
        "intake_at": detail["intake_at"].to_numpy(),
        "due_date": detail["due_date"].to_numpy(),
        "resolved_at": detail["resolved_at"].to_numpy(),
        "withdrawn_at": detail["withdrawn_at"].to_numpy(),
        "why": WHY[col],
    })
    return out.sort_values(["procedure_code", "intake_at", "dossier_code"]).reset_index(drop=True)


SLUG_CHARS = 48
"""Longest readable part of a file name made from source data (the hash comes after it)."""


def safe_file_part(text: str, limit: int = SLUG_CHARS) -> str:
    """A file-name part for ``text`` read from the source (a procedure code …): a readable
    ASCII slug (letters, digits, ``.``, ``_``, ``-``; Vietnamese letters without their
    marks) of at most ``limit`` characters, then ``-`` and a 10-hex hash of the original
    text, so two different texts never share a name. No path separator, no NUL, no
    leading dot, whatever ``text`` holds (``../../x``, ``\\x00``, 300 characters)."""
    ascii_text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_text)
    slug = re.sub(r"\.{2,}", ".", slug)[:limit].strip(".-_")
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{slug}-{digest}" if slug else digest


def inside(folder: Path, name: str) -> Path:
    """``folder / name``, checked to stay inside ``folder`` once resolved (raises
    ``ValueError`` otherwise)."""
    base = folder.resolve()
    path = (base / name).resolve()
    if path.parent != base:
        raise ValueError(f"file name {name!r} would be written outside {folder}")
    return path


def explain_file_name(code: str, column: str) -> str:
    """The CSV under ``explain/`` holding the dossiers of one cell (see :func:`safe_file_part`)."""
    return f"{safe_file_part(str(code))}-{column}.csv"


def write_explanations(core: Core, year: int, convention: str, agency: str | None, out_dir: Path,
                       columns: tuple[str, ...] = tuple(WHY)) -> dict[tuple[str, str, str], str]:
    """One CSV per non-empty cell of tables 1–2 under ``out_dir/explain/``, named by
    :func:`explain_file_name` (never by the raw procedure code: it comes from the source);
    returns the ``explain_links`` mapping (relative paths) for the HTML report."""
    c = scoped(core, agency)
    start, end = period_of(year, convention)
    per, fct = _per_dossier(c, start, end, None)
    folder = out_dir / "explain"
    folder.mkdir(parents=True, exist_ok=True)
    links: dict[tuple[str, str, str], str] = {}
    for col in columns:
        rows = _explained(per, fct, col)
        for code, part in rows.groupby("procedure_code"):
            name = explain_file_name(str(code), col)
            csv_safe(part).to_csv(inside(folder, name), index=False, encoding="utf-8-sig")
            table = "table1" if col in ("received_online", "received_offline") else "table2"
            links[(table, str(code), col)] = f"explain/{name}"
    return links


def explain(warehouse_url: str, year: int, column: str, procedure: str | None = None, convention: str = "calendar",
            agency: str | None = None, core: Core | None = None) -> pd.DataFrame:
    """The dossiers behind one cell of tables 1–2 (or a whole column when ``procedure``
    is None): one row per dossier with its pseudonymised applicant, milestones, due and
    why it falls in the cell. Counted by the same code as the tables, so the row count
    always equals the cell."""
    col = COLUMN_ALIASES.get(column.strip("()"), column)
    if col not in WHY:
        raise ValueError(f"unknown column {column!r}; one of {sorted(WHY)} or (4)…(12)")
    c = scoped(core or load_core(warehouse_url, year, convention, agency), agency)
    start, end = period_of(year, convention)
    per, fct = _per_dossier(c, start, end, procedure)
    return _explained(per, fct, col)


def write_csv(tables, out_dir: Path) -> list[Path]:
    """Tables 1 and 2 with totals as CSV (UTF-8 with BOM), for ``motcua run``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, t in (("bieu1", tables.table1), ("bieu2", tables.table2)):
        p = out_dir / f"{name}-{tables.year}.csv"
        csv_safe(rpt_appendix.with_total(t)).to_csv(p, index=False, encoding="utf-8-sig")
        paths.append(p)
    return paths


# --------------------------------------------------------------------------- restatements
FIGURE_COLUMNS = ("received_total", "carried_over", "received_new", "resolved_total", "resolved_on_time",
                  "resolved_late", "pending_total", "pending_not_due", "pending_overdue", "withdrawn",
                  "received_online", "received_offline")


def figures(core: Core, year: int, convention: str, agency: str | None) -> dict[str, dict]:
    """Every non-zero cell of tables 1–2: ``"<procedure>|<column>" -> {"value", "dossiers"}``."""
    c = scoped(core, agency)
    start, end = period_of(year, convention)
    per, _ = _per_dossier(c, start, end, None)
    out: dict[str, dict] = {}
    for col in FIGURE_COLUMNS:
        hit = per[per[col] > 0]
        for code, part in hit.groupby("procedure_code"):
            out[f"{code}|{col}"] = {"value": int(part[col].sum()), "dossiers": sorted(part["dossier_code"].astype(str))}
    return out


def restatement(previous: dict[str, dict], current: dict[str, dict]) -> list[dict]:
    """The cells whose value changed since ``previous``, with the dossiers that entered or
    left each one."""
    changes = []
    for key in sorted(set(previous) | set(current)):
        old = previous.get(key, {"value": 0, "dossiers": []})
        new = current.get(key, {"value": 0, "dossiers": []})
        if old["value"] == new["value"] and old["dossiers"] == new["dossiers"]:
            continue
        procedure, column = key.split("|", 1)
        changes.append({"procedure_code": procedure, "column": column, "previous": old["value"],
                        "current": new["value"], "change": new["value"] - old["value"],
                        "dossiers_in": sorted(set(new["dossiers"]) - set(old["dossiers"])),
                        "dossiers_out": sorted(set(old["dossiers"]) - set(new["dossiers"]))})
    return changes


def publish_figures(warehouse_url: str, year: int, convention: str, agency: str | None,
                    core: Core | None = None) -> tuple[list[dict], dt.datetime | None]:
    """Record this publication in ``audit.publication`` and return what changed since the
    previous publication of the same report (and when that was; None the first time)."""
    import json
    import uuid

    import sqlalchemy as sa

    from flows import locks
    from warehouse import schema
    from warehouse.engine import create_schema

    current = figures(core or load_core(warehouse_url, year, convention, agency), year, convention, agency)
    scope = agency or SCOPE
    t = schema.publication
    engine = make_engine(warehouse_url)
    try:
        create_schema(engine)
        with locks.write_transaction(engine, "record the publication") as conn:
            last = conn.execute(
                sa.select(t.c.figures, t.c.published_at)
                .where(t.c.year == year, t.c.convention == convention, t.c.agency_scope == scope)
                .order_by(t.c.published_at.desc()).limit(1)).first()
            conn.execute(t.insert().values(publication_id=uuid.uuid4().hex, year=year, convention=convention,
                                           agency_scope=scope, published_at=dt.datetime.now(),
                                           figures=json.dumps(current, ensure_ascii=False)))
    finally:
        engine.dispose()
    if last is None:
        return [], None
    return restatement(json.loads(last[0]), current), last[1]


def restatement_text(changes: list[dict], since: dt.datetime | None) -> str:
    """A readable account of the changes, for the officer and the report folder."""
    if since is None:
        return "Lần công bố đầu tiên của báo cáo này: chưa có số liệu để so sánh."
    if not changes:
        return f"Không có ô số liệu nào thay đổi so với lần công bố {since:%d/%m/%Y %H:%M}."
    lines = [f"{len(changes)} ô số liệu thay đổi so với lần công bố {since:%d/%m/%Y %H:%M}:"]
    for ch in changes:
        moved = []
        if ch["dossiers_in"]:
            moved.append("thêm hồ sơ " + ", ".join(ch["dossiers_in"]))
        if ch["dossiers_out"]:
            moved.append("bớt hồ sơ " + ", ".join(ch["dossiers_out"]))
        lines.append(f"- TTHC {ch['procedure_code']}, cột {ch['column']}: {ch['previous']} -> {ch['current']} "
                     f"({ch['change']:+d}); " + "; ".join(moved))
    return "\n".join(lines)
