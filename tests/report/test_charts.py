"""motcua.report.charts: the model's figures reach each chart's Vega-Lite spec and its
rendered SVG; every chart is an inline ``<svg role="img">`` with its accessible title,
self-contained (no namespace URL, no link, no script) and the same bytes each time."""

from __future__ import annotations

import dataclasses
import html
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from helpers.render import make_tables

from motcua.report import ReportTables
from motcua.report.charts import (
    CHART_IDS,
    all_charts,
    chart_specs,
    inline_svg,
    monthly_intake_spec,
    ontime_spec,
    open_by_agency_spec,
    processing_days_spec,
    render_svg,
    weighted_quantile,
)


def _values(spec: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The inline data sets of a spec, in document order (layers, panels)."""
    out = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("data"), dict) and "values" in node["data"]:
                out.append(node["data"]["values"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec)
    return out


def _texts(svg: str) -> list[str]:
    """The visible texts of an SVG (unescaped)."""
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


@pytest.fixture(scope="module")
def tables() -> ReportTables:
    return make_tables().normalized()[0]


@pytest.fixture(scope="module")
def charts(tables: ReportTables) -> dict[str, str]:
    return {c.chart_id: c.svg for c in all_charts(tables)}


# --- the model's figures reach the specs ---------------------------------------------------------

def test_monthly_intake_spec_holds_the_months(tables: ReportTables) -> None:
    c = monthly_intake_spec(tables)
    bars, totals = _values(c.spec)
    online = [r["so_ho_so"] for r in bars if r["kenh"] == "Trực tuyến"]
    offline = [r["so_ho_so"] for r in bars if r["kenh"] != "Trực tuyến"]
    assert online == tables.monthly_intake["received_online"].tolist()
    assert offline == tables.monthly_intake["received_offline"].tolist()
    assert [(r["thang"], r["nhan"]) for r in totals][:2] == [("Tháng 1", "2"), ("Tháng 2", "2")]
    assert sum(r["tong"] for r in totals) == 34
    assert c.spec["title"]["text"] == c.title == "Hồ sơ tiếp nhận theo tháng và kênh nộp, năm 2019"


def test_ontime_spec_worst_first_with_figures(tables: ReportTables) -> None:
    fields, procedures = _values(ontime_spec(tables).spec)
    assert [(r["nhan"], r["so_lieu"]) for r in fields] == [
        ("An toàn bức xạ và hạt nhân", "91,67% (11/12)"),
        ("Hoạt động khoa học và công nghệ", "100% (2/2)"),
        ("Tiêu chuẩn Đo lường Chất lượng", "100% (17/17)")]
    assert [r["nhan"].split()[0] for r in procedures] == ["1.004512", "1.008877", "2.000123"]
    assert procedures[0]["ty_le"] == pytest.approx(11 / 12)


def test_open_by_agency_spec_overdue_first(tables: ReportTables) -> None:
    parts, totals = _values(open_by_agency_spec(tables).spec)
    assert [(r["nhan"], r["so_lieu"]) for r in totals] == [
        ("Chi cục Tiêu chuẩn Đo lường Chất lượng", "2 (1 quá hạn)"), ("Văn phòng Sở", "1")]
    assert [(r["tinh_trang"], r["so_ho_so"]) for r in parts[:2]] == [("Chưa đến hạn", 1), ("Quá hạn", 1)]


def test_processing_days_spec_bins_median_and_p90(tables: ReportTables) -> None:
    c = processing_days_spec(tables)
    bins, marks = _values(c.spec)
    assert [(r["khoang"], r["so_ho_so"]) for r in bins] == [
        ("1 ngày", 4), ("2 ngày", 9), ("3 ngày", 10), ("5 ngày", 6), ("8 ngày", 2)]
    assert [r["nhan"] for r in marks] == ["Trung vị: 3 ngày", "P90: 5 ngày"]
    assert c.spec["title"]["subtitle"] == "Tổng số: 31 hồ sơ đã giải quyết"


def test_processing_days_wide_spread_is_binned() -> None:
    days = pd.DataFrame(dict(working_days=list(range(0, 120)), dossiers=[1] * 120))
    bins, _ = _values(processing_days_spec(make_tables(processing_days=days).normalized()[0]).spec)
    assert len(bins) <= 40 and sum(r["so_ho_so"] for r in bins) == 120
    assert bins[0]["khoang"] == "0–2 ngày" and bins[0]["so_ho_so"] == 3


@pytest.mark.parametrize(("q", "want"), [(0.5, 3.0), (0.9, 5.0), (0.0, 1.0), (1.0, 8.0)])
def test_weighted_quantile(q: float, want: float) -> None:
    assert weighted_quantile([1, 2, 3, 5, 8], [4, 9, 10, 6, 2], q) == want


def test_weighted_quantile_interpolates_and_handles_nothing() -> None:
    assert weighted_quantile([4, 5], [1, 1], 0.5) == 4.5
    assert weighted_quantile([4], [0], 0.5) is None


# --- the rendered SVG ------------------------------------------------------------------------------

def test_every_chart_has_its_accessible_title(charts: dict[str, str], tables: ReportTables) -> None:
    assert list(charts) == list(CHART_IDS)
    titles = {c.chart_id: c.title for c in chart_specs(tables)}
    for chart_id, svg in charts.items():
        root = re.match(r"<svg ([^>]*)>", svg).group(1)
        attrs = dict(re.findall(r'([\w:-]+)="([^"]*)"', root))
        assert attrs["class"] == "chart" and attrs["data-chart"] == chart_id and attrs["role"] == "img"
        assert html.unescape(attrs["aria-label"]) == titles[chart_id]
        cid = f"chart-{chart_id}"
        assert attrs["aria-labelledby"] == f"{cid}-title {cid}-desc"
        assert svg.index(f'<title id="{cid}-title">{html.escape(titles[chart_id], quote=False)}</title>') \
            < svg.index(f'<desc id="{cid}-desc">') < svg.index("<g")
        assert titles[chart_id] in _texts(svg)  # and the title is drawn


def test_svg_is_self_contained(charts: dict[str, str]) -> None:
    for chart_id, svg in charts.items():
        assert "xmlns" not in svg and "http" not in svg, chart_id
        assert "<script" not in svg and "href" not in svg and "url(" not in svg and "<image" not in svg
        assert "<foreignObject" not in svg and "@font-face" not in svg
        fonts = set(re.findall(r'font-family="([^"]*)"', svg))
        assert fonts == {"DejaVu Sans, Verdana, Segoe UI, Arial, sans-serif"}, fonts  # system fonts only


def test_svg_shows_the_labels(charts: dict[str, str]) -> None:
    texts = {chart_id: _texts(svg) for chart_id, svg in charts.items()}
    assert [f"Tháng {m}" for m in range(1, 13)] == [t for t in texts["monthly-intake"] if t.startswith("Tháng ")]
    assert {"Trực tuyến", "Trực tiếp, qua bưu chính công ích", "5"} <= set(texts["monthly-intake"])
    assert {"Theo lĩnh vực", "Theo thủ tục hành chính", "91,67% (11/12)", "100% (17/17)", "0%", "100%",
            "An toàn bức xạ và hạt nhân"} <= set(texts["ontime-rate"])
    assert {"2 (1 quá hạn)", "1", "Văn phòng Sở", "Chưa đến hạn", "Quá hạn"} <= set(texts["open-by-agency"])
    assert {"Trung vị: 3 ngày", "P90: 5 ngày", "Tổng số: 31 hồ sơ đã giải quyết",
            "Số ngày làm việc từ khi tiếp nhận đến khi giải quyết xong"} <= set(texts["processing-days"])


def test_axis_numbers_the_vietnamese_way() -> None:
    monthly = pd.DataFrame(dict(month=range(1, 13), received_online=[1000] * 12, received_offline=[11000] * 12))
    svg = render_svg(monthly_intake_spec(make_tables(monthly_intake=monthly).normalized()[0]).spec)
    texts = _texts(svg)
    assert "12.000" in texts  # the month's total above its bar
    assert any(re.fullmatch(r"\d{1,2}\.000", t) for t in texts if t != "12.000")  # an axis tick
    assert not any("," in t for t in texts if t[:1].isdigit())


def test_same_tables_same_bytes(tables: ReportTables, charts: dict[str, str]) -> None:
    again = {c.chart_id: c.svg for c in all_charts(tables)}
    assert again == charts


def test_empty_tables_say_so() -> None:
    t = ReportTables(title="Báo cáo", year=2020, period_start=pd.Timestamp("2020-01-01").date(),
                     period_end=pd.Timestamp("2020-12-31").date(), agency_name="Sở")
    texts = {c.chart_id: _texts(c.svg) for c in all_charts(t.normalized()[0])}
    assert "Không có hồ sơ tiếp nhận trong kỳ" in texts["monthly-intake"]
    assert "Không có dữ liệu" in texts["ontime-rate"]
    assert "Không có hồ sơ đang giải quyết tại thời điểm cuối kỳ" in texts["open-by-agency"]
    assert "Không có hồ sơ giải quyết trong kỳ" in texts["processing-days"]


def test_rendering_fetches_nothing() -> None:
    """Data must be inline: a spec that names a URL is refused, not fetched."""
    with pytest.raises(Exception, match="External data url not allowed"):
        render_svg({"data": {"url": "https://example.org/x.csv"}, "mark": "point"})


def test_inline_svg_escapes_title_and_desc() -> None:
    svg = inline_svg('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="5" viewBox="0 0 10 5"><g/></svg>',
                     "x", 'A <b> & "c"', "d < e")
    assert svg == ('<svg class="chart" data-chart="x" role="img" aria-label="A &lt;b&gt; &amp; &quot;c&quot;" '
                   'aria-labelledby="chart-x-title chart-x-desc" width="10" height="5" viewBox="0 0 10 5" '
                   'preserveAspectRatio="xMinYMin meet"><title id="chart-x-title">A &lt;b&gt; &amp; "c"</title>'
                   '<desc id="chart-x-desc">d &lt; e</desc><g /></svg>')


def test_duplicate_labels_keep_their_own_bars(tables: ReportTables) -> None:
    by_agency = pd.DataFrame([dict(agency_code="A", agency_name="Sở", pending_not_due=1, pending_overdue=0),
                              dict(agency_code="B", agency_name="Sở", pending_not_due=2, pending_overdue=0)])
    _, totals = _values(open_by_agency_spec(dataclasses.replace(tables, open_by_agency=by_agency)).spec)
    assert [r["nhan"] for r in totals] == ["Sở", "Sở (2)"]


def test_characters_svg_cannot_hold_do_not_crash_the_renderer() -> None:
    """A NUL in a procedure code (the source sends them: see test_hostile_codes) made
    vl-convert abort the whole process; such characters reach the charts as U+FFFD. In a
    subprocess, so that a regression fails this test instead of killing the run."""
    script = (
        "import dataclasses, sys\n"
        "sys.path.insert(0, 'tests')\n"
        "from helpers.render import make_tables\n"
        "from motcua.report.charts import all_charts\n"
        "t = make_tables()\n"
        "p = t.ontime_by_procedure.copy()\n"
        "p.loc[0, 'procedure_code'] = '1.00\\x000x'\n"
        "p.loc[1, 'procedure_name'] = 'a\\x1fb\\x0bc'\n"
        "svg = {c.chart_id: c.svg for c in all_charts(dataclasses.replace(t, ontime_by_procedure=p))}\n"
        "s = svg['ontime-rate']\n"
        "assert '\\x00' not in s and '\\x1f' not in s and '1.00\\ufffd0x' in s and 'a\\ufffdb\\ufffdc' in s\n"
        "print('ok')\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]
