"""The published tables of the annual CCHC report, described once.

For each table (Biểu 1–4, Biểu 06, the indicators) its columns in order: the frame
column's key, the Vietnamese header as printed (the path from the top header row down,
as in the seed report's appendix; the seed's "chuyên qua" is a typo of "chuyển qua"),
the number the form gives the column ("(4)" …), how it is shown; and the identities that
hold on every row (``(4) = (5) + (6)`` …) and between tables, as data.

Built from it: the report model's frames (:mod:`motcua.report.model`), the sheets every
renderer writes (:mod:`motcua.report.layout`: XLSX, HTML, terminal; the CSV/Parquet
exports carry the frame columns), the checks the renderer runs
(:mod:`motcua.report.checks`), ``motcua check-report`` (:mod:`motcua.reconcile`), the
identity expectations of the mart suites and the report's tables 1–2
(:mod:`transforms.rpt_appendix`). Pure data and small helpers, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

Kind = str
"""How a column is shown, and so its dtype: ``stt`` (the row number, not a frame column),
``int`` (a count), ``pct``/``number``/``value`` (real numbers), ``date``, ``url``,
``level`` (an online service level), ``text``."""

_DTYPES = {"int": "count", "pct": "float", "number": "float", "value": "float", "date": "date"}


@dataclass(frozen=True)
class Column:
    """One column of a published table.

    ``header``: the printed header path, top row first (empty: not printed, e.g. the
    procedure code); ``alt_header``: the header used instead when the data asks for it
    (Biểu 1's level column when levels are "toàn trình"/"một phần"); ``number``: the
    column's number in the form, printed in the row of column numbers (None: a column
    the form does not have); ``tag``: what ``check-report`` calls a column that has no
    number; ``short``: the header in a terminal (default: the last header line);
    ``absent``: what the column counts, said when a published table lacks it;
    ``width`` (XLSX characters) and ``summed`` (in the totals row) are how it is laid out.
    """

    key: str
    header: tuple[str, ...] = ()
    kind: Kind = "text"
    width: float = 0.0
    summed: bool = False
    number: int | None = None
    tag: str | None = None
    short: str | None = None
    alt_header: tuple[str, ...] = ()
    absent: str = ""

    @property
    def printed(self) -> bool:
        return bool(self.header)

    @property
    def in_frame(self) -> bool:
        """A column of the table's frame (all but the row number)."""
        return self.kind != "stt"

    @property
    def dtype(self) -> str:
        """``count``, ``float``, ``date`` or ``text``."""
        return _DTYPES.get(self.kind, "text")

    @property
    def label(self) -> str | None:
        """"(4)" for a column of the form, "(rút/dừng)" for a tagged one, else None."""
        if self.number is not None:
            return f"({self.number})"
        return f"({self.tag})" if self.tag else None


@dataclass(frozen=True)
class Identity:
    """On every row: ``total = sum(parts)``."""

    total: str
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Bound:
    """On every row: ``lesser <= greater``; ``name`` is the expectation suites' check column."""

    lesser: str
    greater: str
    name: str


@dataclass(frozen=True)
class Agreement:
    """Between two tables: the total of ``table``'s column ``total`` equals the total of
    ``other``'s ``parts``, and, with ``per``, so does each row matched on column ``per``."""

    table: str
    total: str
    other: str
    parts: tuple[str, ...]
    per: str | None = None


