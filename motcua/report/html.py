"""The report as ONE self-contained HTML page (inline CSS and SVG; no script, font or
stylesheet from elsewhere; opens offline), rendered from Jinja2 templates.

The templates are package data (``motcua/report/templates/*.html``) loaded with a
:class:`~jinja2.PackageLoader`, so they are found from an installed package too.
Autoescaping is on: every text from the data is escaped by Jinja; the only markup not
escaped is the charts' SVG, which :mod:`motcua.report.charts` serializes from an
element tree. Tables carry ``data-table="bieu1"`` … ``"chiso"``; charts
``data-chart="…"``. The only absolute addresses in the page are the data's own
service URLs (Biểu 1).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from motcua.report.charts import all_charts
from motcua.report.layout import Cell, Sheet, fmt_date, period_text
from motcua.report.model import ReportTables
from motcua.report.paragraph import fmt_int, fmt_pct, paragraph_numbers
from transforms.report_tables import TOTAL_ROW

TEMPLATE = "report.html"

#: ``td`` class of each cell kind (the others keep their kind as class).
CELL_CLASS = {"int": "num", "number": "num", "rate": "num", "pct": "num"}


def is_web_url(s: object) -> bool:
    """An absolute ``http(s)://host…`` address (a service URL worth a link)."""
    if not isinstance(s, str):
        return False
    p = urlsplit(s)
    return p.scheme in ("http", "https") and bool(p.netloc)


def cell_text(cell: Cell) -> str:
    """A cell's value as display text (Vietnamese number style)."""
    v = cell.value
    if v is None:
        return ""
    k = cell.kind
    if k in ("int", "stt"):
        return fmt_int(int(v))  # type: ignore[arg-type]
    if k == "date" and isinstance(v, dt.date):
        return fmt_date(v)
    if k == "pct":
        f = float(v)  # type: ignore[arg-type]
        return fmt_int(int(f)) if f.is_integer() else f"{f:.2f}".rstrip("0").rstrip(".").replace(".", ",")
    if k == "rate":
        f = float(v)  # type: ignore[arg-type]
        return fmt_pct(f, 1.0)
    if k == "number":
        f = float(v)  # type: ignore[arg-type]
        if f != f:
            return ""
        if f.is_integer():
            return fmt_int(int(f))
        whole, frac = f"{f:,.2f}".split(".")
        frac = frac.rstrip("0")
        return whole.replace(",", ".") + ("," + frac if frac else "")
    return str(v)


def cell_class(cell: Cell) -> str:
    """The ``class`` of a body cell's ``<td>``."""
    return CELL_CLASS.get(cell.kind, cell.kind)


def column_widths(sheet: Sheet) -> list[str]:
    """Each column's share of the table's width, as ``"12.5%"``."""
    total = sum(c.width for c in sheet.columns)
    return [f"{100 * c.width / total:.1f}%" for c in sheet.columns]


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja2 environment of the report: package templates, autoescaping on."""
    env = Environment(
        loader=PackageLoader("motcua.report", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(cell_text=cell_text, cell_class=cell_class, fmt_int=fmt_int)
    env.globals.update(column_widths=column_widths, TOTAL_ROW=TOTAL_ROW)
    env.tests["web_url"] = is_web_url
    return env


def kpis(t: ReportTables) -> list[tuple[str, str, str]]:
    """The key figures above the paragraph: (value, label, detail)."""
    n = paragraph_numbers(t)
    return [
        (fmt_int(n["received_new"]), "Hồ sơ mới tiếp nhận",
         f"{fmt_int(n['received_online'])} trực tuyến · {fmt_int(n['received_offline'])} trực tiếp, bưu chính"),
        (fmt_int(n["resolved_total"]), "Hồ sơ đã giải quyết",
         f"{fmt_int(n['resolved_on_time'])} đúng hạn · {fmt_int(n['resolved_late'])} quá hạn"),
        (fmt_pct(n["resolved_on_time"], n["resolved_total"]), "Tỷ lệ giải quyết đúng hạn",
         f"{fmt_int(n['resolved_early'])} hồ sơ trước hạn"),
        (fmt_pct(n["received_online"], n["received_new"]), "Tỷ lệ tiếp nhận trực tuyến", ""),
        (fmt_int(n["pending_total"]), f"Đang giải quyết tại {fmt_date(t.period_end)}",
         f"{fmt_int(n['pending_overdue'])} quá hạn"),
    ]


def render_html(t: ReportTables, sheets: list[Sheet], paragraph: str) -> str:
    """The whole report page."""
    charts = [(c.chart_id, Markup(c.svg)) for c in all_charts(t)]  # serialized, escaped SVG
    return environment().get_template(TEMPLATE).render(
        t=t, sheets=sheets, paragraph=paragraph, period=period_text(t), kpis=kpis(t), charts=charts)
