"""The dossiers of a generated bundle (``bench/gen_bundle.py``), as DuckDB SQL: the
time model (two years from 2023-01-01, the base export's cut-off, the increment's day),
the macros every draw goes through (``hx``, ``rnd``, ``ts``), each dossier's life as
event times (:func:`life_sql`), the newer snapshot an incremental bundle gives some of
them (:func:`changed_sql`), and the snapshot lines as JSON text (:func:`lines_sql`),
with the names, places and history text they are drawn from."""

from __future__ import annotations

import datetime as dt

import duckdb
from gen_catalogue import PROVINCE

START = dt.datetime(2023, 1, 1)
WINDOW_DAYS = 731  # 2023-01-01 .. 2024-12-31; the base export's cut-off is 2025-01-01 00:00
DAY = 86_400
_START_EPOCH = int(START.replace(tzinfo=dt.UTC).timestamp())  # local wall clock, as epoch
INCREMENT_SECONDS = DAY  # an incremental bundle covers the day after its base's cut-off
_DESK = "Bộ phận Một cửa"

# fmt: off
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


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _pick(values: list[str], tag: int, seed: int) -> str:
    """SQL: one of ``values`` chosen by ``hx(i, tag)`` (the list's length is
    spelled out: DuckDB does not fold ``len()`` of a list literal, and it is slow)."""
    return f"{_sql_list(values)}[1 + (hx(i, {tag}) % {len(values)})::BIGINT]"


def setup(con: duckdb.DuckDBPyConnection, seed: int, procedures: list[dict[str, str]]) -> None:
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


def life_sql(lo: int, hi: int, n_proc: int, d0: str, where: str = "TRUE") -> str:
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


def changed_sql(life: str, cut: int) -> str:
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


def lines_sql(
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
