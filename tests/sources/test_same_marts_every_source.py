"""The four kinds of source, fed the same data, give identical marts; nightly increments
give the marts of one full run; replaying the raw zone alone rebuilds the same marts."""

from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from helpers.bundle import read_table, run_pipeline, write_bundle
from servers import require_server

from motcua.dev.database_loader import load_bundle_into_database
from motcua.dev.simulator.server import Simulator

MARTS = ("mart.dossier_resolution", "mart.dossier_intake", "mart.indicator")
SHEET_HEADERS = {
    "MaHoSo": "Mã hồ sơ", "MaTTHC": "Mã TTHC", "TenTTHC": "Tên thủ tục", "MaDonVi": "Mã đơn vị",
    "KenhThucHien": "Kênh", "NgayNopHoSo": "Ngày nộp", "NgayTiepNhan": "Ngày tiếp nhận", "NgayHenTra": "Hạn xử lý",
    "NgayKetThucXuLy": "Ngày kết thúc xử lý", "NgayTra": "Ngày trả kết quả", "TrangThaiHoSo": "Trạng thái",
    "NgayCapNhat": "Ngày cập nhật", "DanhGia": "Đánh giá", "DuocThanhToanTrucTuyen": "Thanh toán trực tuyến",
    "HoSoCoThanhPhanSoHoa": "Số hóa", "LoaiDoiTuong": "Loại đối tượng",
}


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    return value


def _marts(url: str) -> dict[str, pd.DataFrame]:
    out = {}
    for t in MARTS:
        df = read_table(url, t)
        out[t] = df.sort_values(list(df.columns[:5])).reset_index(drop=True)
    return out


def _assert_same(a: dict, b: dict) -> None:
    for t in MARTS:
        pd.testing.assert_frame_equal(a[t], b[t], check_dtype=False, obj=t)


def _current_snapshots(bundle) -> list[dict]:
    """The newest valid snapshot of each dossier, as a database or spreadsheet holds it."""
    return list(bundle.current.values())


