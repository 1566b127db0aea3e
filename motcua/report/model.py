"""The input of the renderer: :class:`ReportTables`, already-computed tables.

The renderer never computes a count from dossiers; it lays out what it is given,
adds the totals rows (sums of the rows) and refuses tables that contradict
themselves (see :mod:`motcua.report.checks`).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field, fields, replace
from typing import Literal

import pandas as pd

Convention = Literal["calendar", "decree09"]

#: Column names of every frame of :class:`ReportTables`, in output order.
COLUMNS: dict[str, tuple[str, ...]] = {
    "table1": (
        "procedure_code", "procedure_name", "service_level", "service_url",
        "received_online", "received_offline",
    ),
    "table2": (
        "procedure_code", "procedure_name", "field_name", "received_total", "carried_over",
        "received_new", "resolved_total", "resolved_on_time", "resolved_late", "pending_total",
        "pending_not_due", "pending_overdue", "withdrawn", "resolved_early",
    ),
    "table3": ("plan_name", "plan_number", "issued_on", "tasks_planned", "tasks_done", "note"),
    "table4": ("criterion", "count", "share_pct", "note"),
    "form06": (
        "field_name", "received_total", "received_online", "received_offline", "carried_over",
        "resolved_total", "resolved_early", "resolved_on_time", "resolved_late", "pending_total",
        "pending_not_due", "pending_overdue",
    ),
    "indicators": ("indicator_code", "name_vi", "numerator", "denominator", "value"),
    "monthly_intake": ("month", "received_online", "received_offline"),
    "ontime_by_field": ("field_name", "resolved_on_time", "resolved_total"),
    "ontime_by_procedure": ("procedure_code", "procedure_name", "resolved_on_time", "resolved_total"),
    "open_by_agency": ("agency_code", "agency_name", "pending_not_due", "pending_overdue"),
    "processing_days": ("working_days", "dossiers"),
}

#: Columns that hold whole counts of dossiers, tasks or procedures (nullable integers).
COUNT_COLUMNS: dict[str, tuple[str, ...]] = {
    "table1": ("received_online", "received_offline"),
    "table2": COLUMNS["table2"][3:],
    "table3": ("tasks_planned", "tasks_done"),
    "table4": ("count",),
    "form06": COLUMNS["form06"][1:],
    "monthly_intake": ("month", "received_online", "received_offline"),
    "ontime_by_field": ("resolved_on_time", "resolved_total"),
    "ontime_by_procedure": ("resolved_on_time", "resolved_total"),
    "open_by_agency": ("pending_not_due", "pending_overdue"),
    "processing_days": ("working_days", "dossiers"),
}

#: Columns that hold real numbers.
FLOAT_COLUMNS: dict[str, tuple[str, ...]] = {
    "table4": ("share_pct",),
    "indicators": ("numerator", "denominator", "value"),
}

#: Columns that hold dates.
DATE_COLUMNS: dict[str, tuple[str, ...]] = {"table3": ("issued_on",)}

#: Frame name -> export name (``bieu1.csv`` …) for the frames that are exported.
EXPORT_NAMES: dict[str, str] = {
    "table1": "bieu1",
    "table2": "bieu2",
    "table3": "bieu3",
    "table4": "bieu4",
    "form06": "bieu06",
    "indicators": "chiso",
}

#: Key of :attr:`ReportTables.explain_links`: (table, procedure_code, column).
ExplainKey = tuple[str, str, str]


class ReportDataError(ValueError):
    """The tables handed to the renderer are malformed or contradict themselves."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        shown = "\n  - ".join(self.problems[:30])
        more = f"\n  (+{len(self.problems) - 30} more)" if len(self.problems) > 30 else ""
        super().__init__(f"report tables rejected ({len(self.problems)} problem(s)):\n  - {shown}{more}")


def empty_frame(name: str) -> pd.DataFrame:
    """An empty frame with the columns (and dtypes) of frame ``name``."""
    return normalize_frame(name, pd.DataFrame(columns=list(COLUMNS[name])))


def _frame(name: str) -> pd.DataFrame:
    """A dataclass field defaulting to an empty frame ``name``."""
    return field(default_factory=lambda: empty_frame(name))


