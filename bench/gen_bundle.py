"""Generate large synthetic export bundles for benchmarks (domain.md section 2 layout).

A bundle is ``procedures.csv``, ``agencies.csv`` and ``dossiers/part-XXXX.jsonl.gz``:
one full snapshot line per status change of every dossier (received -> in processing
-> sometimes a supplement round -> resolved -> returned; online submissions start at
status 1; a few are refused (3), withdrawn (7), stopped (8) or stuck open).

Everything about dossier ``i`` is a pure function of ``(seed, i)`` (DuckDB ``hash``),
so the generator is vectorised, runs in slices of bounded memory, and can later
recompute any dossier of a base bundle without reading it back. That is how the
incremental mode works: ``--changed-fraction F --base-dir DIR0`` writes, for a
fraction ``F`` of the base bundle's dossiers, one newer snapshot (the next step of
an open dossier moved into the day after the base export, or a re-sent closed
dossier with a rating), plus a few brand-new dossiers, all with ``NgayCapNhat``
after the base export's cut-off.

Usage::

    python bench/gen_bundle.py --dossiers 1000000 --out /work/benchdata/b1m
    python bench/gen_bundle.py --changed-fraction 0.003 --base-dir /work/benchdata/b1m \\
        --out /work/benchdata/b1m-inc

Timestamps are ``yyyyMMddHHmmss`` local time spread over two years from
2023-01-01; the base export's cut-off is 2025-01-01 00:00:00. ``NgayHenTra`` is
always present once a dossier is received: intake date plus the procedure's
processing time with weekends added, roughly (no holiday calendar), moved by the
length of any supplement pause.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import shutil
import sys
import time
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

META_FILE = "_bench_meta.json"
START = dt.datetime(2023, 1, 1)
WINDOW_DAYS = 731  # 2023-01-01 .. 2024-12-31; the base export's cut-off is 2025-01-01 00:00
DAY = 86_400
_START_EPOCH = int(START.replace(tzinfo=dt.UTC).timestamp())  # local wall clock, as epoch
INCREMENT_SECONDS = DAY  # an incremental bundle covers the day after its base's cut-off
DEFAULT_SLICE = 1_000_000
LINES_PER_FILE = 1_000_000  # default --files: about this many snapshot lines a file
BATCH_ROWS = 50_000  # lines per Arrow batch (and per gzip member, ~60 MB of text)
_DESK = "Bộ phận Một cửa"

PROVINCE = "Bà Rịa - Vũng Tàu"
# fmt: off
PROCEDURE_COLUMNS = [
    "MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "MaDonVi", "ThoiHanGiaiQuyet", "MucDo",
    "DiaChiDangTai", "CongKhai", "MotCua", "LienThong", "HieuLucTu", "HieuLucDen",
]
AGENCY_COLUMNS = ["MaDonVi", "TenDonVi", "MaDonViCha", "HieuLucTu", "HieuLucDen", "ThayTheBoi"]

DEPARTMENTS = [
    "Sở Khoa học và Công nghệ", "Sở Tư pháp", "Sở Kế hoạch và Đầu tư", "Sở Tài chính",
    "Sở Công Thương", "Sở Nông nghiệp và Phát triển nông thôn", "Sở Giao thông vận tải",
    "Sở Xây dựng", "Sở Tài nguyên và Môi trường", "Sở Thông tin và Truyền thông",
    "Sở Lao động - Thương binh và Xã hội", "Sở Văn hóa, Thể thao và Du lịch", "Sở Y tế",
    "Sở Giáo dục và Đào tạo", "Sở Nội vụ", "Sở Ngoại vụ", "Ban Quản lý các khu công nghiệp",
    "Thanh tra tỉnh", "Công an tỉnh", "Bảo hiểm xã hội tỉnh",
]
SUB_AGENCIES = [
    (0, "Chi cục Tiêu chuẩn Đo lường Chất lượng"),
    (0, "Trung tâm Thông tin và Ứng dụng tiến bộ KH&CN"), (5, "Chi cục Thủy sản"),
    (5, "Chi cục Chăn nuôi và Thú y"), (5, "Chi cục Trồng trọt và Bảo vệ thực vật"),
    (8, "Văn phòng Đăng ký đất đai"), (8, "Chi cục Biển và Hải đảo"),
    (10, "Trung tâm Dịch vụ việc làm"), (12, "Chi cục Dân số - Kế hoạch hóa gia đình"),
    (12, "Chi cục An toàn vệ sinh thực phẩm"), (14, "Ban Thi đua - Khen thưởng"),
    (14, "Ban Tôn giáo"),
]
FIELD_WORDS = [
    "Hoạt động khoa học và công nghệ", "An toàn bức xạ và hạt nhân",
    "Tiêu chuẩn Đo lường Chất lượng", "Sở hữu trí tuệ", "Chuyển giao công nghệ", "Hộ tịch",
    "Lý lịch tư pháp", "Công chứng", "Đăng ký doanh nghiệp", "Đầu tư", "Quản lý giá",
    "Xúc tiến thương mại", "Hóa chất", "Điện", "Thủy sản", "Thú y", "Trồng trọt", "Đường bộ",
    "Đăng kiểm", "Hoạt động xây dựng", "Đất đai", "Môi trường", "Tài nguyên nước", "Báo chí",
    "Xuất bản, In và Phát hành", "Việc làm", "Người có công", "Bảo trợ xã hội",
    "Di sản văn hóa", "Du lịch", "Khám bệnh, chữa bệnh", "Dược phẩm", "Giáo dục và Đào tạo",
    "Thi đua - Khen thưởng", "Tôn giáo", "Quản lý lãnh sự",
]
PROCEDURE_VERBS = [
    "Cấp", "Cấp lại", "Sửa đổi, bổ sung", "Gia hạn", "Đăng ký", "Thẩm định", "Xác nhận",
    "Công nhận", "Phê duyệt", "Điều chỉnh", "Thu hồi", "Cho phép",
]
PROCEDURE_OBJECTS = [
    "giấy phép hoạt động", "giấy chứng nhận đăng ký", "chứng chỉ hành nghề", "giấy xác nhận",
    "quyết định công nhận", "hồ sơ đề nghị", "văn bản chấp thuận",
    "giấy phép tiến hành công việc bức xạ", "giấy chứng nhận đủ điều kiện", "kết quả thẩm định",
    "hợp đồng chuyển giao", "dấu định lượng",
]

FAMILY = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô", "Dương", "Lý",
]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quốc", "Thị Thu", "Hoàng"]
GIVEN = [
    "An", "Bình", "Cường", "Dũng", "Đạt", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng",
    "Hương", "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Nhung", "Phong", "Phúc",
    "Quang", "Sơn", "Tâm", "Thảo", "Thắng", "Trang", "Tú", "Tuấn", "Vân", "Việt", "Yến",
]
COMPANY = ["Công ty TNHH", "Công ty Cổ phần", "Doanh nghiệp tư nhân", "Hợp tác xã"]
COMPANY_NAME = [
    "Phú Mỹ", "Sao Biển", "Long Sơn", "Côn Đảo", "Hồ Tràm", "Cái Mép", "Đại Dương Xanh",
    "Thái Bình Dương", "Minh Phát", "An Khang",
]
WARDS = [
    "Phường 1, TP. Vũng Tàu", "Phường Thắng Tam, TP. Vũng Tàu", "Phường Phước Hiệp, TP. Bà Rịa",
    "Phường Phú Mỹ, TX. Phú Mỹ", "Xã Long Hải, H. Long Đất", "Xã Bưng Riềng, H. Xuyên Mộc",
    "TT. Ngãi Giao, H. Châu Đức", "Xã Hòa Long, TP. Bà Rịa", "Xã Tân Hải, TX. Phú Mỹ",
    "H. Côn Đảo",
]
STREETS = [
    "Lê Lợi", "Trần Hưng Đạo", "Nguyễn An Ninh", "Ba Cu", "Hoàng Hoa Thám", "Nguyễn Thái Học",
    "Lê Hồng Phong", "Võ Thị Sáu", "Cách Mạng Tháng Tám",
]
DESK_STAFF = [
    "Nguyễn Thị Lan", "Trần Văn Hải", "Lê Thị Hồng", "Phạm Minh Tuấn", "Đỗ Thị Thu Hà",
    "Võ Văn Long",
]
EXPERT_STAFF = [
    "Huỳnh Văn Nam", "Bùi Thị Mai", "Phan Quốc Việt", "Ngô Thanh Sơn", "Dương Thị Yến",
    "Hồ Đức Thắng", "Lý Ngọc Trang", "Đặng Hữu Phúc",
]
OFFICES = [
    "Phòng Quản lý chuyên ngành", "Phòng Kế hoạch - Tài chính", "Phòng Pháp chế", "Văn phòng",
]
STEP_TEXT = [
    "Nộp hồ sơ trực tuyến", "Tiếp nhận hồ sơ", "Từ chối tiếp nhận: hồ sơ không hợp lệ",
    "Chuyển xử lý", "Yêu cầu bổ sung hồ sơ", "Yêu cầu thực hiện nghĩa vụ tài chính",
    "Công dân rút hồ sơ", "Dừng xử lý hồ sơ", "Có kết quả giải quyết", "Trả kết quả",
]
# fmt: on


@dataclass(frozen=True)
class Plan:
    """What one generation run writes."""

    out: Path
    seed: int
    dossiers: int  # base: dossiers 0..dossiers-1; incremental: the base bundle's count
    files: int
    slice_size: int
    procedures: int
    incremental: bool = False
    changed_fraction: float = 0.0
    new_dossiers: int = 0
    base_dir: Path | None = None
    gzip_level: int = 1
    threads: int = 2
    memory_limit: str | None = None

    @property
    def cutoff(self) -> int:
        """Export time of this bundle, seconds after ``START``."""
        base = WINDOW_DAYS * DAY
        return base + INCREMENT_SECONDS if self.incremental else base


def _connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection without the progress bar."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return con


# --------------------------------------------------------------------------- catalogue


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _pick(values: list[str], tag: int, seed: int) -> str:
    """SQL: one of ``values`` chosen by ``hx(i, tag)`` (the list's length is
    spelled out: DuckDB does not fold ``len()`` of a list literal, and it is slow)."""
    return f"{_sql_list(values)}[1 + (hx(i, {tag}) % {len(values)})::BIGINT]"


def make_agencies() -> list[dict[str, str]]:
    """A few dozen agencies: the provincial committee, departments, sub-agencies, two
    centres merged in 2019 and the Department of Information and Communications merged
    into Science and Technology in March 2025 (domain.md section 2)."""
    root = "000.00.00.H04"
    rows = [
        dict(
            MaDonVi=root,
            TenDonVi=f"UBND tỉnh {PROVINCE}",
            MaDonViCha="",
            HieuLucTu="2004-01-01",
            HieuLucDen="",
            ThayTheBoi="",
        )
    ]
    for k, name in enumerate(DEPARTMENTS):
        code = f"000.00.{k + 1:02d}.H04"
        ends = "2025-02-28" if "Thông tin và Truyền thông" in name else ""
        rows.append(
            dict(
                MaDonVi=code,
                TenDonVi=name,
                MaDonViCha=root,
                HieuLucTu="2008-04-01",
                HieuLucDen=ends,
                ThayTheBoi="000.00.01.H04" if ends else "",
            )
        )
    for k, (dep, name) in enumerate(SUB_AGENCIES):
        code = f"000.{k + 1:02d}.{dep + 1:02d}.H04"
        rows.append(
            dict(
                MaDonVi=code,
                TenDonVi=name,
                MaDonViCha=f"000.00.{dep + 1:02d}.H04",
                HieuLucTu="2019-07-01" if k == 1 else "2010-01-01",
                HieuLucDen="",
                ThayTheBoi="",
            )
        )
    centre = "000.02.01.H04"
    for k, name in enumerate(
        ["Trung tâm Thông tin và Thống kê KH&CN", "Trung tâm Ứng dụng tiến bộ KH&CN"]
    ):
        rows.append(
            dict(
                MaDonVi=f"000.{90 + k}.01.H04",
                TenDonVi=name,
                MaDonViCha="000.00.01.H04",
                HieuLucTu="2010-01-01",
                HieuLucDen="2019-06-30",
                ThayTheBoi=centre,
            )
        )
    return rows


def make_procedures(n: int, agencies: list[dict[str, str]], seed: int) -> list[dict[str, str]]:
    """``n`` procedures (codes ``^[12]\\.\\d{6}$``) over the agencies that still exist,
    about 5 % amended (a second row with the same code from 2024-01-01)."""
    rng = np.random.default_rng(seed)
    live = [a["MaDonVi"] for a in agencies if not a["HieuLucDen"] and a["MaDonViCha"]]
    numbers = rng.choice(1_000_000, size=n, replace=False)
    levels = ["1", "2"]
    rows: list[dict[str, str]] = []
    for k in range(n):
        code = f"{levels[int(rng.random() < 0.35)]}.{numbers[k]:06d}"
        agency = live[int(rng.integers(len(live)))]
        field = int(rng.integers(len(FIELD_WORDS)))
        name = (
            f"{PROCEDURE_VERBS[int(rng.integers(len(PROCEDURE_VERBS)))]} "
            f"{PROCEDURE_OBJECTS[int(rng.integers(len(PROCEDURE_OBJECTS)))]} "
            f"{FIELD_WORDS[field].lower()}"
        )
        days = int(
            rng.choice(
                [1, 2, 3, 5, 7, 10, 12, 15, 20, 30],
                p=[0.05, 0.05, 0.15, 0.2, 0.15, 0.15, 0.05, 0.1, 0.05, 0.05],
            )
        )
        level = str(
            rng.choice(["2", "3", "4", "toan_trinh", "mot_phan"], p=[0.2, 0.2, 0.1, 0.3, 0.2])
        )
        online = level in ("3", "4", "toan_trinh", "mot_phan")
        row = dict(
            MaTTHC=code,
            TenTTHC=name,
            MaLinhVuc=f"LV{field + 1:03d}",
            TenLinhVuc=FIELD_WORDS[field],
            MaDonVi=agency,
            ThoiHanGiaiQuyet=str(days),
            MucDo=level,
            DiaChiDangTai=(
                f"https://dichvucong.baria-vungtau.gov.vn/thu-tuc/{code}" if online else ""
            ),
            CongKhai=str(int(rng.random() < 0.97)),
            MotCua=str(int(rng.random() < 0.9)),
            LienThong=str(int(rng.random() < 0.1)),
            HieuLucTu="2019-01-01",
            HieuLucDen="",
        )
        if rng.random() < 0.05:
            amended = dict(row, ThoiHanGiaiQuyet=str(max(1, days - 2)), HieuLucTu="2024-01-01")
            row["HieuLucDen"] = "2023-12-31"
            rows.extend([row, amended])
        else:
            rows.append(row)
    return rows


def write_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    """Write ``rows`` as UTF-8 CSV with exactly ``columns``."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)