@pytest.fixture(scope="module")
def reference(bundle, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ref")
    url = f"duckdb:///{tmp / 'wh.duckdb'}"
    run_pipeline(bundle.path, url, tmp / "var")
    return _marts(url)


def test_http_source_gives_the_bundles_marts(bundle, reference, tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    with Simulator(bundle.path, fail_rate_429=0.05, fail_rate_5xx=0.05, seed=3, retry_after=0) as sim:
        run_pipeline(sim.url, url, tmp_path / "var")
    _assert_same(_marts(url), reference)


def test_database_source_gives_the_bundles_marts(bundle, reference, tmp_path, mariadb_source):
    load_bundle_into_database(bundle.path, mariadb_source)
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    run_pipeline(mariadb_source, url, tmp_path / "var")
    _assert_same(_marts(url), reference)


def test_spreadsheet_source_gives_the_bundles_marts(bundle, reference, tmp_path):
    sheet = tmp_path / "export.csv"
    with open(sheet, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(SHEET_HEADERS.values())
        for snap in _current_snapshots(bundle):
            w.writerow([_cell(snap.get(k)) for k in SHEET_HEADERS])
    for name in ("procedures.csv", "agencies.csv"):
        (tmp_path / name).write_bytes((bundle.path / name).read_bytes())
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    run_pipeline(sheet, url, tmp_path / "var")
    _assert_same(_marts(url), reference)


def test_nightly_increments_equal_one_full_run_and_replay_rebuilds(bundle, reference, tmp_path):
    lines = []
    for f in sorted((bundle.path / "dossiers").glob("*")):
        import gzip

        data = gzip.decompress(f.read_bytes()) if f.name.endswith(".gz") else f.read_bytes()
        lines += [ln for ln in data.decode("utf-8").split("\n") if ln.strip()]

    def stamp(line: str) -> str:
        try:
            return str(json.loads(line).get("NgayCapNhat") or "")[:8]
        except ValueError:
            return ""

    days = sorted({stamp(ln) for ln in lines})
    cuts = [days[len(days) * k // 4] for k in (1, 2, 3)]
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    data_dir = tmp_path / "var"
    with open(bundle.path / "procedures.csv", encoding="utf-8") as fh:
        procs = list(csv.DictReader(fh))
    with open(bundle.path / "agencies.csv", encoding="utf-8") as fh:
        agencies = list(csv.DictReader(fh))
    bounds = ["", *cuts, "99999999"]
    for i, (lo, hi) in enumerate(zip(bounds, bounds[1:], strict=False)):
        part = [ln for ln in lines if lo <= stamp(ln) < hi] if i else [ln for ln in lines if stamp(ln) < hi]
        write_bundle(tmp_path / f"night{i}", part, procs, agencies)
        run_pipeline(tmp_path / f"night{i}", url, data_dir, quarantine_threshold=1.0)
    _assert_same(_marts(url), reference)
    # the raw zone alone rebuilds the same marts in a new warehouse
    url2 = f"duckdb:///{tmp_path / 'replayed.duckdb'}"
    run_pipeline(f"raw:{data_dir / 'raw'}", url2, tmp_path / "var2")
    _assert_same(_marts(url2), reference)
    assert Path(data_dir / "raw").stat().st_mode & 0o077 == 0


DRIVER = """
import sys
sys.path.insert(0, {tests!r})
from helpers.bundle import run_pipeline
run_pipeline({source!r}, {url!r}, {data_dir!r}, quarantine_threshold=1.0)
"""


def test_killed_mid_extract_then_rerun_loses_and_duplicates_nothing(bundle, reference, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    data_dir = tmp_path / "var"
    tests_dir = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "MOTCUA_HTTP_PAGE_SIZE": "5"}
    with Simulator(bundle.path, latency_ms=250, seed=5) as sim:
        code = DRIVER.format(tests=tests_dir, source=sim.url, url=url, data_dir=str(data_dir))
        proc = subprocess.Popen([sys.executable, "-c", code], env=env)
        deadline = time.monotonic() + 120
        raw = data_dir / "raw"
        while time.monotonic() < deadline and not list(raw.rglob("*-records-*.parquet")):
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be killed mid-extract"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        landed = list(raw.rglob("*-records-*.parquet"))
        assert landed, "nothing was extracted before the kill"
        assert not (tmp_path / "wh.duckdb").exists() or read_table(url, "core.fct_dossier").empty
    # the next run, with a healthy server, finishes the work
    with Simulator(bundle.path, seed=5) as sim:
        run_pipeline(sim.url, url, data_dir, quarantine_threshold=1.0)
    _assert_same(_marts(url), reference)
    fct = read_table(url, "core.fct_dossier")
    assert fct["dossier_code"].is_unique and len(fct) == len(bundle.current)


def _nights(bundle, parts: int = 4) -> list[list[str]]:
    """The bundle's lines cut into cumulative nights by NgayCapNhat day: what the source
    holds at the end of night 1, 2, … (the last night holds everything)."""
    import gzip

    lines = []
    for f in sorted((bundle.path / "dossiers").glob("*")):
        data = gzip.decompress(f.read_bytes()) if f.name.endswith(".gz") else f.read_bytes()
        lines += [ln for ln in data.decode("utf-8").split("\n") if ln.strip()]

    def day(line: str) -> str:
        try:
            return str(json.loads(line).get("NgayCapNhat") or "")[:8]
        except ValueError:
            return ""

    days = sorted({day(ln) for ln in lines})
    cuts = [days[len(days) * k // parts] for k in range(1, parts)] + ["99999999"]
    return [[ln for ln in lines if day(ln) < cut] for cut in cuts]


def _dossier_count(lines: list[str]) -> int:
    codes = set()
    for line in lines:
        try:
            codes.add(json.loads(line).get("MaHoSo"))
        except ValueError:
            continue
    return len(codes - {None, ""})


def _catalogue(bundle) -> tuple[list[dict], list[dict]]:
    with open(bundle.path / "procedures.csv", encoding="utf-8") as fh:
        procs = list(csv.DictReader(fh))
    with open(bundle.path / "agencies.csv", encoding="utf-8") as fh:
        agencies = list(csv.DictReader(fh))
    return procs, agencies


def test_nightly_increments_over_http_equal_one_full_run(bundle, reference, tmp_path):
    import socket

    procs, agencies = _catalogue(bundle)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    for i, lines in enumerate(_nights(bundle)):
        night = write_bundle(tmp_path / f"night{i}", lines, procs, agencies)
        # the same server (same address) each night, holding more changes than the night before
        with Simulator(night, port=port, seed=i, fail_rate_5xx=0.05) as sim:
            result = run_pipeline(sim.url, url, tmp_path / "var", incremental=True, quarantine_threshold=1.0)
        if i:
            assert result["staged"]["records_read"] < len(lines)  # only what changed (plus the overlap window)
            # the marts of later nights come from the kept state by a delta over the night's dossiers
            assert result["method"] == "delta", result["plan"]
    _assert_same(_marts(url), reference)


def test_nightly_increments_from_the_database_equal_one_full_run(bundle, reference, tmp_path):
    require_server("127.0.0.1", 3306, "MariaDB")
    procs, agencies = _catalogue(bundle)
    name = f"motcua_inc_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine("mysql+pymysql://root@127.0.0.1:3306/test")
    with admin.begin() as c:
        c.exec_driver_sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    try:
        src = f"mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"
        url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
        for i, lines in enumerate(_nights(bundle)):
            night = write_bundle(tmp_path / f"night{i}", lines, procs, agencies)
            load_bundle_into_database(night, src, replace=True)  # the system's tables as they are that night
            result = run_pipeline(src, url, tmp_path / "var", incremental=True, quarantine_threshold=1.0)
            if i:  # only the dossiers that changed since the watermark are read
                assert result["staged"]["records_read"] < _dossier_count(lines)
                assert result["method"] == "delta", result["plan"]
        _assert_same(_marts(url), reference)
    finally:
        with admin.begin() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()
