"""The BI views: the marts cut so that a BI user cannot add up what does not add.

One view per period type (``_year``: calendar years, ``_month``: calendar months,
``_decree09_year``: Decree 09/2019/NĐ-CP's reporting years, 15/12 to 14/12), so a chart
never mixes a year row with its own month rows; and, in each, the measures by how they
add:

* ``mart.v_dossier_flows_<period>``: **flows**, what happened during the period
  (received, resolved, withdrawn, by channel). They add across agencies, procedures and
  fields, and the months of a calendar year add up to the year.
* ``mart.v_dossier_stocks_<period>``: **stocks**, the dossiers open at a date (carried
  over = open at the period's start; pending = open at its end). They add across
  agencies, procedures and fields, never across periods.
* ``mart.v_indicator_<period>``: the indicators with their names, unit and whether they
  add (``core.dim_indicator``) and the agency scope: filter ``agency_scope = 'rollup'``
  for one agency's figure (it includes every agency under it), or sum numerators and
  denominators over ``agency_scope = 'own'`` rows across agencies.

Created by revision 0006 (``warehouse/migrations``). A change to a view's SQL or columns
needs a new revision that re-creates it with a frozen copy of the new SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

PERIOD_SUFFIXES = {"year": "year", "month": "month", "decree09_year": "decree09_year"}
"""``period_type`` -> the suffix of its views."""


@dataclass(frozen=True)
class ViewColumn:
    name: str
    type_: type[sa.types.TypeEngine]
    comment: str


@dataclass(frozen=True)
class BIView:
    """One BI view: its name (schema ``mart``), comment, columns and SQL."""

    name: str
    comment: str
    columns: tuple[ViewColumn, ...]
    sql: str


def _c(vi: str, en: str) -> str:
    return f"{vi} / {en}"


_PERIOD = (
    ViewColumn("period_start", sa.Date, _c("Từ ngày", "first day of the period")),
    ViewColumn("period_end", sa.Date, _c("Đến ngày", "last day of the period")),
    ViewColumn("agency_code", sa.String, _c("Mã đơn vị", "receiving agency")),
)
_PROCEDURE = (
    ViewColumn("procedure_code", sa.String, _c("Mã TTHC", "procedure code")),
    ViewColumn("procedure_name", sa.String, _c("Tên TTHC", "procedure name")),
    ViewColumn("field_name", sa.String, _c("Lĩnh vực", "field")),
)
_FLOWS = (
    ViewColumn("received_new", sa.BigInteger, _c("(6) Số mới tiếp nhận", "flow: received in the period")),
    ViewColumn("received_online", sa.BigInteger, _c("Tiếp nhận trực tuyến", "flow: new dossiers received online")),
    ViewColumn("received_offline", sa.BigInteger,
               _c("Tiếp nhận trực tiếp, bưu chính", "flow: new dossiers received in person or by post")),
    ViewColumn("resolved_total", sa.BigInteger, _c("(7) Tổng số đã giải quyết", "flow: resolved in the period")),
    ViewColumn("resolved_on_time", sa.BigInteger, _c("(8) Trả đúng thời hạn", "flow: resolved on or before the due day")),
    ViewColumn("resolved_late", sa.BigInteger, _c("(9) Trả quá hạn", "flow: resolved after the due day")),
    ViewColumn("resolved_early", sa.BigInteger, _c("Trả trước hạn", "flow: resolved before the due day (part of (8))")),
    ViewColumn("withdrawn", sa.BigInteger, _c("Rút hồ sơ / dừng xử lý", "flow: withdrawn or stopped in the period")),
)
_STOCKS = (
    ViewColumn("carried_over", sa.BigInteger,
               _c("(5) Số kỳ trước chuyển qua", "stock: open at the period's start (as of period_start)")),
    ViewColumn("pending_total", sa.BigInteger,
               _c("(10) Tổng số đang giải quyết", "stock: open at the period's end (as of period_end)")),
    ViewColumn("pending_not_due", sa.BigInteger, _c("(11) Chưa đến hạn", "stock: open at the period's end, not yet due")),
    ViewColumn("pending_overdue", sa.BigInteger, _c("(12) Quá hạn", "stock: open at the period's end, past the due day")),
    ViewColumn("received_total", sa.BigInteger,
               _c("(4) Tổng số hồ sơ nhận giải quyết", "(5) + (6): the stock at the start plus the period's flow; "
                                                        "adds across agencies, never across periods")),
)
_INDICATOR = (
    ViewColumn("agency_scope", sa.String, _c("Phạm vi đơn vị", "rollup: the agency and all under it (one agency's "
                                                                 "figure, never summed) | own: the agency alone (sums)")),
    ViewColumn("indicator_code", sa.String, _c("Mã chỉ số", "indicator code")),
    ViewColumn("name_vi", sa.String, _c("Tên chỉ số", "indicator name in Vietnamese")),
    ViewColumn("name_en", sa.String, _c("Tên chỉ số (tiếng Anh)", "indicator name in English")),
    ViewColumn("unit", sa.String, _c("Đơn vị tính", "ratio | dossiers | working days")),
    ViewColumn("additive", sa.Boolean, _c("Cộng được", "value may be summed (core.dim_indicator.additive)")),
    ViewColumn("numerator", sa.Double, _c("Tử số", "numerator: sums over agency_scope = 'own' rows")),
    ViewColumn("denominator", sa.Double, _c("Mẫu số", "denominator: sums over agency_scope = 'own' rows")),
    ViewColumn("value", sa.Double, _c("Giá trị", "value: never summed unless additive")),
)


def _names(cols: tuple[ViewColumn, ...], alias: str) -> str:
    return ", ".join(f"{alias}.{c.name}" for c in cols)


def _views() -> tuple[BIView, ...]:
    out = []
    for ptype, suffix in PERIOD_SUFFIXES.items():
        label = {"year": "calendar year", "month": "calendar month",
                 "decree09_year": "Decree 09 year (15/12 to 14/12)"}[ptype]
        flows_cols = [f"r.{c.name}" for c in (*_PERIOD, *_PROCEDURE, *_FLOWS)
                      if c.name not in ("received_online", "received_offline")]
        flows_cols.insert(len(_PERIOD) + len(_PROCEDURE) + 1, "COALESCE(i.received_online, 0) AS received_online")
        flows_cols.insert(len(_PERIOD) + len(_PROCEDURE) + 2, "COALESCE(i.received_offline, 0) AS received_offline")
        out.append(BIView(
            f"v_dossier_flows_{suffix}",
            f"Dòng hồ sơ theo kỳ ({label}): flows, one row per (period_start, agency_code, procedure_code); "
            "sums across agencies, procedures and periods.",
            (*_PERIOD, *_PROCEDURE, *_FLOWS),
            f"SELECT {', '.join(flows_cols)} FROM mart.dossier_resolution r "
            "LEFT JOIN mart.dossier_intake i ON i.period_type = r.period_type AND i.period_start = r.period_start "
            "AND i.agency_code = r.agency_code AND i.procedure_code = r.procedure_code "
            f"WHERE r.period_type = '{ptype}'"))
        out.append(BIView(
            f"v_dossier_stocks_{suffix}",
            f"Tồn hồ sơ theo kỳ ({label}): stocks at the period's start and end, one row per (period_start, "
            "agency_code, procedure_code); sums across agencies and procedures, never across periods.",
            (*_PERIOD, *_PROCEDURE, *_STOCKS),
            f"SELECT {_names((*_PERIOD, *_PROCEDURE, *_STOCKS), 'r')} FROM mart.dossier_resolution r "
            f"WHERE r.period_type = '{ptype}'"))
        ind = [f"i.{c.name}" for c in (*_PERIOD, *_INDICATOR)]
        for name in ("name_vi", "name_en", "unit", "additive"):
            ind[ind.index(f"i.{name}")] = f"d.{name}"
        out.append(BIView(
            f"v_indicator_{suffix}",
            f"Chỉ số theo kỳ ({label}): one row per (period_start, agency_code, agency_scope, indicator_code); "
            "filter agency_scope = 'rollup' for one agency, sum numerators over agency_scope = 'own'.",
            (*_PERIOD, *_INDICATOR),
            f"SELECT {', '.join(ind)} FROM mart.indicator_v2 i "
            "LEFT JOIN core.dim_indicator d ON d.indicator_code = i.indicator_code "
            f"WHERE i.period_type = '{ptype}'"))
    return tuple(out)


BI_VIEWS: tuple[BIView, ...] = _views()
"""Every BI view, in the order revision 0006 creates them."""


def view_tables() -> dict[str, sa.Table]:
    """``mart.<view>`` -> a Table object describing each BI view's columns (for the BI
    snapshot and the tests)."""
    md = sa.MetaData()
    return {f"mart.{v.name}": sa.Table(v.name, md, *[sa.Column(c.name, c.type_(), comment=c.comment)
                                                      for c in v.columns], schema="mart", comment=v.comment)
            for v in BI_VIEWS}