# --------------------------------------------------------------------------- dossiers


def _setup(con: duckdb.DuckDBPyConnection, seed: int, procedures: list[dict[str, str]]) -> None:
    """Macros and the procedure lookup (one row per code, index 0..n-1, the first
    row's processing time).

    ``hx(v, tag)`` hashes one BIGINT made of ``v``, ``tag`` and the seed: DuckDB's
    ``hash(a, b, c)`` combines the parts' hashes by XOR, so varying only a tag would
    give draws that are the same bits flipped, strongly correlated with each other.
    """
    offset = (seed * 0x9E3779B97F4A7C15) % (1 << 60)
    con.execute(f"""
        CREATE OR REPLACE MACRO hx(v, tag) AS hash(v * 128 + tag + {offset});
        CREATE OR REPLACE MACRO rnd(i, tag) AS ((hx(i, tag) >> 11)::DOUBLE / 9007199254740992.0);
        CREATE OR REPLACE MACRO ts(s) AS
            strftime(epoch_ms(({_START_EPOCH} + s) * 1000), '%Y%m%d%H%M%S');
        CREATE OR REPLACE MACRO js(s) AS
            CASE WHEN s IS NULL THEN 'null' ELSE '"' || ts(s) || '"' END;
    """)
    first: dict[str, dict[str, str]] = {}
    for r in procedures:
        first.setdefault(r["MaTTHC"], r)
    codes = list(first.values())
    con.execute("""CREATE OR REPLACE TABLE proc (p INTEGER, MaTTHC VARCHAR, TenTTHC VARCHAR,
                   MaLinhVuc VARCHAR, TenLinhVuc VARCHAR, MaDonVi VARCHAR, tg INTEGER)""")
    con.executemany(
        "INSERT INTO proc VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                k,
                r["MaTTHC"],
                r["TenTTHC"],
                r["MaLinhVuc"],
                r["TenLinhVuc"],
                r["MaDonVi"],
                int(r["ThoiHanGiaiQuyet"]),
            )
            for k, r in enumerate(codes)
        ],
    )


