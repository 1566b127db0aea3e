"""The report's charts: Vega-Altair specifications rendered offline to inline SVG.

Each chart is built from the frames of :class:`~motcua.report.model.ReportTables` as a
Vega-Lite specification (:mod:`altair`), rendered to SVG by :mod:`vl_convert` (Vega in an
embedded engine: no browser, no network, no script in the output) and made an HTML5
inline ``<svg>`` with ``class="chart"``, ``data-chart``, ``role="img"``, an
``aria-label``, a ``<title>`` and a ``<desc>`` (the chart's figures in words):

* ``monthly-intake`` – dossiers received per month, online and in person/postal, stacked;
* ``ontime-rate`` – share resolved on time, by field and by procedure (horizontal bars);
* ``open-by-agency`` – dossiers still open at period end per agency, not yet due / overdue;
* ``processing-days`` – histogram of working days from intake to resolution.

Axis ticks, layout and text measurement are Vega's. The SVG keeps no ``xmlns`` (HTML5
inline SVG needs none), so the page holds no address other than the data's own, and its
text is in the system's sans-serif font (nothing is fetched). Same tables, same bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import altair as alt
import pandas as pd

from motcua.report.layout import fmt_date
from motcua.report.model import ReportTables
from motcua.report.paragraph import fmt_int, fmt_pct
from motcua.report.svg import RenderedChart, inline_svg, render_charts, render_svg, xml_text

C_ONLINE = "#2563a8"
C_OFFLINE = "#9fb3c8"
C_ONTIME = "#2e7d4f"
C_TRACK = "#e8edf2"
C_NOT_DUE = "#5b8fd1"
C_OVERDUE = "#c0392b"
C_HIST = "#5a7ea6"
C_TEXT = "#1f2933"
C_MUTED = "#66727f"

WIDTH = 1080  # width of a chart's plotting area in px (the page scales the SVG to fit)
LABEL_W = 380  # room for the labels of the horizontal bar charts, px

CHART_IDS = ("monthly-intake", "ontime-rate", "open-by-agency", "processing-days")

#: Fonts of the charts' text: Vega measures labels with the first one installed where the
#: report is rendered, the browser draws them with the first one installed where it is read;
#: DejaVu Sans (on most Linux servers) and Verdana are wide, so labels measured with them fit.
FONT = "DejaVu Sans, Verdana, Segoe UI, Arial, sans-serif"

#: The look shared by every chart (Vega-Lite ``config``).
CONFIG: dict[str, Any] = {
    "font": FONT,
    "padding": {"left": 5, "top": 5, "right": 40, "bottom": 5},
    "view": {"stroke": None},
    "title": {"anchor": "start", "fontSize": 15, "color": C_TEXT, "subtitleColor": C_MUTED,
              "subtitleFontSize": 12, "offset": 10},
    "axis": {"labelFontSize": 11, "titleFontSize": 12, "labelColor": C_MUTED, "titleColor": C_MUTED,
             "titleFontWeight": "normal", "gridColor": "#d5dbe1", "domainColor": C_MUTED},
    "legend": {"labelFontSize": 12, "labelColor": C_TEXT, "orient": "top", "title": None,
               "labelLimit": 400},
    "header": {"labelFontSize": 13},
}

@dataclass(frozen=True)
class ChartSpec:
    """One chart before rendering: its id, accessible title and description, and spec."""

    chart_id: str
    title: str
    desc: str
    spec: dict[str, Any]


def fdec(x: float) -> str:
    """A number the Vietnamese way: 7.5 → "7,5", 3.0 → "3"."""
    if float(x).is_integer():
        return fmt_int(int(x))
    return f"{x:.1f}".replace(".", ",")


def _count(v: object) -> int:
    return 0 if v is None or pd.isna(v) else int(v)


def _text(v: object) -> str:
    return "" if v is None or pd.isna(v) else str(v)


def _data(rows: list[dict[str, Any]]) -> alt.Data:
    """Inline data (no file, no URL); an empty list is a valid empty data set."""
    return alt.Data(values=rows)


def _message(text: str) -> alt.Chart:
    """A centred grey note over the plotting area ("no data")."""
    return alt.Chart(_data([{"m": text}])).mark_text(
        fontSize=13, color=C_MUTED, x={"expr": "width / 2"}, y={"expr": "height / 2"},
    ).encode(text="m:N")


def _count_axis(vmax: int, **kwargs: Any) -> alt.Axis:
    """An axis of whole counts up to ``vmax``: no tick between two integers (Vega is asked
    for at most ``vmax`` ticks) and numbers the Vietnamese way."""
    return alt.Axis(format=",d", tickCount=max(1, min(8, vmax)), **kwargs)


def _unique(labels: list[str]) -> list[str]:
    """Labels made distinct ("A", "A (2)") so that each row keeps its own bar."""
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        seen[lab] = seen.get(lab, 0) + 1
        out.append(lab if seen[lab] == 1 else f"{lab} ({seen[lab]})")
    return out


def _spec(chart: alt.TopLevelMixin, title: str, subtitle: str | None = None) -> dict[str, Any]:
    """The Vega-Lite dict of ``chart`` with its visible title and the shared config."""
    params: dict[str, Any] = {"text": title}
    if subtitle:
        params["subtitle"] = subtitle
    spec = chart.properties(title=alt.TitleParams(**params)).to_dict()
    spec["config"] = CONFIG
    spec.pop("$schema", None)
    return spec


# --- the four charts -------------------------------------------------------------------------------


def monthly_intake_spec(t: ReportTables) -> ChartSpec:
    """Stacked bars: new dossiers per month, online below, in person/postal above."""
    df = t.frame("monthly_intake")
    on = dict.fromkeys(range(1, 13), 0)
    off = dict.fromkeys(range(1, 13), 0)
    for m, a, b in zip(df["month"], df["received_online"], df["received_offline"], strict=True):
        if m is not None and not pd.isna(m) and 1 <= int(m) <= 12:
            on[int(m)] += _count(a)
            off[int(m)] += _count(b)
    total_on, total_off = sum(on.values()), sum(off.values())
    title = f"Hồ sơ tiếp nhận theo tháng và kênh nộp, năm {t.year}"
    desc = (f"Biểu đồ cột chồng: {fmt_int(total_on)} hồ sơ trực tuyến và {fmt_int(total_off)} hồ sơ "
            "trực tiếp, qua bưu chính, theo từng tháng. "
            + "; ".join(f"tháng {m}: {on[m]} trực tuyến, {off[m]} trực tiếp" for m in range(1, 13)))
    online, offline = "Trực tuyến", "Trực tiếp, qua bưu chính công ích"
    months = [f"Tháng {m}" for m in range(1, 13)]
    rows = [{"thang": months[m - 1], "kenh": kenh, "thu_tu": i, "so_ho_so": n[m]}
            for m in range(1, 13) for i, (kenh, n) in enumerate(((online, on), (offline, off)))]
    totals = [{"thang": months[m - 1], "tong": on[m] + off[m], "nhan": fmt_int(on[m] + off[m])}
              for m in range(1, 13) if on[m] + off[m]]
    vmax = max(on[m] + off[m] for m in range(1, 13))
    x = alt.X("thang:N", sort=months, title=None, axis=alt.Axis(labelAngle=0, labelFontSize=11))
    y_scale = alt.Scale(domain=[0, 1]) if vmax == 0 else alt.Scale()
    bars = alt.Chart(_data(rows)).mark_bar(width={"band": 0.62}).encode(
        x=x,
        y=alt.Y("so_ho_so:Q", stack="zero", title="Số hồ sơ", scale=y_scale,
                axis=_count_axis(vmax)),
        color=alt.Color("kenh:N", scale=alt.Scale(domain=[online, offline], range=[C_ONLINE, C_OFFLINE])),
        order=alt.Order("thu_tu:Q"),
    )
    layers: list[alt.Chart] = [bars]
    if totals:
        layers.append(alt.Chart(_data(totals)).mark_text(dy=-4, baseline="bottom", fontSize=11,
                                                         color=C_TEXT).encode(
            x=x, y=alt.Y("tong:Q"), text="nhan:N"))
    else:
        layers.append(_message("Không có hồ sơ tiếp nhận trong kỳ"))
    chart = alt.layer(*layers).properties(width=WIDTH, height=240)
    return ChartSpec("monthly-intake", title, desc, _spec(chart, title))


def _rate_rows(labels: list[str], ontime: list[int], total: list[int]) -> list[tuple[str, int, int]]:
    rows = list(zip(labels, ontime, total, strict=True))
    # worst first; rows without resolved dossiers last
    return sorted(rows, key=lambda r: (r[2] == 0, (r[1] / r[2]) if r[2] else 0, r[0]))


def _rate_panel(heading: str, rows: list[tuple[str, int, int]]) -> alt.LayerChart | alt.Chart:
    """One panel of the on-time chart: a grey track, the on-time share and its figures."""
    width = WIDTH - LABEL_W - 150
    if not rows:
        return _message("Không có dữ liệu").properties(title=heading, width=width, height=24)
    labels = _unique([lab for lab, _, _ in rows])
    data = [{"nhan": lab, "ty_le": (a / b) if b else 0.0, "du": 1.0,
             "so_lieu": f"{fmt_pct(a, b)} ({fmt_int(a)}/{fmt_int(b)})" if b else "chưa có hồ sơ giải quyết"}
            for lab, (_, a, b) in zip(labels, rows, strict=True)]
    y = alt.Y("nhan:N", sort=labels, title=None,
              axis=alt.Axis(labelLimit=LABEL_W - 10, minExtent=LABEL_W, maxExtent=LABEL_W, labelFontSize=12,
                            labelColor=C_TEXT, ticks=False, domain=False))
    x_scale = alt.Scale(domain=[0, 1], nice=False)
    base = alt.Chart(_data(data))
    track = base.mark_bar(color=C_TRACK, height={"band": 0.7}).encode(
        x=alt.X("du:Q", scale=x_scale, title=None,
                axis=alt.Axis(format="~%", values=[0, 0.25, 0.5, 0.75, 1], orient="top", grid=True)),
        y=y)
    share = base.mark_bar(color=C_ONTIME, height={"band": 0.7}).encode(x="ty_le:Q", y=y)
    figures = base.mark_text(align="left", dx=8, fontSize=12, color=C_TEXT).encode(
        x="du:Q", y=y, text="so_lieu:N")
    return alt.layer(track, share, figures).properties(
        title=alt.TitleParams(heading, fontSize=13, color=C_TEXT, anchor="start"),
        width=width, height=alt.Step(24))


def ontime_spec(t: ReportTables) -> ChartSpec:
    """Horizontal bars: share resolved on time, per field then per procedure."""
    fld = t.frame("ontime_by_field")
    prc = t.frame("ontime_by_procedure")
    f_rows = _rate_rows([_text(x) or "(chưa xác định)" for x in fld["field_name"]],
                        [_count(v) for v in fld["resolved_on_time"]], [_count(v) for v in fld["resolved_total"]])
    p_labels = [f"{_text(code)} {_text(name)}".strip() or "(chưa xác định)"
                for code, name in zip(prc["procedure_code"], prc["procedure_name"], strict=True)]
    p_rows = _rate_rows(p_labels, [_count(v) for v in prc["resolved_on_time"]],
                        [_count(v) for v in prc["resolved_total"]])
    title = "Tỷ lệ hồ sơ giải quyết đúng hạn theo lĩnh vực và theo thủ tục hành chính"
    desc = "Biểu đồ thanh ngang. " + "; ".join(
        f"{lab}: {fmt_pct(a, b)} ({a}/{b})" for lab, a, b in f_rows + p_rows)
    chart = alt.vconcat(_rate_panel("Theo lĩnh vực", f_rows), _rate_panel("Theo thủ tục hành chính", p_rows),
                        spacing=24)
    return ChartSpec("ontime-rate", title, desc, _spec(chart, title))


def open_by_agency_spec(t: ReportTables) -> ChartSpec:
    """Horizontal stacked bars: dossiers open at period end per agency, not due / overdue."""
    df = t.frame("open_by_agency")
    rows = []
    for code, name, nd, od in zip(df["agency_code"], df["agency_name"], df["pending_not_due"],
                                  df["pending_overdue"], strict=True):
        rows.append((_text(name) or _text(code) or "(chưa xác định)", _count(nd), _count(od)))
    rows.sort(key=lambda r: (-r[2], -(r[1] + r[2]), r[0]))
    end = fmt_date(t.period_end)
    title = f"Hồ sơ đang giải quyết và quá hạn theo cơ quan, đơn vị tại ngày {end}"
    desc = "Biểu đồ thanh ngang chồng. " + "; ".join(
        f"{lab}: {nd} chưa đến hạn, {od} quá hạn" for lab, nd, od in rows)
    vmax = max((nd + od for _, nd, od in rows), default=0)
    not_due, overdue = "Chưa đến hạn", "Quá hạn"
    width = WIDTH - LABEL_W - 170
    if vmax == 0:
        chart = _message("Không có hồ sơ đang giải quyết tại thời điểm cuối kỳ").properties(width=WIDTH, height=60)
        return ChartSpec("open-by-agency", title, desc, _spec(chart, title))
    labels = _unique([lab for lab, _, _ in rows])
    parts = [{"nhan": lab, "tinh_trang": status, "thu_tu": i, "so_ho_so": n}
             for lab, (_, nd, od) in zip(labels, rows, strict=True)
             for i, (status, n) in enumerate(((not_due, nd), (overdue, od)))]
    totals = [{"nhan": lab, "tong": nd + od, "mau": C_OVERDUE if od else C_TEXT,
               "so_lieu": fmt_int(nd + od) + (f" ({fmt_int(od)} quá hạn)" if od else "")}
              for lab, (_, nd, od) in zip(labels, rows, strict=True)]
    y = alt.Y("nhan:N", sort=labels, title=None,
              axis=alt.Axis(labelLimit=LABEL_W - 10, minExtent=LABEL_W, maxExtent=LABEL_W, labelFontSize=12,
                            labelColor=C_TEXT, ticks=False))
    x_axis = _count_axis(vmax)
    bars = alt.Chart(_data(parts)).mark_bar(height={"band": 0.7}).encode(
        x=alt.X("so_ho_so:Q", stack="zero", title="Số hồ sơ", axis=x_axis),
        y=y,
        color=alt.Color("tinh_trang:N", scale=alt.Scale(domain=[not_due, overdue], range=[C_NOT_DUE, C_OVERDUE])),
        order=alt.Order("thu_tu:Q"),
    )
    figures = alt.Chart(_data(totals)).mark_text(align="left", dx=6, fontSize=12).encode(
        x=alt.X("tong:Q", title="Số hồ sơ", axis=x_axis), y=y, text="so_lieu:N",
        fill=alt.Fill("mau:N", scale=None, legend=None))
    chart = alt.layer(bars, figures).properties(width=width, height=alt.Step(26))
    return ChartSpec("open-by-agency", title, desc, _spec(chart, title))


def weighted_quantile(values: list[int], weights: list[int], q: float) -> float | None:
    """The q-quantile (linear interpolation, as numpy's default) of a histogram."""
    pairs = sorted((v, w) for v, w in zip(values, weights, strict=True) if w > 0)
    n = sum(w for _, w in pairs)
    if n == 0:
        return None

    def at(k: int) -> float:
        cum = 0
        for v, w in pairs:
            cum += w
            if k < cum:
                return float(v)
        return float(pairs[-1][0])

    pos = q * (n - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return at(lo) + (at(hi) - at(lo)) * (pos - lo)


def processing_days_spec(t: ReportTables) -> ChartSpec:
    """Histogram of working days from intake to resolution, with the median and the 90th percentile."""
    df = t.frame("processing_days")
    hist: dict[int, int] = {}
    for d, n in zip(df["working_days"], df["dossiers"], strict=True):
        if d is not None and not pd.isna(d):
            hist[int(d)] = hist.get(int(d), 0) + _count(n)
    total = sum(hist.values())
    med = weighted_quantile(list(hist), list(hist.values()), 0.5)
    p90 = weighted_quantile(list(hist), list(hist.values()), 0.9)
    title = "Phân bố thời gian giải quyết hồ sơ (ngày làm việc)"
    stats = (f"trung vị {fdec(med)} ngày, 90% hồ sơ trong {fdec(p90)} ngày"
             if med is not None and p90 is not None else "không có hồ sơ")
    desc = (f"Biểu đồ tần suất: {fmt_int(total)} hồ sơ đã giải quyết; {stats}. "
            + "; ".join(f"{d} ngày: {n} hồ sơ" for d, n in sorted(hist.items())))
    x_title = "Số ngày làm việc từ khi tiếp nhận đến khi giải quyết xong"
    if total == 0 or med is None or p90 is None:
        chart = _message("Không có hồ sơ giải quyết trong kỳ").properties(width=WIDTH, height=60)
        return ChartSpec("processing-days", title, desc, _spec(chart, title))
    lo, hi = min(0, min(hist)), max(hist)
    span = hi - lo + 1
    width = max(1, math.ceil(span / 40))  # bin width in days: at most 40 bars
    bins: dict[int, int] = {}
    for d, n in hist.items():
        b = lo + ((d - lo) // width) * width
        bins[b] = bins.get(b, 0) + n
    nbins = math.ceil(span / width)
    bars = [{"tu": b - 0.5, "den": b + width - 0.5, "so_ho_so": n,
             "khoang": f"{b} ngày" if width == 1 else f"{b}–{b + width - 1} ngày"}
            for b, n in sorted(bins.items()) if n]
    marks = [{"nhan": f"Trung vị: {fdec(med)} ngày", "ngay": med},
             {"nhan": f"P90: {fdec(p90)} ngày", "ngay": p90}]
    x_scale = alt.Scale(domain=[lo - 0.5, lo + nbins * width - 0.5], nice=False, zero=False)
    hist_bars = alt.Chart(_data(bars)).mark_bar(color=C_HIST, stroke="white", strokeWidth=1).encode(
        x=alt.X("tu:Q", scale=x_scale, title=x_title, axis=alt.Axis(format="d", tickCount=max(1, min(20, nbins * width)), grid=False)),
        x2="den:Q",
        y=alt.Y("so_ho_so:Q", title="Số hồ sơ", axis=_count_axis(max(bins.values()))),
        y2=alt.datum(0),
    )
    rules = alt.Chart(_data(marks)).mark_rule(strokeWidth=1.5).encode(
        x="ngay:Q",
        color=alt.Color("nhan:N", scale=alt.Scale(domain=[m["nhan"] for m in marks], range=[C_TEXT, C_OVERDUE])),
        strokeDash=alt.StrokeDash("nhan:N", scale=alt.Scale(domain=[m["nhan"] for m in marks],
                                                            range=[[6, 3], [2, 3]])),
    )
    chart = alt.layer(hist_bars, rules).properties(width=WIDTH, height=220)
    return ChartSpec("processing-days", title, desc,
                     _spec(chart, title, subtitle=f"Tổng số: {fmt_int(total)} hồ sơ đã giải quyết"))


def chart_specs(t: ReportTables) -> list[ChartSpec]:
    """The four charts' specifications, in the page's order (:data:`CHART_IDS`)."""
    return [monthly_intake_spec(t), ontime_spec(t), open_by_agency_spec(t), processing_days_spec(t)]


__all__ = ["CHART_IDS", "ChartSpec", "RenderedChart", "all_charts", "chart_specs", "inline_svg", "render_svg",
           "xml_text"]


def all_charts(t: ReportTables) -> list[RenderedChart]:
    """The four charts of ``t`` as inline SVG, in :data:`CHART_IDS` order."""
    return render_charts(chart_specs(t))
