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

from transforms.report_tables import TABLES

Convention = Literal["calendar", "decree09"]

#: Columns of the frames behind the charts (not published tables), in order.
CHART_COLUMNS: dict[str, tuple[str, ...]] = {
    "monthly_intake": ("month", "received_online", "received_offline"),
    "ontime_by_field": ("field_name", "resolved_on_time", "resolved_total"),
    "ontime_by_procedure": ("procedure_code", "procedure_name", "resolved_on_time", "resolved_total"),
    "open_by_agency": ("agency_code", "agency_name", "pending_not_due", "pending_overdue"),
    "processing_days": ("working_days", "dossiers"),
}

#: Column names of every frame of :class:`ReportTables`, in output order: the published
#: tables' as :mod:`transforms.report_tables` describes them, then the charts'.
COLUMNS: dict[str, tuple[str, ...]] = {**{t.frame: t.frame_columns for t in TABLES}, **CHART_COLUMNS}


def _of_dtype(dtype: str) -> dict[str, tuple[str, ...]]:
    return {t.frame: cols for t in TABLES if (cols := t.of_dtype(dtype))}


#: Columns that hold whole counts of dossiers, tasks or procedures (nullable integers).
COUNT_COLUMNS: dict[str, tuple[str, ...]] = {**_of_dtype("count"), **{
    "monthly_intake": ("month", "received_online", "received_offline"),
    "ontime_by_field": ("resolved_on_time", "resolved_total"),
    "ontime_by_procedure": ("resolved_on_time", "resolved_total"),
    "open_by_agency": ("pending_not_due", "pending_overdue"),
    "processing_days": ("working_days", "dossiers"),
}}

#: Columns that hold real numbers.
FLOAT_COLUMNS: dict[str, tuple[str, ...]] = _of_dtype("float")

#: Columns that hold dates.
DATE_COLUMNS: dict[str, tuple[str, ...]] = _of_dtype("date")

#: Frame name -> export name (``bieu1.csv`` …) for the frames that are exported.
EXPORT_NAMES: dict[str, str] = {t.frame: t.name for t in TABLES}

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

    Frames (pandas DataFrames; the columns of :data:`COLUMNS` are required, others are
    ignored; counts are whole numbers, null shown as an empty cell and counted as 0 in
    totals). The published tables, whose columns, headers and identities
    :mod:`transforms.report_tables` describes:

    * ``table1`` – Biểu 1, *Kết quả tiếp nhận, giải quyết hồ sơ TTHC, DVC*, one row per
      procedure: its online level (3, 4, "toan_trinh", "mot_phan" …) and address, new
      dossiers online / not online (in person + postal).
    * ``table2`` – Biểu 2, *Tổng hợp số lượng hồ sơ giải quyết tại tất cả các lĩnh vực*,
      one row per procedure: columns (4)–(12) of the form, ``withdrawn`` (withdrawn /
      stopped, shown as (13)) and ``resolved_early`` (of (8), before the due day; not a
      column of the sheet); :data:`~transforms.report_tables.TABLE2` states the
      identities that must hold on every row.
    * ``table3`` – Biểu 3, *Kết quả thực hiện các kế hoạch*: plans (the number may be
      empty), their issue date, tasks planned and done, a note. May be empty.
    * ``table4`` – Biểu 4, *Số lượng thủ tục hành chính*, the 4 criteria of the seed,
      with ``share_pct`` in 0–100.
    * ``form06`` – Biểu 06/VPCP/KSTT (Circular 01/2020/TT-VPCP), one row per field. Here,
      as in the form, early, on time and late are disjoint: ``resolved_on_time`` counts
      only dossiers resolved on the due day (see the identities of
      :data:`~transforms.report_tables.FORM06`).
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
