"""The sheets of the report laid out once, for every output (XLSX, HTML, console).

:func:`build_sheets` turns :class:`~motcua.report.model.ReportTables` into a list of
:class:`Sheet`: titles and headers with diacritics as in the seed report, rows of
display-ready cells, and the totals row (the sum of the rows, checked against them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from motcua.report.model import ExplainKey, ReportDataError, ReportTables

TOTAL_LABEL = "Tổng cộng"

# Header texts, as in the seed report's appendix (section 3 of the domain notes for
# table 2; the seed's "chuyên qua" is a typo of "chuyển qua").
H_STT = "STT"
H_TT = "TT"
T1_NAME = "Tên TTHC, DVC"
T1_LEVEL_OLD = "Mức độ của dịch vụ (3, 4)"
T1_LEVEL_NEW = "Mức độ của dịch vụ (toàn trình, một phần)"
T1_URL = "Địa chỉ đăng tải dịch vụ"
T1_ONLINE = "Tổng số hồ sơ tiếp nhận trực tuyến"
T1_OFFLINE = "Tổng số hồ sơ tiếp nhận trực tiếp (không trực tuyến)"
T2_NAME = "Tên TTHC"
T2_FIELD = "Lĩnh vực"
T2_RECEIVED = "Số hồ sơ nhận giải quyết"
T2_RESULT = "Kết quả giải quyết"
T2_RESOLVED = "Đã giải quyết"
T2_PENDING = "Đang giải quyết"
H_TOTAL = "Tổng số"
T2_CARRIED = "Số kỳ trước chuyển qua"
T2_NEW = "Số mới tiếp nhận"
T2_ONTIME = "Trả đúng thời hạn"
T2_LATE = "Trả quá hạn"
T2_NOT_DUE = "Chưa đến hạn"
T2_OVERDUE = "Quá hạn"
T2_WITHDRAWN = "Rút hồ sơ / dừng xử lý"

LEVEL_LABELS = {"toan_trinh": "Toàn trình", "mot_phan": "Một phần"}


@dataclass(frozen=True)
class Column:
    """One column of a sheet.

    ``kind`` is one of ``stt, text, url, level, int, date, pct, number, value``;
    ``header`` the header path from the top level down to the column's own label.
    """

    key: str
    header: tuple[str, ...]
    kind: str
    width: float
    summed: bool = False


@dataclass(frozen=True)
class HeaderCell:
    """A (possibly merged) header cell, positions relative to the header's top-left."""

    row: int
    col: int
    rows: int
    cols: int
    text: str


@dataclass
class Cell:
    """A display-ready body cell: ``value`` is a str, int, float, date or None."""

    value: object
    kind: str
    key: str
    href: str | None = None


@dataclass
class Sheet:
    """One table of the report, ready to be written anywhere."""

    name: str  # export name and data-table attribute: bieu1 …
    frame: str  # ReportTables field: table1 …
    sheet_name: str  # XLSX sheet: "Bieu 1" …
    caption: str  # "Biểu 1" …
    title: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    totals: dict[str, int] | None = None
    total_label_span: int = 1
    numbered: bool = False
    form_code: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def header_depth(self) -> int:
        """Number of header rows (without the row of column numbers)."""
        return max(len(c.header) for c in self.columns)

    def header_cells(self) -> list[HeaderCell]:
        """The header as merged cells (see :func:`header_cells`)."""
        return header_cells(self.columns)

    def column_numbers(self) -> list[str]:
        """"(1)", "(2)", … one per column."""
        return [f"({i})" for i in range(1, len(self.columns) + 1)]

    def total_cells(self) -> list[Cell]:
        """The totals row as cells (label in the first cell, sums in summed columns)."""
        if self.totals is None:
            return []
        out: list[Cell] = []
        for i, c in enumerate(self.columns):
            if i == 0:
                out.append(Cell(TOTAL_LABEL, "text", c.key))
            elif c.summed:
                out.append(Cell(self.totals[c.key], "int", c.key))
            else:
                out.append(Cell(None, "text", c.key))
        return out


