"""motcua.report: the self-contained HTML report, read as text and in headless Chromium."""

from __future__ import annotations

import dataclasses
import html
import os
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from helpers.render import NAME_2, URL_1, URL_2, make_tables

from motcua.report import write_report

# --- HTML -------------------------------------------------------------------------------------

def test_html_self_contained(report: dict[str, Path]) -> None:
    page = report["html"].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    charts = re.findall(r'<svg [^>]*data-chart="([^"]+)"', page)
    assert charts == ["monthly-intake", "ontime-rate", "open-by-agency", "processing-days"]
    for svg in re.findall(r"<svg .*?</svg>", page, flags=re.S):
        assert 'aria-label="' in svg and "<title" in svg and 'role="img"' in svg
    tables = re.findall(r'<table [^>]*data-table="([^"]+)"', page)
    assert tables == ["bieu1", "bieu2", "bieu3", "bieu4", "bieu06", "chiso"]
    lowered = page.lower()
    assert "<script" not in lowered
    assert "<link" not in lowered and "@import" not in lowered and "url(" not in lowered
    assert "src=" not in lowered
    # the only absolute addresses are the service URLs of Biểu 1 (the data's own)
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page))
    allowed = {URL_1, URL_2.replace("&", "&amp;")}
    assert urls <= allowed, urls - allowed
    assert f'href="{URL_2.replace("&", "&amp;")}"' in page
    assert "//" not in re.sub(r"https?://[^\s\"'<>]+", "", page)  # no protocol-relative links


def test_html_tables_and_escaping(report: dict[str, Path]) -> None:
    page = report["html"].read_text(encoding="utf-8")
    assert "<X-quang>" not in page
    # the name as it is, escaped by Jinja, in its cell of Biểu 1 and of Biểu 2
    cell = ('<td class="text" data-col="procedure_name">'
            "Đăng ký công bố hợp chuẩn &#34;đặc biệt&#34; &lt;X-quang&gt; &amp; hợp quy</td>")
    assert page.count(cell) == 2
    assert html.unescape(cell).endswith(f">{NAME_2}</td>")
    # the merged header of Biểu 2 and its totals row
    assert '<th scope="colgroup" colspan="3">Số hồ sơ nhận giải quyết</th>' in page
    assert '<th scope="colgroup" colspan="6">Kết quả giải quyết</th>' in page
    assert '<th scope="colgroup" colspan="3">Đã giải quyết</th>' in page
    assert '<th scope="col" rowspan="3">Rút hồ sơ / dừng xử lý</th>' in page
    bieu2 = page[page.index('data-table="bieu2"'):page.index('data-table="bieu3"')]
    total = re.search(r'<tr class="total">(.*?)</tr>', bieu2, flags=re.S).group(1)
    assert re.findall(r">(\d+)</td>", total) == ["35", "1", "34", "31", "30", "1", "3", "2", "1", "1"]
    assert "".join(f"<th>({i})</th>" for i in range(1, 14)) in bieu2
    # explain link on one cell of table 2
    assert '<a class="explain" href="giai-thich/1.004512.html#tre-han">1</a>' in bieu2
    # the paragraph is in the page
    assert 'data-paragraph="II.2"' in page and "Tiếp nhận 34 hồ sơ" in page


# --- in a real browser ------------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    msg = (f"CHROMIUM MISSING: {CHROMIUM} not found, the browser test of the HTML report did NOT run. "
           "Install it with `bash .ci/install-chromium.sh`.")
    if _ci():
        pytest.fail(msg + " (CI=true: a missing browser is a failure)")
    pytest.skip(msg)


def test_missing_chromium_skips_locally_and_fails_under_ci(monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="CHROMIUM MISSING"):
        _need_chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        _need_chromium()


def _chromium(html: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: any network fetch would fail
            f"--user-data-dir={tmp / 'profile'}", *extra, html.resolve().as_uri()]
    env = {**os.environ, "HOME": str(tmp)}
    return subprocess.run(args, capture_output=True, text=True, timeout=180, env=env, check=False)


