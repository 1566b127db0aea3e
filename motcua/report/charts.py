"""The report's charts as inline SVG strings, drawn in Python (no JavaScript, no library).

Each chart is one ``<svg>`` with ``role="img"``, an ``aria-label``, a ``<title>`` and a
``<desc>``, and a ``data-chart`` attribute:

* ``monthly-intake`` – dossiers received per month, online and in person/postal, stacked;
* ``ontime-rate`` – share resolved on time, by field and by procedure (horizontal bars);
* ``open-by-agency`` – dossiers still open at period end per agency, not yet due / overdue;
* ``processing-days`` – histogram of working days from intake to resolution.

All text is escaped. The SVG has no ``xmlns`` (HTML5 inline SVG needs none), so the
page holds no address other than the data's own.
"""

from __future__ import annotations

import html
import math

import pandas as pd

from motcua.report.layout import fmt_date
from motcua.report.model import ReportTables
from motcua.report.paragraph import fmt_int, fmt_pct

WIDTH = 1200
FONT_PX = 12
CHAR_PX = 7.0  # average width of a character at 12 px (DejaVu Sans is wide)
C_ONLINE = "#2563a8"
C_OFFLINE = "#9fb3c8"
C_ONTIME = "#2e7d4f"
C_TRACK = "#e8edf2"
C_NOT_DUE = "#5b8fd1"
C_OVERDUE = "#c0392b"
C_HIST = "#5a7ea6"
C_GRID = "#d5dbe1"
C_TEXT = "#1f2933"
C_MUTED = "#66727f"

CHART_IDS = ("monthly-intake", "ontime-rate", "open-by-agency", "processing-days")


def esc(s: object) -> str:
    """Escape text for HTML/SVG content and attribute values."""
    return html.escape(str(s), quote=True)