def header_cells(columns: list[Column]) -> list[HeaderCell]:
    """Merged header cells for columns with header paths of varying depth.

    Adjacent columns sharing a header prefix share its cell (merged across); a column
    whose path ends above the deepest level spans down to the last header row.
    """
    depth = max(len(c.header) for c in columns)
    cells: list[HeaderCell] = []
    n = len(columns)
    for level in range(depth):
        i = 0
        while i < n:
            h = columns[i].header
            if len(h) <= level:
                i += 1
                continue
            prefix = h[: level + 1]
            j = i + 1
            while j < n and len(columns[j].header) > level and columns[j].header[: level + 1] == prefix:
                j += 1
            rows = depth - level if len(h) == level + 1 else 1
            cells.append(HeaderCell(level, i, rows, j - i, h[level]))
            i = j
    return cells


def fmt_date(d: dt.date) -> str:
    """dd/mm/yyyy."""
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def period_text(t: ReportTables) -> str:
    """"Kỳ báo cáo: năm 2019 (từ ngày 01/01/2019 đến ngày 31/12/2019)" and the convention."""
    conv = " theo Nghị định số 09/2019/NĐ-CP" if t.convention == "decree09" else ""
    return (f"Kỳ báo cáo: năm {t.year}{conv} (từ ngày {fmt_date(t.period_start)} "
            f"đến ngày {fmt_date(t.period_end)})")


def level_label(v: object) -> str | None:
    """Display an online service level: 3 → "3", "toan_trinh" → "Toàn trình"."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    s = str(v).strip()
    if not s:
        return None
    if s in LEVEL_LABELS:
        return LEVEL_LABELS[s]
    try:
        f = float(s)
    except ValueError:
        return s
    return str(int(f)) if f.is_integer() else s


def _val(v: object) -> object:
    """A pandas scalar as a plain Python value (NA → None)."""
    if v is None:
        return None
    if not isinstance(v, (str, dt.date)) and pd.isna(v):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def _norm_links(links: dict[ExplainKey, str] | None) -> dict[ExplainKey, str]:
    alias = {"bieu1": "table1", "bieu2": "table2"}
    out: dict[ExplainKey, str] = {}
    for (table, code, col), href in (links or {}).items():
        out[(alias.get(table, table), str(code), col)] = href
    return out


def _body(sheet: Sheet, df: pd.DataFrame, links: dict[ExplainKey, str], values: dict[str, list] | None = None,
          kinds: dict[str, list[str]] | None = None) -> None:
    """Fill ``sheet.rows`` from ``df`` (and overrides in ``values``/``kinds``)."""
    values = values or {}
    kinds = kinds or {}
    codes = df["procedure_code"].tolist() if "procedure_code" in df.columns else [None] * len(df)
    for i in range(len(df)):
        row: list[Cell] = []
        for c in sheet.columns:
            if c.kind == "stt":
                v: object = i + 1
            elif c.key in values:
                v = values[c.key][i]
            else:
                v = _val(df[c.key].iloc[i])
            kind = kinds[c.key][i] if c.key in kinds else c.kind
            href = links.get((sheet.frame, str(codes[i]), c.key)) if codes[i] is not None else None
            row.append(Cell(v, kind, c.key, href))
        sheet.rows.append(row)


def _totals(sheet: Sheet, df: pd.DataFrame) -> None:
    """Totals row = the sum of the rows, then checked cell by cell against the body."""
    sheet.totals = {c.key: int(df[c.key].fillna(0).sum()) for c in sheet.columns if c.summed}
    verify_totals(sheet)


def verify_totals(sheet: Sheet) -> None:
    """Raise :class:`ReportDataError` unless each total equals the sum of its column's cells."""
    if sheet.totals is None:
        return
    problems = []
    for j, c in enumerate(sheet.columns):
        if not c.summed:
            continue
        s = sum(int(r[j].value) for r in sheet.rows if r[j].value is not None)
        if s != sheet.totals[c.key]:
            problems.append(f"{sheet.name}: total of {c.key} is {sheet.totals[c.key]}, rows sum to {s}")
    if problems:
        raise ReportDataError(problems)