def _life_sql(lo: int, hi: int, n_proc: int, d0: str, where: str = "TRUE") -> str:
    """One row per dossier ``i`` in ``[lo, hi)``: its whole life as event times
    (seconds after START, NULL when the event never happens). Reads the table ``ids``
    (a table scan runs on all threads; ``range()`` would run on one)."""
    return f"""
    WITH life_a AS (
        SELECT i,
            floor({n_proc} * pow(rnd(i, 1), 2.2))::INTEGER AS p,
            CASE WHEN rnd(i, 2) < 0.50 THEN 1 WHEN rnd(i, 2) < 0.93 THEN 2 ELSE 3 END AS ch,
            ({d0})::BIGINT AS d0,
            rnd(i, 5) AS f_online, rnd(i, 12) AS f_end
        FROM ids
        WHERE i >= {lo} AND i < {hi} AND {where}
    ), life_b AS (
        SELECT life_a.*, proc.tg,
            d0 * {DAY} + CASE WHEN ch = 2 THEN 25200 + floor(rnd(i, 4) * 50400)
                              ELSE 27000 + floor(rnd(i, 4) * 32400) END::BIGINT AS t_sub
        FROM life_a JOIN proc USING (p)
    ), life_c AS (
        SELECT life_b.*,
            CASE WHEN ch = 2 THEN t_sub END AS t1,
            CASE WHEN ch = 2 AND f_online >= 0.01 AND f_online < 0.05
                 THEN t_sub + 3600 + floor(rnd(i, 7) * 3 * {DAY})::BIGINT END AS t3,
            CASE WHEN ch <> 2 THEN t_sub
                 WHEN f_online >= 0.05 THEN t_sub + 1800 + floor(rnd(i, 7) * 2 * {DAY})::BIGINT
            END AS t2
        FROM life_b
    ), life_d AS (
        SELECT life_c.*,
            ((t2 // {DAY}) + tg + 2 * (tg // 5) + CASE WHEN rnd(i, 8) < 0.3 THEN 1 ELSE 0 END)
                * {DAY} + 61200 AS u0,
            rnd(i, 9) < 0.10 AS supp,
            ((2 + floor(rnd(i, 11) * 14)) * {DAY})::BIGINT AS pause
        FROM life_c
    ), life_e AS (
        SELECT life_d.*, t2 + 600 + floor(rnd(i, 10) * least({DAY}, (u0 - t2) / 4))::BIGINT AS t4a
        FROM life_d
    ), life_f AS (
        SELECT life_e.*,
            CASE WHEN supp THEN t4a + 60 + floor(rnd(i, 13) * 0.5 * (u0 - t4a))::BIGINT END AS t5,
            CASE WHEN supp THEN u0 + pause ELSE u0 END AS u1
        FROM life_e
    ), life_g AS (
        SELECT life_f.*, t5 + pause AS t4b, coalesce(t5 + pause, t4a) AS tl FROM life_f
    ), life_h AS (
        SELECT life_g.*,
            CASE WHEN t2 IS NULL OR f_end < 0.035 THEN NULL
                 WHEN rnd(i, 14) < 0.08 THEN u1 + 3600 + floor(rnd(i, 15) * 20 * {DAY})::BIGINT
                 ELSE tl + 60 + floor(rnd(i, 15) * greatest(0, u1 - tl - 60))::BIGINT END AS t9,
            CASE WHEN t2 IS NOT NULL AND f_end >= 0.005 AND f_end < 0.025
                 THEN tl + 60 + floor(rnd(i, 15) * greatest(0, u1 - tl))::BIGINT END AS t7,
            CASE WHEN t2 IS NOT NULL AND f_end >= 0.025 AND f_end < 0.035
                 THEN tl + 60 + floor(rnd(i, 15) * greatest(0, u1 - tl))::BIGINT END AS t8
        FROM life_g
    )
    SELECT life_h.*,
        CASE WHEN t9 IS NOT NULL AND rnd(i, 16) < 0.95
             THEN t9 + 600 + floor(rnd(i, 17) * 5 * {DAY})::BIGINT END AS t10
    FROM life_h
    """