def _png_pixels(png: bytes) -> tuple[int, int, bytes]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        kind = png[pos + 4:pos + 8]
        data = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", data[:8])
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def test_html_in_headless_chromium(report: dict[str, Path], tmp_path: Path) -> None:
    _need_chromium()
    png = tmp_path / "report.png"
    shot = _chromium(report["html"], tmp_path, f"--screenshot={png}", "--window-size=1400,3000")
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert png.is_file(), shot.stderr[-2000:]
    width, height, raw = _png_pixels(png.read_bytes())
    assert (width, height) == (1400, 3000)
    assert png.stat().st_size > 50_000  # a blank page compresses to a few kB
    assert len(set(raw[::97])) > 40  # many distinct byte values: text, colours, charts

    dom = _chromium(report["html"], tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = dom.stdout
    assert re.findall(r'<table [^>]*data-table="([^"]+)"', page) == [
        "bieu1", "bieu2", "bieu3", "bieu4", "bieu06", "chiso"]
    assert re.findall(r'<svg [^>]*data-chart="([^"]+)"', page) == [
        "monthly-intake", "ontime-rate", "open-by-agency", "processing-days"]
    # the charts' bars reach the DOM: 12 months x 2 channels, (3 fields + 3 procedures) x
    # (track + share), 2 agencies x 2 states, 5 bins of days
    svgs = dict(re.findall(r'<svg [^>]*data-chart="([^"]+)"(.*?)</svg>', page, flags=re.S))
    bars = {chart: svg.count('aria-roledescription="bar"') for chart, svg in svgs.items()}
    assert bars == {"monthly-intake": 24, "ontime-rate": 12, "open-by-agency": 4, "processing-days": 5}
    for text in ("Tháng 12", "91,67% (11/12)", "2 (1 quá hạn)", "Trung vị: 3 ngày"):
        assert text in page, text
    assert "Tổng cộng" in page and "Số hồ sơ nhận giải quyết" in page
    assert "Tiếp nhận 34 hồ sơ" in page


# --- templates and autoescaping ------------------------------------------------------------------------

HOSTILE = '<script>alert("x")</script> Cấp phép & <b>gia hạn</b>'


def test_hostile_procedure_name_reaches_the_page_escaped(tmp_path: Path) -> None:
    """Autoescaping is on: markup in a name from the source is text in the tables, the
    charts' labels and their descriptions, never an element of the page."""
    t = make_tables()
    rename = {"2.000123": HOSTILE}
    frames = {name: getattr(t, name).assign(procedure_name=[rename.get(c, n) for c, n in zip(
        getattr(t, name)["procedure_code"], getattr(t, name)["procedure_name"], strict=True)])
        for name in ("table1", "table2", "ontime_by_procedure")}
    page = write_report(dataclasses.replace(t, **frames), tmp_path)["html"].read_text(encoding="utf-8")
    assert "<script" not in page.lower() and "<b>" not in page
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Cấp phép &amp; &lt;b&gt;gia hạn&lt;/b&gt;"
    assert page.count(f'<td class="text" data-col="procedure_name">{escaped}</td>') == 2
    chart = re.search(r'<svg [^>]*data-chart="ontime-rate".*?</svg>', page, flags=re.S).group(0)
    assert "&lt;script&gt;" in chart and "&amp; &lt;b&gt;" in chart  # the chart's label and <desc>
    desc = re.search(r'<desc id="chart-ontime-rate-desc">(.*?)</desc>', chart, flags=re.S).group(1)
    assert f"2.000123 {HOSTILE}: 100% (17/17)" in html.unescape(desc)


def test_templates_are_package_data_with_autoescaping() -> None:
    """The page's templates load from the package (PackageLoader), escape by default,
    and are shipped: pyproject's package-data patterns match every one of them."""
    import fnmatch
    import tomllib

    from motcua.report.html import TEMPLATE, environment

    env = environment()
    names = env.list_templates()
    assert TEMPLATE in names and "_table.html" in names
    assert all(env.autoescape(n) for n in names)  # select_autoescape: on for .html
    assert env.from_string("{{ x }}").render(x="<a&b>") == "&lt;a&amp;b&gt;"
    root = Path(__file__).resolve().parents[2]
    shipped = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"]["*"]
    for name in names:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in shipped), name