@dataclass
class ReportTables:
    """Everything the annual CCHC report shows, already computed.

    Scalars:

    * ``title`` (str): the report's title, e.g. "Báo cáo công tác cải cách hành chính
      năm 2019" or the agency's name;
    * ``year`` (int): the report year (the period's end year);
    * ``period_start``, ``period_end`` (:class:`datetime.date`): the closed reporting period;
    * ``agency_name`` (str): the reporting agency, e.g. "Sở Khoa học và Công nghệ";
    * ``convention`` (str): ``"calendar"`` or ``"decree09"`` (15 Dec – 14 Dec cut-off).

    Frames (pandas DataFrames; the listed columns are required, others are ignored;
    counts are whole numbers, null shown as an empty cell and counted as 0 in totals):

    * ``table1`` – Biểu 1, *Kết quả tiếp nhận, giải quyết hồ sơ TTHC, DVC*, one row per
      procedure: ``procedure_code, procedure_name, service_level`` (3, 4, "toan_trinh",
      "mot_phan" …), ``service_url``, ``received_online, received_offline`` (new in the
      period; offline = in person + postal).
    * ``table2`` – Biểu 2, *Tổng hợp số lượng hồ sơ giải quyết tại tất cả các lĩnh vực*,
      one row per procedure: ``procedure_code, procedure_name, field_name``,
      ``received_total`` (4), ``carried_over`` (5), ``received_new`` (6),
      ``resolved_total`` (7), ``resolved_on_time`` (8, early included),
      ``resolved_late`` (9), ``pending_total`` (10), ``pending_not_due`` (11),
      ``pending_overdue`` (12), ``withdrawn`` (withdrawn / stopped, shown as (13)),
      ``resolved_early`` (of (8), before the due day; not a column of the sheet).
      Must hold per row: (4)=(5)+(6), (7)=(8)+(9), (10)=(11)+(12),
      (4)=(7)+(10)+withdrawn, early ≤ (8).
    * ``table3`` – Biểu 3, *Kết quả thực hiện các kế hoạch*: ``plan_name, plan_number``
      (e.g. "05/KH-SKHCN", may be empty), ``issued_on`` (date), ``tasks_planned,
      tasks_done, note``. May be empty.
    * ``table4`` – Biểu 4, *Số lượng thủ tục hành chính*, the 4 criteria of the seed:
      ``criterion, count, share_pct`` (0–100), ``note``.
    * ``form06`` – Biểu 06/VPCP/KSTT (Circular 01/2020/TT-VPCP), one row per field:
      ``field_name, received_total, received_online, received_offline, carried_over,
      resolved_total, resolved_early, resolved_on_time, resolved_late, pending_total,
      pending_not_due, pending_overdue``. Here, as in the form, early, on time and late
      are disjoint: ``resolved_on_time`` counts only dossiers resolved on the due day,
      and received_total = online + offline + carried_over,
      resolved_total = early + on_time + late, pending_total = not_due + overdue.
    * ``indicators``: ``indicator_code, name_vi, numerator, denominator, value``; for
      codes ending in ``_rate`` the value is the fraction numerator / denominator (0–1),
      null when the denominator is 0; other codes (``overdue_open``,
      ``processing_days_median`` …) carry their value as is.
    * ``monthly_intake``: ``month`` (1–12), ``received_online, received_offline``.
    * ``ontime_by_field``: ``field_name, resolved_on_time, resolved_total``.
    * ``ontime_by_procedure``: ``procedure_code, procedure_name, resolved_on_time,
      resolved_total``.
    * ``open_by_agency``: ``agency_code, agency_name, pending_not_due, pending_overdue``
      (open at period end).
    * ``processing_days``: ``working_days, dossiers`` (histogram: dossiers resolved in
      the period by working days from intake to resolution).

    ``explain_links``: optional mapping ``(table, procedure_code, column) -> href``
    where table is ``"table1"`` or ``"table2"`` (``"bieu1"``/``"bieu2"`` accepted) and
    column a column name above; the HTML links that cell to the (relative) href.
    """

    title: str
    year: int
    period_start: dt.date
    period_end: dt.date
    agency_name: str
    convention: Convention = "calendar"
    table1: pd.DataFrame = _frame("table1")
    table2: pd.DataFrame = _frame("table2")
    table3: pd.DataFrame = _frame("table3")
    table4: pd.DataFrame = _frame("table4")
    form06: pd.DataFrame = _frame("form06")
    indicators: pd.DataFrame = _frame("indicators")
    monthly_intake: pd.DataFrame = _frame("monthly_intake")
    ontime_by_field: pd.DataFrame = _frame("ontime_by_field")
    ontime_by_procedure: pd.DataFrame = _frame("ontime_by_procedure")
    open_by_agency: pd.DataFrame = _frame("open_by_agency")
    processing_days: pd.DataFrame = _frame("processing_days")
    explain_links: dict[ExplainKey, str] | None = None
    _normalized: bool = field(default=False, init=False, repr=False, compare=False)

    @classmethod
    def frame_names(cls) -> tuple[str, ...]:
        """Names of the DataFrame fields, in declaration order."""
        return tuple(f.name for f in fields(cls) if f.name in COLUMNS)

    def frame(self, name: str) -> pd.DataFrame:
        """Frame ``name`` normalised: required columns in order, dtypes coerced."""
        df = getattr(self, name)
        return df if self._normalized else normalize_frame(name, df)

    def normalized(self) -> tuple[ReportTables, list[str]]:
        """A copy with every frame normalised once, and the problems found doing so."""
        if self._normalized:
            return self, []
        problems: list[str] = []
        frames = {name: normalize_frame(name, getattr(self, name), problems) for name in COLUMNS}
        out = replace(self, **frames)
        out._normalized = True
        return out, problems