MAX_EVENTS = 10  # events in a life: 1, 2, 3, 4, 5, 4, 7, 8, 9, 10 at most
_TIMES = ["t1", "t2", "t3", "t4a", "t5", "t4b", "t7", "t8", "t9", "t10"]
_EVENTS = """list_filter([
        {'st': 1, 't': t1}, {'st': 2, 't': t2}, {'st': 3, 't': t3}, {'st': 4, 't': t4a},
        {'st': 5, 't': t5}, {'st': 4, 't': t4b}, {'st': 7, 't': t7}, {'st': 8, 't': t8},
        {'st': 9, 't': t9}, {'st': 10, 't': t10}], lambda ev: ev.t IS NOT NULL)"""


def _changed_sql(life: str, cut: int) -> str:
    """The base bundle's dossiers (those that existed by ``cut``), each given one newer
    snapshot time ``new_t`` in the day after ``cut``: an open dossier's next step is
    moved there (with the rest of its future); a closed one is re-sent (``touch``)."""
    shifted = ", ".join(
        f"CASE WHEN {t} > {cut} THEN {t} - delta ELSE {t} END AS {t}" for t in _TIMES
    )
    return f"""
    SELECT * EXCLUDE ({", ".join(_TIMES)}, u0, u1, tn, delta), {shifted},
           CASE WHEN t2 > {cut} THEN u0 - delta ELSE u0 END AS u0,
           CASE WHEN t2 > {cut} OR t4b > {cut} THEN u1 - delta ELSE u1 END AS u1,
           tn IS NULL AS touch
    FROM (
        SELECT *, coalesce(tn - new_t, 0) AS delta FROM (
            SELECT *, list_min(list_filter([{", ".join(_TIMES)}], lambda x: x > {cut})) AS tn,
                   {cut} + 60 + floor(rnd(i, 98) * ({INCREMENT_SECONDS} - 120))::BIGINT AS new_t
            FROM ({life}) q
            WHERE least({", ".join(_TIMES)}) <= {cut}
        )
    )
    """