def _sheet1(t: ReportTables, links: dict[ExplainKey, str]) -> Sheet:
    df = t.frame("table1")
    levels = [level_label(v) for v in df["service_level"]]
    new_style = any(str(v).strip() in LEVEL_LABELS for v in df["service_level"].dropna())
    cols = [
        Column("stt", (H_TT,), "stt", 5),
        Column("procedure_name", (T1_NAME,), "text", 58),
        Column("service_level", (T1_LEVEL_NEW if new_style else T1_LEVEL_OLD,), "level", 12),
        Column("service_url", (T1_URL,), "url", 36),
        Column("received_online", (T1_ONLINE,), "int", 14, summed=True),
        Column("received_offline", (T1_OFFLINE,), "int", 16, summed=True),
    ]
    s = Sheet("bieu1", "table1", "Bieu 1", "Biểu 1",
              f"KẾT QUẢ TIẾP NHẬN, GIẢI QUYẾT HỒ SƠ TTHC, DVC NĂM {t.year}", cols,
              total_label_span=4, notes=[period_text(t), f"Cơ quan báo cáo: {t.agency_name}"])
    _body(s, df, links, values={"service_level": levels})
    _totals(s, df)
    return s


def _sheet2(t: ReportTables, links: dict[ExplainKey, str]) -> Sheet:
    df = t.frame("table2")
    rec = (T2_RECEIVED,)
    done = (T2_RESULT, T2_RESOLVED)
    open_ = (T2_RESULT, T2_PENDING)
    cols = [
        Column("stt", (H_STT,), "stt", 5),
        Column("procedure_name", (T2_NAME,), "text", 48),
        Column("field_name", (T2_FIELD,), "text", 16),
        Column("received_total", (*rec, H_TOTAL), "int", 9, summed=True),
        Column("carried_over", (*rec, T2_CARRIED), "int", 11, summed=True),
        Column("received_new", (*rec, T2_NEW), "int", 10, summed=True),
        Column("resolved_total", (*done, H_TOTAL), "int", 9, summed=True),
        Column("resolved_on_time", (*done, T2_ONTIME), "int", 10, summed=True),
        Column("resolved_late", (*done, T2_LATE), "int", 9, summed=True),
        Column("pending_total", (*open_, H_TOTAL), "int", 9, summed=True),
        Column("pending_not_due", (*open_, T2_NOT_DUE), "int", 9, summed=True),
        Column("pending_overdue", (*open_, T2_OVERDUE), "int", 9, summed=True),
        Column("withdrawn", (T2_WITHDRAWN,), "int", 11, summed=True),
    ]
    s = Sheet("bieu2", "table2", "Bieu 2", "Biểu 2",
              "TỔNG HỢP SỐ LƯỢNG HỒ SƠ GIẢI QUYẾT TẠI TẤT CẢ CÁC LĨNH VỰC", cols,
              total_label_span=3, numbered=True,
              notes=[period_text(t), f"Cơ quan báo cáo: {t.agency_name}"])
    _body(s, df, links)
    _totals(s, df)
    return s


def _sheet3(t: ReportTables) -> Sheet:
    df = t.frame("table3")
    names = []
    for name, number in zip(df["plan_name"], df["plan_number"], strict=True):
        name = "" if pd.isna(name) else str(name)
        number = "" if pd.isna(number) else str(number).strip()
        names.append(f"{name} (số {number})" if number else name)
    cols = [
        Column("stt", (H_STT,), "stt", 5),
        Column("plan_name", ("Kế hoạch",), "text", 50),
        Column("issued_on", ("Thời gian ban hành",), "date", 14),
        Column("tasks_planned", ("Số nhiệm vụ/số đơn vị trong kế hoạch",), "int", 16),
        Column("tasks_done", ("Số nhiệm vụ/ đơn vị được hoàn thành theo kế hoạch",), "int", 18),
        Column("note", ("Ghi chú",), "text", 36),
    ]
    s = Sheet("bieu3", "table3", "Bieu 3", "Biểu 3", "KẾT QUẢ THỰC HIỆN CÁC KẾ HOẠCH", cols,
              notes=[period_text(t), f"Cơ quan báo cáo: {t.agency_name}"])
    _body(s, df, {}, values={"plan_name": names})
    return s


