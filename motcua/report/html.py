"""The report as ONE self-contained HTML page (inline CSS and SVG; no script, font or
stylesheet from elsewhere; opens offline).

Tables carry ``data-table="bieu1"`` … ``"chiso"``; charts ``data-chart="…"`` (see
:mod:`motcua.report.charts`). Every text from the data is escaped; the only absolute
addresses in the page are the data's own service URLs (Biểu 1).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from motcua.report.charts import all_charts, esc
from motcua.report.layout import Cell, Sheet, fmt_date, period_text
from motcua.report.model import ReportTables
from motcua.report.paragraph import fmt_int, fmt_pct, paragraph_numbers
from transforms.report_tables import TOTAL_ROW

CSS = """
:root { --ink:#1f2933; --muted:#5d6b79; --line:#b8c2cc; --head:#dde5f0; --band:#f6f8fa; --accent:#1f4e9e; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.5 "Segoe UI", "Noto Sans", "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
main { max-width: 1320px; margin: 0 auto; padding: 24px 28px 48px; }
header.report-head { border-bottom: 3px solid var(--accent); padding-bottom: 12px; margin-bottom: 18px; }
.agency { margin: 0; font-weight: 600; text-transform: uppercase; letter-spacing: .02em; color: var(--muted); }
h1 { font-size: 26px; margin: 4px 0 4px; }
h2 { font-size: 19px; margin: 34px 0 6px; color: var(--accent); }
h2 .caption { color: var(--muted); font-weight: 600; margin-right: .4em; }
.period, .note { margin: 2px 0; color: var(--muted); }
nav.toc { font-size: 14px; margin: 8px 0 0; }
nav.toc a { margin-right: 14px; color: var(--accent); text-decoration: none; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; margin: 14px 0; }
.kpi { flex: 1 1 170px; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; background: var(--band); }
.kpi .v { font-size: 24px; font-weight: 700; }
.kpi .k { font-size: 13px; color: var(--muted); }
.kpi .s { font-size: 12px; color: var(--muted); }
.paragraph { border-left: 4px solid var(--accent); background: var(--band); padding: 10px 16px; margin: 10px 0;
  text-align: justify; }
.charts { display: grid; grid-template-columns: 1fr; gap: 18px; }
figure { margin: 0; border: 1px solid #e1e6eb; border-radius: 6px; padding: 12px; break-inside: avoid; }
svg.chart { display: block; width: 100%; height: auto; font-family: inherit; }
.table-wrap { overflow-x: auto; }
table.report { border-collapse: collapse; width: 100%; font-size: 13.5px; margin-top: 8px; }
table.report th, table.report td { border: 1px solid var(--line); padding: 4px 6px; vertical-align: top; }
table.report thead th { background: var(--head); text-align: center; vertical-align: middle; font-weight: 600; }
table.report thead tr.colnum th { font-weight: normal; font-style: italic; font-size: 12px; }
table.report td.num, table.report td.stt { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.report td.stt, table.report td.level, table.report td.date { text-align: center; }
table.report td.url { word-break: break-all; font-size: 12.5px; }
table.report tbody tr:nth-child(even) td { background: var(--band); }
table.report tfoot td, table.report tfoot th { font-weight: 700; background: #eceff3; }
table.report tfoot th { text-align: center; }
a { color: var(--accent); }
a.explain { color: inherit; text-decoration: underline dotted; }
.form-code { text-align: right; font-style: italic; font-weight: 600; margin: -4px 0 0; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid #e1e6eb; padding-top: 8px; }
@media print {
  @page { size: A4 landscape; margin: 12mm; }
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  nav.toc { display: none; }
  section.table-section, figure { break-inside: avoid-page; }
  h2 { break-after: avoid; }
}
"""


def _is_web_url(s: str) -> bool:
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


def _td(cell: Cell) -> str:
    cls = {"int": "num", "number": "num", "rate": "num", "pct": "num"}.get(cell.kind, cell.kind)
    text = cell_text(cell)
    if cell.kind == "url" and text and _is_web_url(text):
        inner = f'<a href="{esc(text)}" rel="noopener noreferrer">{esc(text)}</a>'
        if cell.href:
            inner += f' <a class="explain" href="{esc(cell.href)}">(giải thích)</a>'
    elif cell.href and text:
        inner = f'<a class="explain" href="{esc(cell.href)}">{esc(text)}</a>'
    else:
        inner = esc(text)
    return f'<td class="{esc(cls)}" data-col="{esc(cell.key)}">{inner}</td>'


def table_html(sheet: Sheet) -> str:
    """One report table as ``<table data-table="…">`` with its merged header and totals."""
    out = [f'<div class="table-wrap"><table class="report" data-table="{esc(sheet.name)}" '
           f'aria-labelledby="{esc(sheet.name)}-title">']
    total_w = sum(c.width for c in sheet.columns)
    out.append("<colgroup>" + "".join(
        f'<col style="width:{100 * c.width / total_w:.1f}%">' for c in sheet.columns) + "</colgroup>")
    out.append("<thead>")
    cells = sheet.header_cells()
    for level in range(sheet.header_depth):
        out.append("<tr>")
        for h in (c for c in cells if c.row == level):
            span = (f' colspan="{h.cols}"' if h.cols > 1 else "") + (f' rowspan="{h.rows}"' if h.rows > 1 else "")
            scope = "colgroup" if h.cols > 1 else "col"
            out.append(f'<th scope="{scope}"{span}>{esc(h.text)}</th>')
        out.append("</tr>")
    if sheet.numbered:
        out.append('<tr class="colnum">' + "".join(f"<th>{esc(n)}</th>" for n in sheet.column_numbers()) + "</tr>")
    out.append("</thead>")
    out.append("<tbody>")
    if not sheet.rows:
        out.append(f'<tr><td colspan="{len(sheet.columns)}" class="empty">Không có số liệu</td></tr>')
    for row in sheet.rows:
        out.append("<tr>" + "".join(_td(c) for c in row) + "</tr>")
    out.append("</tbody>")
    if sheet.totals is not None:
        span = sheet.total_label_span
        tds = [f'<th scope="row" colspan="{span}">{TOTAL_ROW}</th>' if span > 1 else f'<th scope="row">{TOTAL_ROW}</th>']
        for c in sheet.columns[span:]:
            if c.summed:
                tds.append(f'<td class="num" data-col="{esc(c.key)}">{esc(fmt_int(sheet.totals[c.key]))}</td>')
            else:
                tds.append("<td></td>")
        out.append('<tfoot><tr class="total">' + "".join(tds) + "</tr></tfoot>")
    out.append("</table></div>")
    return "\n".join(out)


def _kpis(t: ReportTables) -> str:
    n = paragraph_numbers(t)
    items = [
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
    cards = "".join(f'<div class="kpi"><div class="v">{esc(v)}</div><div class="k">{esc(k)}</div>'
                    f'<div class="s">{esc(s)}</div></div>' for v, k, s in items)
    return f'<div class="kpis" data-kpis="">{cards}</div>'


def render_html(t: ReportTables, sheets: list[Sheet], paragraph: str) -> str:
    """The whole report page."""
    charts = all_charts(t)
    toc = "".join(f'<a href="#{esc(s.name)}">{esc(s.caption)}</a>' for s in sheets)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="vi">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="motcua">',
        f"<title>{esc(t.title)} – {esc(t.agency_name)} – năm {t.year}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        '<header class="report-head">',
        f'<p class="agency">{esc(t.agency_name)}</p>',
        f"<h1>{esc(t.title)}</h1>",
        f'<p class="period">{esc(period_text(t))}</p>',
        f'<nav class="toc"><a href="#tom-tat">Tóm tắt</a><a href="#bieu-do">Biểu đồ</a>{toc}</nav>',
        "</header>",
        '<section id="tom-tat">',
        "<h2>Kết quả tiếp nhận, giải quyết hồ sơ TTHC, DVC</h2>",
        _kpis(t),
        f'<p class="paragraph" data-paragraph="II.2">{esc(paragraph)}</p>',
        "</section>",
        '<section id="bieu-do">',
        "<h2>Biểu đồ</h2>",
        '<div class="charts">',
    ]
    for svg in charts.values():
        parts.append(f"<figure>{svg}</figure>")
    parts.append("</div></section>")
    for s in sheets:
        parts.append(f'<section class="table-section" id="{esc(s.name)}">')
        parts.append(f'<h2 id="{esc(s.name)}-title"><span class="caption">{esc(s.caption)}.</span>'
                     f"{esc(s.title)}</h2>")
        if s.form_code:
            parts.append(f'<p class="form-code">{esc(s.form_code)}</p>')
        for note in s.notes:
            parts.append(f'<p class="note">{esc(note)}</p>')
        parts.append(table_html(s))
        parts.append("</section>")
    parts += [
        "<footer>Lập tự động bởi motcua từ nhật ký của Hệ thống thông tin một cửa điện tử; "
        "dòng «Tổng cộng» là tổng các dòng của biểu.</footer>",
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"