def _q(expr: str) -> str:
    """SQL: ``expr`` as a JSON string literal, or ``null``. Only for text this module
    makes up (no quote, backslash or control character to escape)."""
    return f"""CASE WHEN ({expr}) IS NULL THEN 'null' ELSE concat('"', {expr}, '"') END"""


def _lines_sql(
    src: str, *, changed: bool, lo_t: int | None, hi_t: int, seed: int, file_lo: int, n_files: int
) -> str:
    """``(part, line)``: snapshot lines as JSON text.

    The text that does not change between a dossier's snapshots (``head``, the history
    entries and their prefixes) is built once per dossier; then one row per snapshot.
    Plain mode: every snapshot with ``lo_t < NgayCapNhat <= hi_t``; changed mode: one
    snapshot at ``new_t``. Strings are joined with ``concat()``: a chain of ``||``
    copies the growing line at every step and is several times slower.
    """
    extra = "" if changed else ", NULL::BIGINT AS new_t, FALSE AS touch"
    keep = "k = n_ev" if changed else ("TRUE" if lo_t is None else f"ev.t > {lo_t}")
    desk_step = "ev.st IN (1, 2, 3, 10)"
    frags = ", ".join(f"hj[{k}] AS x{k}" for k in range(1, MAX_EVENTS + 1))
    history = ", ".join(
        "x1" if k == 1 else f"CASE WHEN k >= {k} THEN ',' END, CASE WHEN k >= {k} THEN x{k} END"
        for k in range(1, MAX_EVENTS + 1)
    )  # concat() skips NULLs: the first k history entries, comma-separated
    fields = [  # static fields of the contract, in its order, as (name, JSON text)
        (
            "MaHoSo",
            _q(
                f"concat(MaDonVi, '-', strftime(epoch_ms(({_START_EPOCH} + t_sub) * 1000), "
                f"'%y%m%d'), '-', lpad(i::VARCHAR, 8, '0'))"
            ),
        ),
        ("MaTTHC", _q("MaTTHC")),
        ("TenTTHC", _q("TenTTHC")),
        ("MaLinhVuc", _q("MaLinhVuc")),
        ("TenLinhVuc", _q("TenLinhVuc")),
        ("MaDonVi", _q("MaDonVi")),
        ("KenhThucHien", "ch::VARCHAR"),
        ("NgayNopHoSo", "js(t1)"),
        ("LoaiDoiTuong", "loai::VARCHAR"),
        (
            "ChuHoSo",
            _q(f"""CASE WHEN loai = 1
                THEN concat({_pick(FAMILY, 21, seed)}, ' ', {_pick(MIDDLE, 22, seed)}, ' ',
                            {_pick(GIVEN, 23, seed)})
                ELSE concat({_pick(COMPANY, 21, seed)}, ' ', {_pick(COMPANY_NAME, 22, seed)}) END"""),
        ),
        ("SoGiayToChuHoSo", _q("concat('0', lpad((hx(i, 24) % 100000000000)::VARCHAR, 11, '0'))")),
        ("SoDienThoai", _q("concat('09', lpad((hx(i, 25) % 100000000)::VARCHAR, 8, '0'))")),
        (
            "Email",
            _q(
                "CASE WHEN rnd(i, 26) < 0.4 THEN concat('hoso', "
                "(hx(i, 27) % 1000000)::VARCHAR, '@gmail.com') END"
            ),
        ),
        (
            "DiaChi",
            _q(
                f"concat('Số ', (1 + hx(i, 28) % 300)::VARCHAR, ' ', "
                f"{_pick(STREETS, 29, seed)}, ', ', {_pick(WARDS, 30, seed)}, ', {PROVINCE}')"
            ),
        ),
        (
            "DuocThanhToanTrucTuyen",
            "CASE WHEN ch = 2 AND rnd(i, 33) < 0.4 THEN 'true' ELSE 'false' END",
        ),
        ("HoSoCoThanhPhanSoHoa", "CASE WHEN rnd(i, 34) < 0.6 THEN 'true' ELSE 'false' END"),
    ]
    head = ",\n                ".join(
        f"""'{"{" if n == 0 else ","}"{name}":', {expr}""" for n, (name, expr) in enumerate(fields)
    )
    return f"""
    WITH d AS (
        SELECT s.*, p2.MaTTHC, p2.TenTTHC, p2.MaLinhVuc, p2.TenLinhVuc, p2.MaDonVi,
               list_filter({_EVENTS}, lambda ev: ev.t <= coalesce(new_t, {hi_t})) AS evs,
               {_pick(OFFICES, 35, seed)} AS office,
               {_pick(DESK_STAFF, 36, seed)} AS desk,
               {_pick(EXPERT_STAFF, 37, seed)} AS expert,
               CASE WHEN rnd(i, 20) < 0.7 THEN 1 WHEN rnd(i, 20) < 0.95 THEN 2
                    WHEN rnd(i, 20) < 0.98 THEN 4 ELSE 3 END AS loai
        FROM (SELECT * {extra} FROM ({src})) s JOIN proc p2 USING (p)
    ), e AS (
        SELECT i, t2, t3, t4b, t9, t10, new_t, touch, evs, len(evs) AS n_ev,
            concat(
                {head}) AS head,
            list_transform(evs, lambda ev: concat(
                '{{"TrangThai":', ev.st::VARCHAR, ',"ThoiDiemXuLy":"', ts(ev.t),
                '","DonViXuLy":"', MaDonVi,
                '","PhongBanXuLy":"', CASE WHEN {desk_step} THEN '{_DESK}' ELSE office END,
                '","NguoiXuLy":"', CASE WHEN {desk_step} THEN desk ELSE expert END,
                '","NoiDungXuLy":"', {_sql_list(STEP_TEXT)}[ev.st], '"}}')) AS hj,
            js(t2) AS j2, js(t3) AS j3, js(u0) AS ju0, js(u1) AS ju1, js(t9) AS j9, js(t10) AS j10,
            rnd(i, 31) < 0.3 AS rated0,
            (1 + hx(i, 32) % 3)::VARCHAR AS rating
        FROM d
    ), f AS (
        SELECT * EXCLUDE (hj, evs), {frags},
            unnest(evs) AS ev, unnest(range(1, len(evs) + 1)) AS k
        FROM e
    )
    SELECT
        {file_lo} + (hx(i * 16 + k, 127) % {n_files})::INTEGER AS part,
        concat(head,
            ',"NgayTiepNhan":', CASE WHEN t2 <= ev.t THEN j2 ELSE 'null' END,
            ',"NgayHenTra":', CASE WHEN t2 <= ev.t THEN (CASE WHEN t4b <= ev.t THEN ju1 ELSE ju0 END)
                                   ELSE 'null' END,
            ',"NgayKetThucXuLy":', CASE WHEN t9 <= ev.t THEN j9 ELSE 'null' END,
            ',"NgayTra":', CASE WHEN t10 <= ev.t THEN j10 ELSE 'null' END,
            ',"TrangThaiHoSo":', ev.st::VARCHAR,
            ',"NgayCapNhat":', js(coalesce(new_t, ev.t)),
            ',"NgayTuChoi":', CASE WHEN t3 <= ev.t THEN j3 ELSE 'null' END,
            ',"DanhGia":', CASE WHEN ev.st IN (9, 10) AND (touch OR rated0) THEN rating ELSE 'null' END,
            ',"QuaTrinhXuLy":[', {history}, ']}}', chr(10)) AS line
    FROM f
    WHERE {keep}
    """


