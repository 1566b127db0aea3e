"""Extract throughput (snapshots/s) of each source on a bundle of ~20k snapshot lines.

Builds a bundle in a temporary folder, then times ``iter_records()`` to the end for:

* the export bundle itself (baseline);
* the HTTP API: ``motcua serve`` in a child process (its own interpreter, as a real
  server would be), clean and with faults (429, 5xx, truncated bodies, dropped
  connections, 2 ms latency);
* the database: the bundle's current snapshots loaded into SQLite and, when it answers
  on 127.0.0.1:3306, MariaDB (loading is not timed);
* spreadsheets: a CSV and an XLSX with one row per snapshot line.

Usage: ``.venv/bin/python bench/extract_throughput.py [--lines 20000] [--page-size 500]``
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from motcua.dev.database_loader import load_bundle_into_database  # noqa: E402
from motcua.sources.bundle import BundleSource  # noqa: E402
from motcua.sources.database import DatabaseSource  # noqa: E402
from motcua.sources.http import HttpSource  # noqa: E402
from motcua.sources.spreadsheet import SpreadsheetSource  # noqa: E402

PROCEDURES = ["1.004512", "2.000120", "1.000321", "2.001234", "1.009876"]
AGENCIES = ["SKHCN", "CCTDC", "TTUD"]


def build_bundle(path: Path, lines: int, seed: int = 1) -> tuple[int, int]:
    """Write ``lines`` snapshot lines (dossiers with 1-5 snapshots each). Returns (lines, dossiers)."""
    rng = random.Random(seed)
    (path / "dossiers").mkdir(parents=True)
    out: list[str] = []
    n = 0
    base = dt.datetime(2023, 1, 1, 7, 0)
    while len(out) < lines:
        n += 1
        code = f"HS-{n:07d}"
        t = base + dt.timedelta(minutes=rng.randrange(525_600))
        intake = t
        history = []
        for k, status in enumerate([2, 4, 5, 9, 10][: rng.randint(1, 5)]):
            t += dt.timedelta(hours=rng.randint(1, 60), seconds=rng.randrange(60))
            history.append({"TrangThai": status, "ThoiDiemXuLy": t.strftime("%Y%m%d%H%M%S"), "DonViXuLy": "SKHCN",
                            "PhongBanXuLy": "Phòng Quản lý chuyên ngành", "NguoiXuLy": "Nguyễn Văn Bình",
                            "NoiDungXuLy": f"Bước {k + 1}: xử lý hồ sơ"})
            snap = {"MaHoSo": code, "MaTTHC": PROCEDURES[n % 5], "TenTTHC": "Cấp giấy phép tiến hành công việc bức xạ",
                    "MaLinhVuc": "ATBX", "TenLinhVuc": "An toàn bức xạ và hạt nhân", "MaDonVi": AGENCIES[n % 3],
                    "KenhThucHien": 1 + n % 3, "NgayTiepNhan": intake.strftime("%Y%m%d%H%M%S"),
                    "NgayHenTra": (intake + dt.timedelta(days=10)).strftime("%Y%m%d170000"),
                    "TrangThaiHoSo": status, "NgayCapNhat": t.strftime("%Y%m%d%H%M%S"), "LoaiDoiTuong": 1,
                    "ChuHoSo": "Trần Thị Đào", "SoGiayToChuHoSo": f"079{n:09d}", "SoDienThoai": "0912345678",
                    "Email": f"dan{n}@example.vn", "DiaChi": "Phường 1, Vũng Tàu", "DuocThanhToanTrucTuyen": n % 2 == 0,
                    "HoSoCoThanhPhanSoHoa": True, "DanhSachHoSoBoSung": [], "QuaTrinhXuLy": list(history)}
            out.append(json.dumps(snap, ensure_ascii=False))
            if len(out) >= lines:
                break
    rng.shuffle(out)
    for i in range(4):
        (path / "dossiers" / f"part-{i}.jsonl").write_text("\n".join(out[i::4]) + "\n", encoding="utf-8")
    with open(path / "procedures.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "MaDonVi", "ThoiHanGiaiQuyet", "MucDo",
                    "DiaChiDangTai", "CongKhai", "MotCua", "LienThong", "HieuLucTu", "HieuLucDen"])
        for p in PROCEDURES:
            w.writerow([p, f"Thủ tục {p}", "ATBX", "An toàn bức xạ", "SKHCN", "10", "3", "", "1", "1", "0", "", ""])
    with open(path / "agencies.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["MaDonVi", "TenDonVi", "MaDonViCha", "HieuLucTu", "HieuLucDen", "ThayTheBoi"])
        for a in AGENCIES:
            w.writerow([a, f"Đơn vị {a}", "", "", "", ""])
    return len(out), n


def write_sheets(bundle: Path, folder: Path) -> tuple[Path, Path]:
    """A CSV and an XLSX export with one row per snapshot line, Vietnamese headers."""
    import xlsxwriter

    headers = ["Mã hồ sơ", "Mã TTHC", "Tên TTHC", "Đơn vị", "Kênh", "Ngày tiếp nhận", "Ngày hẹn trả",
               "Trạng thái", "Ngày cập nhật"]
    channels = {1: "Trực tiếp", 2: "Trực tuyến", 3: "Bưu chính"}
    statuses = {2: "Đã tiếp nhận", 4: "Đang xử lý", 5: "Yêu cầu bổ sung", 9: "Đã giải quyết", 10: "Đã trả kết quả"}

    def ddmmyyyy(stamp: str) -> str:
        return f"{stamp[6:8]}/{stamp[4:6]}/{stamp[:4]} {stamp[8:10]}:{stamp[10:12]}:{stamp[12:]}"

    rows = []
    for f in sorted((bundle / "dossiers").glob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            s = json.loads(line)
            rows.append([s["MaHoSo"], s["MaTTHC"], s["TenTTHC"], s["MaDonVi"], channels[s["KenhThucHien"]],
                         ddmmyyyy(s["NgayTiepNhan"]), ddmmyyyy(s["NgayHenTra"]), statuses[s["TrangThaiHoSo"]],
                         ddmmyyyy(s["NgayCapNhat"])])
    csv_path = folder / "export.csv"
    with open(csv_path, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(headers)
        w.writerows(rows)
    xlsx_path = folder / "export.xlsx"
    wb = xlsxwriter.Workbook(str(xlsx_path), {"constant_memory": True})
    ws = wb.add_worksheet("Hồ sơ")
    ws.write_row(0, 0, headers)
    for i, row in enumerate(rows, start=1):
        ws.write_row(i, 0, row)
    wb.close()
    return csv_path, xlsx_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(bundle: Path, *extra: str) -> Iterator[str]:
    """``motcua serve`` in a child process; yields its URL."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from motcua.cli import main; main()", "serve", "--source", str(bundle),
         "--port", str(port), *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("motcua serve did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def timed(name: str, make: Callable[[], object], results: list[tuple[str, int, int, float]]) -> None:
    source = make()
    start = time.perf_counter()
    records = errors = 0
    for batch in source.iter_records():  # type: ignore[attr-defined]
        records += batch.num_rows
        errors += batch.num_rows - batch.column("error").null_count
    seconds = time.perf_counter() - start
    results.append((name, records, errors, seconds))
    print(f"{name:<44} {records:>7} records {errors:>5} errors {seconds:>7.2f} s {records / seconds:>9,.0f} /s",
          flush=True)


def mariadb_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 3306), timeout=1).close()
        return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--page-size", type=int, default=500)
    args = parser.parse_args()
    results: list[tuple[str, int, int, float]] = []
    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as tmp:
        folder = Path(tmp)
        bundle = folder / "bundle"
        lines, dossiers = build_bundle(bundle, args.lines)
        size = sum(f.stat().st_size for f in (bundle / "dossiers").glob("*"))
        print(f"bundle: {lines} snapshot lines, {dossiers} dossiers, {size / 1e6:.1f} MB; "
              f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
        timed("bundle (BundleSource)", lambda: BundleSource(bundle), results)

        fast = {"backoff_base": 0.01, "backoff_max": 0.1}
        with served(bundle) as url:
            timed(f"http, page_size={args.page_size}", lambda: HttpSource(url, page_size=args.page_size, **fast),
                  results)
            timed("http, page_size=1000", lambda: HttpSource(url, page_size=1000, **fast), results)
        faults = ["--fail-rate-429", "0.05", "--fail-rate-5xx", "0.05", "--truncate-rate", "0.05",
                  "--drop-rate", "0.05", "--latency-ms", "2", "--retry-after", "0", "--mid-paging-changes", "20"]
        with served(bundle, *faults) as url:
            timed(f"http, faults 5% x4 + 2 ms, page_size={args.page_size}",
                  lambda: HttpSource(url, page_size=args.page_size, **fast), results)

        sqlite_url = f"sqlite:///{folder / 'onestop.db'}"
        load_bundle_into_database(bundle, sqlite_url)
        timed("database, SQLite, chunk_size=5000", lambda: DatabaseSource(sqlite_url, chunk_size=5000), results)
        if mariadb_up():
            import sqlalchemy as sa

            name = f"motcua_bench_{uuid.uuid4().hex[:8]}"
            server = sa.create_engine("mysql+pymysql://root@127.0.0.1:3306/?charset=utf8mb4")
            with server.begin() as conn:
                conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
            try:
                url = f"mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"
                load_bundle_into_database(bundle, url)
                for chunk in (1000, 5000):
                    timed(f"database, MariaDB, chunk_size={chunk}", lambda c=chunk: DatabaseSource(url, chunk_size=c),
                          results)
            finally:
                with server.begin() as conn:
                    conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
                server.dispose()
        else:
            print("database, MariaDB: not reachable on 127.0.0.1:3306, skipped")

        csv_path, xlsx_path = write_sheets(bundle, folder)
        timed("spreadsheet, CSV (UTF-8 BOM)", lambda: SpreadsheetSource(csv_path), results)
        timed("spreadsheet, XLSX (openpyxl read-only)", lambda: SpreadsheetSource(xlsx_path), results)


if __name__ == "__main__":
    main()