def fnum(x: float) -> str:
    """A coordinate: at most one decimal."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def fdec(x: float) -> str:
    """A number the Vietnamese way: 7.5 → "7,5", 3.0 → "3"."""
    if float(x).is_integer():
        return fmt_int(int(x))
    return f"{x:.1f}".replace(".", ",")


def truncate(s: str, max_chars: int) -> str:
    """``s`` cut to ``max_chars`` characters with an ellipsis."""
    s = " ".join(str(s).split())
    return s if len(s) <= max_chars else s[: max(1, max_chars - 1)].rstrip() + "…"


def nice_ticks(vmax: float, target: int = 5) -> list[float]:
    """0, step, 2·step … up to a round maximum ≥ ``vmax`` (integer steps for counts)."""
    if vmax <= 0:
        return [0, 1]
    raw = vmax / target
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    step = max(1, round(step)) if step >= 1 else 1
    top = math.ceil(vmax / step) * step
    return [i * step for i in range(int(round(top / step)) + 1)]


def _open(chart: str, title: str, desc: str, height: float) -> list[str]:
    cid = f"chart-{chart}"
    return [
        f'<svg class="chart" data-chart="{esc(chart)}" role="img" aria-label="{esc(title)}" '
        f'aria-labelledby="{cid}-title {cid}-desc" viewBox="0 0 {WIDTH} {fnum(height)}" '
        f'width="{WIDTH}" height="{fnum(height)}" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{cid}-title">{esc(title)}</title>',
        f'<desc id="{cid}-desc">{esc(desc)}</desc>',
        f'<text x="0" y="18" class="chart-title" font-size="15" font-weight="bold" fill="{C_TEXT}">'
        f"{esc(title)}</text>",
    ]


def _text(x: float, y: float, s: str, anchor: str = "start", fill: str = C_TEXT, size: int = FONT_PX,
          weight: str | None = None) -> str:
    w = f' font-weight="{weight}"' if weight else ""
    return (f'<text x="{fnum(x)}" y="{fnum(y)}" text-anchor="{anchor}" font-size="{size}" '
            f'fill="{fill}"{w}>{esc(s)}</text>')


def _rect(x: float, y: float, w: float, h: float, fill: str, tip: str | None = None) -> str:
    r = (f'<rect x="{fnum(x)}" y="{fnum(y)}" width="{fnum(max(w, 0))}" height="{fnum(max(h, 0))}" '
         f'fill="{fill}"')
    return f"{r}><title>{esc(tip)}</title></rect>" if tip else f"{r}/>"


def _legend(x: float, y: float, items: list[tuple[str, str]]) -> list[str]:
    out = []
    for color, label in items:
        out.append(_rect(x, y - 10, 12, 12, color))
        out.append(_text(x + 17, y, label))
        x += 17 + len(label) * CHAR_PX + 22
    return out


def _empty(out: list[str], y: float, msg: str) -> list[str]:
    out.append(_text(WIDTH / 2, y, msg, anchor="middle", fill=C_MUTED, size=13))
    out.append("</svg>")
    return out


def _count(v: object) -> int:
    return 0 if v is None or pd.isna(v) else int(v)


def monthly_intake_chart(t: ReportTables) -> str:
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
    height = 340
    left, right, top, bottom = 60, 16, 58, 40
    out = _open("monthly-intake", title, desc, height)
    out += _legend(left, 40, [(C_ONLINE, "Trực tuyến"), (C_OFFLINE, "Trực tiếp, qua bưu chính công ích")])
    ph = height - top - bottom
    pw = WIDTH - left - right
    vmax = max(on[m] + off[m] for m in range(1, 13))
    ticks = nice_ticks(vmax)
    scale = ph / ticks[-1]
    base = top + ph
    for tv in ticks:
        y = base - tv * scale
        out.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{fnum(y)}" y2="{fnum(y)}" stroke="{C_GRID}"/>')
        out.append(_text(left - 6, y + 4, fmt_int(tv), anchor="end", fill=C_MUTED))
    band = pw / 12
    bw = band * 0.62
    for m in range(1, 13):
        x = left + (m - 1) * band + (band - bw) / 2
        h_on, h_off = on[m] * scale, off[m] * scale
        tip = f"Tháng {m}: {fmt_int(on[m])} trực tuyến, {fmt_int(off[m])} trực tiếp/bưu chính"
        out.append(f'<g class="bar" data-month="{m}">')
        out.append(_rect(x, base - h_on, bw, h_on, C_ONLINE, tip))
        out.append(_rect(x, base - h_on - h_off, bw, h_off, C_OFFLINE, tip))
        out.append("</g>")
        if on[m] + off[m]:
            out.append(_text(x + bw / 2, base - h_on - h_off - 4, fmt_int(on[m] + off[m]), anchor="middle",
                             size=11))
        out.append(_text(x + bw / 2, base + 18, f"Tháng {m}", anchor="middle", fill=C_MUTED, size=11))
    out.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{base}" y2="{base}" stroke="{C_MUTED}"/>')
    if vmax == 0:
        return "\n".join(_empty(out, top + ph / 2, "Không có hồ sơ tiếp nhận trong kỳ"))
    out.append("</svg>")
    return "\n".join(out)


def _rate_rows(labels: list[str], ontime: list[int], total: list[int]) -> list[tuple[str, int, int]]:
    rows = list(zip(labels, ontime, total, strict=True))
    # worst first; rows without resolved dossiers last
    return sorted(rows, key=lambda r: (r[2] == 0, (r[1] / r[2]) if r[2] else 0, r[0]))


def ontime_chart(t: ReportTables) -> str:
    """Horizontal bars: share resolved on time, per field then per procedure."""
    fld = t.frame("ontime_by_field")
    prc = t.frame("ontime_by_procedure")
    f_rows = _rate_rows([str(x) if x is not None and not pd.isna(x) else "(chưa xác định)"
                         for x in fld["field_name"]],
                        [_count(v) for v in fld["resolved_on_time"]], [_count(v) for v in fld["resolved_total"]])
    p_labels = []
    for code, name in zip(prc["procedure_code"], prc["procedure_name"], strict=True):
        code = "" if code is None or pd.isna(code) else str(code)
        name = "" if name is None or pd.isna(name) else str(name)
        p_labels.append(f"{code} {name}".strip() or "(chưa xác định)")
    p_rows = _rate_rows(p_labels, [_count(v) for v in prc["resolved_on_time"]],
                        [_count(v) for v in prc["resolved_total"]])
    title = "Tỷ lệ hồ sơ giải quyết đúng hạn theo lĩnh vực và theo thủ tục hành chính"
    desc = "Biểu đồ thanh ngang. " + "; ".join(
        f"{lab}: {fmt_pct(a, b)} ({a}/{b})" for lab, a, b in f_rows + p_rows)
    row_h, label_w, value_w = 24, 390, 150
    panel_head = 44
    height = 34 + 2 * panel_head + row_h * (max(len(f_rows), 1) + max(len(p_rows), 1)) + 20
    out = _open("ontime-rate", title, desc, height)
    x0 = label_w
    bw = WIDTH - label_w - value_w
    y = 34
    for heading, rows in (("Theo lĩnh vực", f_rows), ("Theo thủ tục hành chính", p_rows)):
        y += 20
        out.append(_text(0, y, heading, weight="bold", size=13))
        for pct in (0, 25, 50, 75, 100):
            gx = x0 + bw * pct / 100
            out.append(_text(gx, y, f"{pct}%", anchor="middle", fill=C_MUTED, size=10))
        y += panel_head - 20
        top = y
        if not rows:
            out.append(_text(x0, y + 16, "Không có dữ liệu", fill=C_MUTED))
            y += row_h
        for lab, a, b in rows:
            cy = y + row_h / 2
            out.append(f'<g class="bar"><title>{esc(f"{lab}: {fmt_pct(a, b)} ({a}/{b})")}</title>')
            out.append(_text(x0 - 8, cy + 4, truncate(lab, int((label_w - 12) / CHAR_PX)), anchor="end"))
            out.append(_rect(x0, y + 4, bw, row_h - 8, C_TRACK))
            if b:
                out.append(_rect(x0, y + 4, bw * a / b, row_h - 8, C_ONTIME))
                out.append(_text(x0 + bw + 8, cy + 4, f"{fmt_pct(a, b)} ({fmt_int(a)}/{fmt_int(b)})"))
            else:
                out.append(_text(x0 + bw + 8, cy + 4, "chưa có hồ sơ giải quyết", fill=C_MUTED, size=11))
            out.append("</g>")
            y += row_h
        for pct in (0, 25, 50, 75, 100):
            gx = x0 + bw * pct / 100
            out.append(f'<line x1="{fnum(gx)}" x2="{fnum(gx)}" y1="{fnum(top)}" y2="{fnum(y)}" '
                       f'stroke="#ffffff" stroke-width="1" opacity="0.7"/>')
    out.append("</svg>")
    return "\n".join(out)


def open_by_agency_chart(t: ReportTables) -> str:
    """Horizontal stacked bars: dossiers open at period end per agency, not due / overdue."""
    df = t.frame("open_by_agency")
    rows = []
    for code, name, nd, od in zip(df["agency_code"], df["agency_name"], df["pending_not_due"],
                                  df["pending_overdue"], strict=True):
        label = name if name is not None and not pd.isna(name) else (code if code is not None and not pd.isna(code)
                                                                     else "(chưa xác định)")
        rows.append((str(label), _count(nd), _count(od)))
    rows.sort(key=lambda r: (-r[2], -(r[1] + r[2]), r[0]))
    end = fmt_date(t.period_end)
    title = f"Hồ sơ đang giải quyết và quá hạn theo cơ quan, đơn vị tại ngày {end}"
    desc = "Biểu đồ thanh ngang chồng. " + "; ".join(
        f"{lab}: {nd} chưa đến hạn, {od} quá hạn" for lab, nd, od in rows)
    row_h, label_w, value_w, top = 26, 330, 170, 66
    height = top + row_h * max(len(rows), 1) + 34
    out = _open("open-by-agency", title, desc, height)
    out += _legend(label_w, 42, [(C_NOT_DUE, "Chưa đến hạn"), (C_OVERDUE, "Quá hạn")])
    bw = WIDTH - label_w - value_w
    vmax = max((nd + od for _, nd, od in rows), default=0)
    ticks = nice_ticks(vmax)
    scale = bw / ticks[-1]
    y_end = top + row_h * max(len(rows), 1)
    for tv in ticks:
        gx = label_w + tv * scale
        out.append(f'<line x1="{fnum(gx)}" x2="{fnum(gx)}" y1="{top}" y2="{fnum(y_end)}" stroke="{C_GRID}"/>')
        out.append(_text(gx, y_end + 16, fmt_int(tv), anchor="middle", fill=C_MUTED, size=10))
    if not rows or vmax == 0:
        return "\n".join(_empty(out, top + 16, "Không có hồ sơ đang giải quyết tại thời điểm cuối kỳ"))
    y = top
    for lab, nd, od in rows:
        cy = y + row_h / 2
        tip = f"{lab}: {fmt_int(nd + od)} đang giải quyết ({fmt_int(nd)} chưa đến hạn, {fmt_int(od)} quá hạn)"
        out.append(f'<g class="bar"><title>{esc(tip)}</title>')
        out.append(_text(label_w - 8, cy + 4, truncate(lab, int((label_w - 12) / CHAR_PX)), anchor="end"))
        out.append(_rect(label_w, y + 4, nd * scale, row_h - 8, C_NOT_DUE))
        out.append(_rect(label_w + nd * scale, y + 4, od * scale, row_h - 8, C_OVERDUE))
        value = f"{fmt_int(nd + od)}" + (f" ({fmt_int(od)} quá hạn)" if od else "")
        out.append(_text(label_w + (nd + od) * scale + 6, cy + 4, value,
                         fill=C_OVERDUE if od else C_TEXT))
        out.append("</g>")
        y += row_h
    out.append("</svg>")
    return "\n".join(out)


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


def processing_days_chart(t: ReportTables) -> str:
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
    height = 330
    left, right, top, bottom = 60, 16, 58, 46
    out = _open("processing-days", title, desc, height)
    ph, pw = height - top - bottom, WIDTH - left - right
    base = top + ph
    if total == 0:
        return "\n".join(_empty(out, top + ph / 2, "Không có hồ sơ giải quyết trong kỳ"))
    lo, hi = min(0, min(hist)), max(hist)
    span = hi - lo + 1
    width = max(1, math.ceil(span / 40))  # bin width in days
    bins: dict[int, int] = {}
    for d, n in hist.items():
        b = lo + ((d - lo) // width) * width
        bins[b] = bins.get(b, 0) + n
    nbins = math.ceil(span / width)
    unit = pw / (nbins * width)  # pixels per day

    def x_of(v: float) -> float:
        return left + (v - lo + 0.5) * unit

    vmax = max(bins.values())
    ticks = nice_ticks(vmax)
    scale = ph / ticks[-1]
    for tv in ticks:
        y = base - tv * scale
        out.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{fnum(y)}" y2="{fnum(y)}" stroke="{C_GRID}"/>')
        out.append(_text(left - 6, y + 4, fmt_int(tv), anchor="end", fill=C_MUTED))
    label_every = max(1, math.ceil(nbins / 20))
    for i in range(nbins):
        b = lo + i * width
        n = bins.get(b, 0)
        x = left + i * width * unit
        w = width * unit
        rng = f"{b} ngày" if width == 1 else f"{b}–{b + width - 1} ngày"
        if n:
            out.append(_rect(x + 0.5, base - n * scale, w - 1, n * scale, C_HIST, f"{rng}: {fmt_int(n)} hồ sơ"))
        if i % label_every == 0:
            lab = str(b) if width == 1 else f"{b}–{b + width - 1}"
            out.append(_text(x + w / 2, base + 16, lab, anchor="middle", fill=C_MUTED, size=11))
    out.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{base}" y2="{base}" stroke="{C_MUTED}"/>')
    out.append(_text(left + pw / 2, base + 36, "Số ngày làm việc từ khi tiếp nhận đến khi giải quyết xong",
                     anchor="middle", fill=C_MUTED, size=11))
    lines = [("Trung vị", med, "#1f2933", "6 3"), ("P90", p90, C_OVERDUE, "2 3")]
    lx = left + 8
    for label, v, color, dash in lines:
        if v is None:
            continue
        x = x_of(v)
        out.append(f'<line x1="{fnum(x)}" x2="{fnum(x)}" y1="{top - 4}" y2="{base}" stroke="{color}" '
                   f'stroke-width="1.5" stroke-dasharray="{dash}"/>')
        text = f"{label}: {fdec(v)} ngày"
        out.append(f'<line x1="{fnum(lx)}" x2="{fnum(lx + 22)}" y1="36" y2="36" stroke="{color}" '
                   f'stroke-width="1.5" stroke-dasharray="{dash}"/>')
        out.append(_text(lx + 28, 40, text))
        lx += 28 + len(text) * CHAR_PX + 24
    out.append(_text(WIDTH - right, 40, f"Tổng số: {fmt_int(total)} hồ sơ", anchor="end", fill=C_MUTED))
    out.append("</svg>")
    return "\n".join(out)


def all_charts(t: ReportTables) -> dict[str, str]:
    """The four charts by ``data-chart`` id."""
    return {
        "monthly-intake": monthly_intake_chart(t),
        "ontime-rate": ontime_chart(t),
        "open-by-agency": open_by_agency_chart(t),
        "processing-days": processing_days_chart(t),
    }