def _as_bytes(arr: pa.Array) -> memoryview:
    """The concatenated text of a string array (its data buffer between the first
    and last offsets), without copying."""
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.large_string())
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(arr.buffers()[1], dtype=width)
    start, end = int(offsets[arr.offset]), int(offsets[arr.offset + len(arr)])
    return memoryview(arr.buffers()[2])[start:end]


def _write_lines(
    con: duckdb.DuckDBPyConnection,
    query: str,
    out_dir: Path,
    file_lo: int,
    n_files: int,
    level: int,
    pool: ThreadPoolExecutor,
    max_inflight: int,
) -> int:
    """Stream ``(part, line)`` rows into ``part-XXXX.jsonl.gz`` files: every batch of
    a file becomes one gzip member, compressed on ``pool`` (zlib frees the GIL), written
    in order. Returns the number of lines."""
    handles = {
        p: (out_dir / f"part-{p + 1:04d}.jsonl.gz").open("ab")
        for p in range(file_lo, file_lo + n_files)
    }
    inflight: deque[tuple[int, Future[bytes]]] = deque()
    lines = 0
    try:
        reader = con.sql(query).to_arrow_reader(BATCH_ROWS)
        for batch in reader:
            lines += batch.num_rows
            text = batch.column("line")
            parts = batch.column("part")
            for p in range(file_lo, file_lo + n_files):
                sub = text if n_files == 1 else pc.filter(text, pc.equal(parts, p))
                if len(sub):
                    inflight.append((p, pool.submit(zlib.compress, _as_bytes(sub), level, 31)))
            while len(inflight) > max_inflight:
                p, fut = inflight.popleft()
                handles[p].write(fut.result())
        while inflight:
            p, fut = inflight.popleft()
            handles[p].write(fut.result())
    finally:
        for h in handles.values():
            h.close()
    return lines