def _to_count(s: pd.Series, where: str, problems: list[str]) -> pd.Series:
    if pd.api.types.is_integer_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        out = s.astype("Int64")
        neg = out.fillna(0) < 0
        if neg.any():
            problems.append(f"{where}: negative count(s): {sorted(out[neg].unique())[:5]}")
        return out
    num = pd.to_numeric(s.astype("object").where(s.notna(), None), errors="coerce")
    bad = s.notna() & num.isna()
    # "" is a null, not a bad value
    bad &= s.astype("object").map(lambda v: not (isinstance(v, str) and v.strip() == ""))
    if bad.any():
        problems.append(f"{where}: not a number: {sorted(map(str, s[bad].unique()))[:5]}")
    frac = num.notna() & (num != num.round())
    if frac.any():
        problems.append(f"{where}: not a whole number: {sorted(num[frac].unique())[:5]}")
        num = num.where(~frac)
    neg = num.notna() & (num < 0)
    if neg.any():
        problems.append(f"{where}: negative count(s): {sorted(num[neg].unique())[:5]}")
    return num.round().astype("Int64")


def _to_text(s: pd.Series) -> pd.Series:
    def conv(v: object) -> object:
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return None
        text = unicodedata.normalize("NFC", str(v))
        return text if text.strip() else None

    return s.astype("object").map(conv).astype("string")


def _to_date(s: pd.Series, where: str, problems: list[str]) -> pd.Series:
    def conv(v: object) -> object:
        if v is None or (not isinstance(v, (str, dt.date)) and pd.isna(v)):
            return None
        if isinstance(v, dt.datetime):
            return v.date()
        if isinstance(v, dt.date):
            return v
        if isinstance(v, str) and not v.strip():
            return None
        try:
            return pd.Timestamp(v).date()
        except (ValueError, TypeError):
            problems.append(f"{where}: not a date: {v!r}")
            return None

    return s.astype("object").map(conv)


def normalize_frame(name: str, df: pd.DataFrame | None, problems: list[str] | None = None) -> pd.DataFrame:
    """Frame ``name`` with exactly its required columns, in order, with coerced dtypes.

    Counts become nullable ``Int64``, real numbers ``float64``, dates
    :class:`datetime.date` objects, everything else nullable strings in Unicode NFC (blank → null) (names typed in
    decomposed form come out composed). Missing columns
    or values that cannot be coerced are appended to ``problems`` (or raised as
    :class:`ReportDataError` when ``problems`` is None).
    """
    raise_now = problems is None
    probs: list[str] = [] if problems is None else problems
    cols = COLUMNS[name]
    if df is None:
        df = pd.DataFrame(columns=list(cols))
    if not isinstance(df, pd.DataFrame):
        probs.append(f"{name}: expected a pandas DataFrame, got {type(df).__name__}")
        df = pd.DataFrame(columns=list(cols))
    missing = [c for c in cols if c not in df.columns]
    if missing:
        probs.append(f"{name}: missing column(s) {missing}; got {list(df.columns)}")
    src = df.reset_index(drop=True)
    out = pd.DataFrame(index=src.index)
    for c in cols:
        s = src[c] if c in src.columns else pd.Series([None] * len(src), index=src.index, dtype="object")
        where = f"{name}.{c}"
        if c in COUNT_COLUMNS.get(name, ()):
            out[c] = _to_count(s, where, probs)
        elif c in FLOAT_COLUMNS.get(name, ()):
            out[c] = pd.to_numeric(s.astype("object").where(s.notna(), None), errors="coerce").astype("float64")
        elif c in DATE_COLUMNS.get(name, ()):
            out[c] = _to_date(s, where, probs)
        else:
            out[c] = _to_text(s)
    if raise_now and probs:
        raise ReportDataError(probs)
    return out