@dataclass(frozen=True)
class Table:
    """One published table: ``name`` (export name and HTML ``data-table``), ``frame``
    (the :class:`~motcua.report.model.ReportTables` field), the XLSX ``sheet_name``, the
    ``caption``, the ``title`` in sentence case (printed in capitals, followed by "NĂM
    <year>" when ``yearly``), its columns, identities and bounds, and how it is laid out."""

    name: str
    frame: str
    sheet_name: str
    caption: str
    title: str
    columns: tuple[Column, ...]
    identities: tuple[Identity, ...] = ()
    bounds: tuple[Bound, ...] = ()
    row_label: tuple[str, ...] = ()
    numbered: bool = False
    yearly: bool = False
    total_label_span: int = 1
    form_code: str | None = None
    agency_label: str = "Cơ quan báo cáo"
    notes: tuple[str, ...] = ()

    def __getitem__(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(f"{self.frame} has no column {key!r}")

    @property
    def frame_columns(self) -> tuple[str, ...]:
        """The frame's column names, in order."""
        return tuple(c.key for c in self.columns if c.in_frame)

    @property
    def printed(self) -> tuple[Column, ...]:
        """The printed columns, in order (the row number first)."""
        return tuple(c for c in self.columns if c.printed)

    def of_dtype(self, dtype: str) -> tuple[str, ...]:
        """The frame columns of ``dtype`` (``count``, ``float``, ``date``, ``text``)."""
        return tuple(c.key for c in self.columns if c.in_frame and c.dtype == dtype)

    def under(self, top: str) -> tuple[str, ...]:
        """The printed columns whose header starts with ``top``."""
        return tuple(c.key for c in self.columns if c.header[:1] == (top,))

    def heading(self, year: int) -> str:
        """The printed title: "KẾT QUẢ … NĂM 2019"."""
        return self.title.upper() + (f" NĂM {year}" if self.yearly else "")

    def term(self, key: str) -> str:
        """A column in an identity as printed: "(4)", or its key when the form has no number for it."""
        c = self[key]
        return f"({c.number})" if c.number is not None else key

    def identity_text(self, identity: Identity) -> str:
        """"(4) = (5) + (6)"."""
        return f"{self.term(identity.total)} = {' + '.join(self.term(p) for p in identity.parts)}"

    def identity_name(self, identity: Identity) -> str:
        """The suites' check column: ``identity_4_eq_5_plus_6``."""
        def bare(key: str) -> str:
            return self.term(key).strip("()")

        return f"identity_{bare(identity.total)}_eq_{'_plus_'.join(bare(p) for p in identity.parts)}"


# Header texts shared by several columns.
TOTAL_ROW = "Tổng cộng"
"""The label of a table's totals row (the sum of its rows)."""
STT = "STT"
TOTAL = "Tổng số"
RECEIVED = "Số hồ sơ nhận giải quyết"
RESULT = "Kết quả giải quyết"
T2_RESOLVED = (RESULT, "Đã giải quyết")
T2_PENDING = (RESULT, "Đang giải quyết")
F06_NEW = (RECEIVED, "Trong kỳ")
F06_RESOLVED = (RESULT, "Số hồ sơ đã giải quyết")
F06_PENDING = (RESULT, "Số hồ sơ đang giải quyết")

TABLE1 = Table(
    "bieu1", "table1", "Bieu 1", "Biểu 1", "Kết quả tiếp nhận, giải quyết hồ sơ TTHC, DVC",
    columns=(
        Column("stt", ("TT",), "stt", 5),
        Column("procedure_code"),
        Column("procedure_name", ("Tên TTHC, DVC",), "text", 58),
        Column("service_level", ("Mức độ của dịch vụ (3, 4)",), "level", 12, tag="mức độ", short="Mức\nđộ",
               alt_header=("Mức độ của dịch vụ (toàn trình, một phần)",)),
        Column("service_url", ("Địa chỉ đăng tải dịch vụ",), "url", 36, tag="địa chỉ"),
        Column("received_online", ("Tổng số hồ sơ tiếp nhận trực tuyến",), "int", 14, summed=True,
               tag="trực tuyến", short="Trực\ntuyến"),
        Column("received_offline", ("Tổng số hồ sơ tiếp nhận trực tiếp (không trực tuyến)",), "int", 16,
               summed=True, tag="không trực tuyến", short="Trực tiếp\n(không\ntrực tuyến)"),
    ),
    row_label=("procedure_code", "procedure_name"), yearly=True, total_label_span=4,
)

TABLE2 = Table(
    "bieu2", "table2", "Bieu 2", "Biểu 2", "Tổng hợp số lượng hồ sơ giải quyết tại tất cả các lĩnh vực",
    columns=(
        Column("stt", (STT,), "stt", 5, number=1),
        Column("procedure_code"),
        Column("procedure_name", ("Tên TTHC",), "text", 48, number=2),
        Column("field_name", ("Lĩnh vực",), "text", 16, number=3),
        Column("received_total", (RECEIVED, TOTAL), "int", 9, True, number=4, short="Nhận\ntổng"),
        Column("carried_over", (RECEIVED, "Số kỳ trước chuyển qua"), "int", 11, True, number=5, short="Kỳ trước"),
        Column("received_new", (RECEIVED, "Số mới tiếp nhận"), "int", 10, True, number=6, short="Mới"),
        Column("resolved_total", (*T2_RESOLVED, TOTAL), "int", 9, True, number=7, short="Đã GQ"),
        Column("resolved_on_time", (*T2_RESOLVED, "Trả đúng thời hạn"), "int", 10, True, number=8,
               short="Đúng hạn"),
        Column("resolved_late", (*T2_RESOLVED, "Trả quá hạn"), "int", 9, True, number=9, short="Quá hạn"),
        Column("pending_total", (*T2_PENDING, TOTAL), "int", 9, True, number=10, short="Đang GQ"),
        Column("pending_not_due", (*T2_PENDING, "Chưa đến hạn"), "int", 9, True, number=11,
               short="Chưa\nđến hạn"),
        Column("pending_overdue", (*T2_PENDING, "Quá hạn"), "int", 9, True, number=12, short="Quá hạn"),
        Column("withdrawn", ("Rút hồ sơ / dừng xử lý",), "int", 11, True, tag="rút/dừng", short="Rút/\ndừng",
               absent="dossiers withdrawn or stopped"),
        Column("resolved_early", kind="int"),  # of (8), resolved before the due day: not printed
    ),
    identities=(
        Identity("received_total", ("carried_over", "received_new")),
        Identity("resolved_total", ("resolved_on_time", "resolved_late")),
        Identity("pending_total", ("pending_not_due", "pending_overdue")),
        Identity("received_total", ("resolved_total", "pending_total", "withdrawn")),
    ),
    bounds=(Bound("resolved_early", "resolved_on_time", "early_not_above_on_time"),),
    row_label=("procedure_code", "procedure_name"), numbered=True, total_label_span=3,
)

TABLE3 = Table(
    "bieu3", "table3", "Bieu 3", "Biểu 3", "Kết quả thực hiện các kế hoạch",
    columns=(
        Column("stt", (STT,), "stt", 5),
        Column("plan_name", ("Kế hoạch",), "text", 50),
        Column("plan_number"),  # printed with the plan's name: "… (số 05/KH-SKHCN)"
        Column("issued_on", ("Thời gian ban hành",), "date", 14),
        Column("tasks_planned", ("Số nhiệm vụ/số đơn vị trong kế hoạch",), "int", 16),
        Column("tasks_done", ("Số nhiệm vụ/ đơn vị được hoàn thành theo kế hoạch",), "int", 18),
        Column("note", ("Ghi chú",), "text", 36),
    ),
)

TABLE4 = Table(
    "bieu4", "table4", "Bieu 4", "Biểu 4", "Số lượng thủ tục hành chính",
    columns=(
        Column("stt", (STT,), "stt", 5),
        Column("criterion", ("Tiêu chí",), "text", 60),
        Column("count", (TOTAL,), "int", 10),
        Column("share_pct", ("Tỷ lệ % (So với tổng số TTHC trong bộ TTHC)",), "pct", 18),
        Column("note", ("Ghi chú",), "text", 24),
    ),
)

FORM06 = Table(
    "bieu06", "form06", "Bieu 06", "Biểu 06/VPCP/KSTT",
    "Tình hình, kết quả giải quyết TTHC tại cơ quan, đơn vị trực tiếp giải quyết TTHC",
    columns=(
        Column("stt", (STT,), "stt", 5, number=1),
        Column("field_name", ("Lĩnh vực, công việc giải quyết theo cấp",), "text", 36, number=2),
        Column("received_total", (RECEIVED, TOTAL), "int", 9, True, number=3),
        Column("received_online", (*F06_NEW, "Trực tuyến"), "int", 10, True, number=4),
        Column("received_offline", (*F06_NEW, "Trực tiếp, dịch vụ bưu chính"), "int", 12, True, number=5),
        Column("carried_over", (RECEIVED, "Từ kỳ trước"), "int", 9, True, number=6),
        Column("resolved_total", (*F06_RESOLVED, TOTAL), "int", 9, True, number=7),
        Column("resolved_early", (*F06_RESOLVED, "Trả trước hạn"), "int", 9, True, number=8),
        Column("resolved_on_time", (*F06_RESOLVED, "Trả đúng thời hạn"), "int", 10, True, number=9),
        Column("resolved_late", (*F06_RESOLVED, "Trả quá hạn"), "int", 9, True, number=10),
        Column("pending_total", (*F06_PENDING, TOTAL), "int", 9, True, number=11),
        Column("pending_not_due", (*F06_PENDING, "Chưa đến hạn"), "int", 9, True, number=12),
        Column("pending_overdue", (*F06_PENDING, "Quá hạn"), "int", 9, True, number=13),
    ),
    # As in the form, early, on time (on the due day only) and late are disjoint.
    identities=(
        Identity("received_total", ("received_online", "received_offline", "carried_over")),
        Identity("resolved_total", ("resolved_early", "resolved_on_time", "resolved_late")),
        Identity("pending_total", ("pending_not_due", "pending_overdue")),
    ),
    row_label=("field_name",), numbered=True, total_label_span=2, form_code="Biểu số 06/VPCP/KSTT",
    agency_label="Đơn vị báo cáo", notes=("Đơn vị tính: Số hồ sơ TTHC",),
)

INDICATORS = Table(
    "chiso", "indicators", "Chi so", "Chỉ số", "Các chỉ số kết quả giải quyết TTHC",
    columns=(
        Column("stt", (STT,), "stt", 5),
        Column("indicator_code", ("Mã chỉ số",), "text", 28),
        Column("name_vi", ("Chỉ số",), "text", 56),
        Column("numerator", ("Tử số",), "number", 11),
        Column("denominator", ("Mẫu số",), "number", 11),
        Column("value", ("Giá trị",), "value", 12),
    ),
    yearly=True, notes=("Tỷ lệ = Tử số / Mẫu số",),
)

TABLES: tuple[Table, ...] = (TABLE1, TABLE2, TABLE3, TABLE4, FORM06, INDICATORS)
"""Every published table, in the report's order."""

AGREEMENTS: tuple[Agreement, ...] = (
    # the new dossiers of table 2, (6), are table 1's online + not online
    Agreement("table2", "received_new", "table1", ("received_online", "received_offline"), per="procedure_code"),
    # Biểu 06 counts the same dossiers as table 2 (by field instead of procedure) …
    *(Agreement("table2", c, "form06", (c,)) for c in (
        "received_total", "carried_over", "resolved_total", "resolved_late", "pending_not_due", "pending_overdue")),
    # … but splits table 2's on time (8) into early and on the due day
    Agreement("table2", "resolved_on_time", "form06", ("resolved_early", "resolved_on_time")),
)
"""The identities between tables."""

INTAKE_SPLIT = AGREEMENTS[0]
"""Table 2's new dossiers (6) = table 1's online + not online (also checked on the marts)."""


def table(frame: str) -> Table:
    """The table whose frame is ``frame`` (``table1`` … ``form06``, ``indicators``)."""
    for t in TABLES:
        if t.frame == frame:
            return t
    raise KeyError(f"no published table {frame!r}")