def _slices(total: int, size: int) -> list[tuple[int, int]]:
    return [(lo, min(total, lo + size)) for lo in range(0, total, size)] or [(0, 0)]


def _file_range(s: int, n_slices: int, n_files: int) -> tuple[int, int]:
    """Files ``[lo, lo + n)`` written by slice ``s`` (files are split among slices;
    ``n_files >= n_slices``)."""
    lo = s * n_files // n_slices
    hi = (s + 1) * n_files // n_slices
    return lo, hi - lo


def generate(plan: Plan, log: bool = True) -> dict[str, object]:
    """Write the bundle ``plan`` describes; return its metadata (also written to
    ``_bench_meta.json`` in the bundle)."""
    t0 = time.perf_counter()
    out = plan.out
    dossier_dir = out / "dossiers"
    if dossier_dir.exists():
        shutil.rmtree(dossier_dir)
    dossier_dir.mkdir(parents=True)
    agencies = make_agencies()
    procedures = make_procedures(plan.procedures, agencies, plan.seed)
    write_csv(out / "procedures.csv", PROCEDURE_COLUMNS, procedures)
    write_csv(out / "agencies.csv", AGENCY_COLUMNS, agencies)
    n_proc = len({r["MaTTHC"] for r in procedures})

    con = _connect()
    if plan.memory_limit:
        con.execute(f"SET memory_limit = '{plan.memory_limit}'")
    _setup(con, plan.seed, procedures)
    cut = plan.cutoff
    base_cut = WINDOW_DAYS * DAY
    spread = f"floor(rnd(i, 3) * {WINDOW_DAYS})"
    jobs: list[tuple[str, bool, int | None, int, int]] = []  # (source, changed, lo_t, lo, hi)
    if not plan.incremental:
        for lo, hi in _slices(plan.dossiers, plan.slice_size):
            jobs.append((_life_sql(lo, hi, n_proc, spread), False, None, lo, hi))
    else:
        frac = repr(plan.changed_fraction)
        for lo, hi in _slices(plan.dossiers, plan.slice_size):
            life = _life_sql(lo, hi, n_proc, spread, where=f"rnd(i, 99) < {frac}")
            jobs.append((_changed_sql(life, base_cut), True, None, lo, hi))
        lo, hi = plan.dossiers, plan.dossiers + plan.new_dossiers
        jobs.append((_life_sql(lo, hi, n_proc, str(WINDOW_DAYS)), False, base_cut, lo, hi))
    n_files = max(plan.files, len(jobs))
    lines = 0
    with ThreadPoolExecutor(max_workers=plan.threads) as pool:
        for s, (src, changed, lo_t, lo, hi) in enumerate(jobs):
            f_lo, f_n = _file_range(s, len(jobs), n_files)
            query = _lines_sql(
                src, changed=changed, lo_t=lo_t, hi_t=cut, seed=plan.seed, file_lo=f_lo, n_files=f_n
            )
            t = time.perf_counter()
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE ids AS SELECT range AS i FROM range({lo}, {hi})"
            )
            n = _write_lines(
                con, query, dossier_dir, f_lo, f_n, plan.gzip_level, pool, plan.threads + 1
            )
            lines += n
            if log:
                print(
                    f"slice {s + 1}/{len(jobs)}: dossiers [{lo}, {hi}), {n} lines, "
                    f"{time.perf_counter() - t:.1f}s",
                    file=sys.stderr,
                )
    con.close()
    files = sorted(dossier_dir.glob("*.jsonl.gz"))
    for f in files:  # a part that got no line at all is still a valid (empty) gzip file
        if f.stat().st_size == 0:
            f.write_bytes(zlib.compress(b"", plan.gzip_level, wbits=31))
    meta: dict[str, object] = {
        "kind": "incremental" if plan.incremental else "full",
        "seed": plan.seed,
        "dossiers": plan.dossiers,
        "new_dossiers": plan.new_dossiers,
        "changed_fraction": plan.changed_fraction,
        "procedures": plan.procedures,
        "files": len(files),
        "start": START.strftime("%Y%m%d%H%M%S"),
        "cutoff": (START + dt.timedelta(seconds=cut)).strftime("%Y%m%d%H%M%S"),
        "base_dir": str(plan.base_dir) if plan.base_dir else None,
        "snapshot_lines": lines,
        "dossier_bytes": sum(f.stat().st_size for f in files),
        "gzip_level": plan.gzip_level,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    (out / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def plan_from_args(argv: list[str] | None = None) -> Plan:
    """Parse the command line into a :class:`Plan`."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dossiers", type=int, help="dossiers in a full bundle")
    ap.add_argument(
        "--out", type=Path, required=True, help="bundle folder to write (dossiers/ is replaced)"
    )
    ap.add_argument("--seed", type=int, default=20190101, help="(incremental: the base's)")
    ap.add_argument(
        "--files", type=int, help="dossier files (default: ~1M lines a file, at least 2)"
    )
    ap.add_argument("--procedures", type=int, default=300)
    ap.add_argument("--slice", type=int, default=DEFAULT_SLICE, help="dossiers per slice")
    ap.add_argument("--changed-fraction", type=float, help="incremental: share of base changed")
    ap.add_argument("--base-dir", type=Path, help="incremental: the full bundle it follows")
    ap.add_argument(
        "--new-dossiers",
        type=int,
        help="incremental: brand-new dossiers (default: a tenth of the changed)",
    )
    ap.add_argument(
        "--gzip-level",
        type=int,
        default=1,
        choices=range(1, 10),
        metavar="1-9",
        help="zlib level (default 1: fastest; 6 is gzip's default, ~1.6x smaller)",
    )
    ap.add_argument("--threads", type=int, default=2, help="compression threads")
    ap.add_argument("--memory-limit", help="DuckDB memory_limit, e.g. 4GB")
    a = ap.parse_args(argv)
    common = dict(gzip_level=a.gzip_level, threads=a.threads, memory_limit=a.memory_limit)
    if (a.changed_fraction is None) != (a.base_dir is None):
        ap.error("--changed-fraction and --base-dir go together")
    if a.base_dir is not None:
        meta = json.loads((a.base_dir / META_FILE).read_text(encoding="utf-8"))
        if meta.get("kind") != "full":
            ap.error(f"{a.base_dir} is not a full bundle written by this generator")
        if a.out.resolve() == a.base_dir.resolve():
            ap.error("--out must not be the base bundle")
        if not 0 < a.changed_fraction <= 1:
            ap.error("--changed-fraction must be in (0, 1]")
        n0 = int(meta["dossiers"])
        new = (
            a.new_dossiers
            if a.new_dossiers is not None
            else max(1, round(n0 * a.changed_fraction / 10))
        )
        return Plan(
            out=a.out,
            seed=int(meta["seed"]),
            dossiers=n0,
            files=a.files or 1,
            slice_size=a.slice,
            procedures=int(meta["procedures"]),
            incremental=True,
            changed_fraction=a.changed_fraction,
            new_dossiers=new,
            base_dir=a.base_dir,
            **common,
        )
    if not a.dossiers or a.dossiers < 1:
        ap.error("--dossiers N is required for a full bundle")
    files = a.files or max(2, math.ceil(a.dossiers * 4.5 / LINES_PER_FILE))
    return Plan(
        out=a.out,
        seed=a.seed,
        dossiers=a.dossiers,
        files=files,
        slice_size=a.slice,
        procedures=a.procedures,
        **common,
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    plan = plan_from_args(argv)
    meta = generate(plan)
    print(json.dumps(meta, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