def _sheet4(t: ReportTables) -> Sheet:
    df = t.frame("table4")
    cols = [
        Column("stt", (H_STT,), "stt", 5),
        Column("criterion", ("Tiêu chí",), "text", 60),
        Column("count", ("Tổng số",), "int", 10),
        Column("share_pct", ("Tỷ lệ % (So với tổng số TTHC trong bộ TTHC)",), "pct", 18),
        Column("note", ("Ghi chú",), "text", 24),
    ]
    s = Sheet("bieu4", "table4", "Bieu 4", "Biểu 4", "SỐ LƯỢNG THỦ TỤC HÀNH CHÍNH", cols,
              notes=[period_text(t), f"Cơ quan báo cáo: {t.agency_name}"])
    _body(s, df, {})
    return s


def _sheet06(t: ReportTables) -> Sheet:
    df = t.frame("form06")
    rec = ("Số hồ sơ nhận giải quyết",)
    new = (*rec, "Trong kỳ")
    done = ("Kết quả giải quyết", "Số hồ sơ đã giải quyết")
    open_ = ("Kết quả giải quyết", "Số hồ sơ đang giải quyết")
    cols = [
        Column("stt", (H_STT,), "stt", 5),
        Column("field_name", ("Lĩnh vực, công việc giải quyết theo cấp",), "text", 36),
        Column("received_total", (*rec, H_TOTAL), "int", 9, summed=True),
        Column("received_online", (*new, "Trực tuyến"), "int", 10, summed=True),
        Column("received_offline", (*new, "Trực tiếp, dịch vụ bưu chính"), "int", 12, summed=True),
        Column("carried_over", (*rec, "Từ kỳ trước"), "int", 9, summed=True),
        Column("resolved_total", (*done, H_TOTAL), "int", 9, summed=True),
        Column("resolved_early", (*done, "Trả trước hạn"), "int", 9, summed=True),
        Column("resolved_on_time", (*done, "Trả đúng thời hạn"), "int", 10, summed=True),
        Column("resolved_late", (*done, "Trả quá hạn"), "int", 9, summed=True),
        Column("pending_total", (*open_, H_TOTAL), "int", 9, summed=True),
        Column("pending_not_due", (*open_, "Chưa đến hạn"), "int", 9, summed=True),
        Column("pending_overdue", (*open_, "Quá hạn"), "int", 9, summed=True),
    ]
    s = Sheet("bieu06", "form06", "Bieu 06", "Biểu 06/VPCP/KSTT",
              "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT TTHC TẠI CƠ QUAN, ĐƠN VỊ TRỰC TIẾP GIẢI QUYẾT TTHC",
              cols, total_label_span=2, numbered=True, form_code="Biểu số 06/VPCP/KSTT",
              notes=[period_text(t), f"Đơn vị báo cáo: {t.agency_name}",
                     "Đơn vị tính: Số hồ sơ TTHC"])
    _body(s, df, {})
    _totals(s, df)
    return s


def is_rate(code: object) -> bool:
    """Indicators whose value is a fraction shown as a percentage."""
    return isinstance(code, str) and code.endswith("_rate")


def _sheet_chiso(t: ReportTables) -> Sheet:
    df = t.frame("indicators")
    cols = [
        Column("stt", (H_STT,), "stt", 5),
        Column("indicator_code", ("Mã chỉ số",), "text", 28),
        Column("name_vi", ("Chỉ số",), "text", 56),
        Column("numerator", ("Tử số",), "number", 11),
        Column("denominator", ("Mẫu số",), "number", 11),
        Column("value", ("Giá trị",), "value", 12),
    ]
    s = Sheet("chiso", "indicators", "Chi so", "Chỉ số",
              f"CÁC CHỈ SỐ KẾT QUẢ GIẢI QUYẾT TTHC NĂM {t.year}", cols,
              notes=[period_text(t), f"Cơ quan báo cáo: {t.agency_name}",
                     "Tỷ lệ = Tử số / Mẫu số"])
    kinds = ["rate" if is_rate(c) else "number" for c in df["indicator_code"]]
    _body(s, df, {}, kinds={"value": kinds})
    return s


def build_sheets(t: ReportTables) -> list[Sheet]:
    """All tables of the report, in order: Biểu 1–4, Biểu 06, indicators."""
    links = _norm_links(t.explain_links)
    return [_sheet1(t, links), _sheet2(t, links), _sheet3(t), _sheet4(t), _sheet06(t), _sheet_chiso(t)]
