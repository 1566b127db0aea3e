"""The annual report's counts, batch by batch: each batch of facts classified per
dossier (:func:`classify`, the same counting code as the marts) and added up
(:class:`ReportCounts`). Pure: frames in, frames out; the batches come from
:class:`warehouse.report_scan.FactScan`.

Grain: :func:`classify` gives one row per dossier of the batch that counts anywhere in
the period; :class:`ReportCounts` holds one row per (agency, procedure), per month and
per number of working days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from transforms import period_counts, periods
from transforms.mart_indicator import processing_days_histogram, rollup_map

SCOPE = "*"
"""The agency code of a whole report's scope (every agency collapsed into one)."""
REPORT_FCT_COLUMNS = [
    "dossier_code", "agency_code", "procedure_code", "procedure_name_recorded", "is_received", "intake_at",
    "ended_at", "due_date", "resolved_at", "withdrawn_at", "resolution_class", "channel_code", "rating",
    "paid_online", "digitised", "processing_working_days", "applicant_pseudonym",
]
"""The fct_dossier columns reports and explanations use."""

Sink = Callable[[pd.DataFrame, pd.DataFrame], None]
"""Sees each batch of a report's pass: ``(facts, per-dossier counts)`` (see :func:`classify`)."""


def period_of(year: int, convention: str) -> tuple[dt.date, dt.date]:
    """The closed reporting period of ``year`` under ``convention``."""
    return periods.bounds(year, "year", 1, convention)


def single_period(start: dt.date, end: dt.date) -> pd.DataFrame:
    """A period grid of one period, [start, end]."""
    return pd.DataFrame({"period_start": [pd.Timestamp(start)], "period_end": [pd.Timestamp(end)]}).astype(
        "datetime64[us]")


@dataclass
class Scope:
    """What a report reads besides the facts: the two dimensions in the agency scope,
    ``names`` (how often each procedure code was recorded under each name, over every
    fact in scope), ``members`` (the agency codes in scope; None = every agency) and
    ``indicator_names`` (``core.dim_indicator``'s Vietnamese name of each indicator code)."""

    dim_procedure: pd.DataFrame
    dim_agency: pd.DataFrame
    names: pd.DataFrame
    members: set[str] | None
    indicator_names: dict[str, str] = field(default_factory=dict)


def agency_members(dim_procedure: pd.DataFrame, dim_agency: pd.DataFrame, fact_agencies: Sequence[str],
                   agency: str | None) -> set[str] | None:
    """Agency codes at or under ``agency`` (as it was or today); None = everything."""
    if not agency:
        return None
    codes = pd.concat([pd.Series(sorted(fact_agencies), dtype="string"), dim_procedure["agency_code"],
                       dim_agency["agency_code"]])
    ru = rollup_map(dim_agency, codes.dropna())
    members = set(ru.loc[ru["rollup_code"] == agency, "agency_code"])
    if not members:
        raise ValueError(f"unknown agency {agency!r}: not in core.dim_agency nor on any dossier")
    return members


def classify(fct: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Per dossier of ``fct`` that counts anywhere in [start, end]: ``dossier_code,
    procedure_code, agency_code``, every :data:`period_counts.MEASURES` (0 or 1) and the
    totals (4), (7), (10), counted by :func:`period_counts.count`."""
    per = period_counts.add_totals(period_counts.count(fct, single_period(start, end), ["dossier_code"]))
    where = fct.set_index("dossier_code")[["procedure_code", "agency_code"]].reindex(per["dossier_code"])
    per.insert(1, "procedure_code", where["procedure_code"].to_numpy())
    per.insert(2, "agency_code", where["agency_code"].to_numpy())
    return per


def no_facts() -> pd.DataFrame:
    """An empty batch of facts with the :data:`REPORT_FCT_COLUMNS` types."""
    cols = {c: pd.Series(dtype="string") for c in REPORT_FCT_COLUMNS}
    for c in ("intake_at", "ended_at", "due_date", "resolved_at", "withdrawn_at"):
        cols[c] = pd.Series(dtype="datetime64[us]")
    cols["is_received"] = pd.Series(dtype="boolean")
    cols["end_kind"] = pd.Series(dtype="object")
    return pd.DataFrame(cols)


@dataclass
class ReportCounts:
    """The report's sums over every batch: per (agency, procedure), per month, the
    processing-days histograms (of the scope, and by working days)."""

    start: dt.date
    end: dt.date
    convention: str
    by_group: list[pd.DataFrame] = field(default_factory=list)
    monthly: list[pd.DataFrame] = field(default_factory=list)
    scope_days: list[pd.DataFrame] = field(default_factory=list)
    days: list[pd.Series] = field(default_factory=list)

    def add(self, fct: pd.DataFrame, per: pd.DataFrame) -> None:
        """Add one batch: its facts and their :func:`classify`."""
        measures = [*period_counts.MEASURES, *period_counts.TOTALS]
        self.by_group.append(per.groupby(["agency_code", "procedure_code"], as_index=False)[measures].sum())
        months = periods.grid(self.start, self.end, "month", self.convention)
        self.monthly.append(period_counts.count(fct.assign(_all=SCOPE), months, ["_all"]))
        grid = single_period(self.start, self.end).assign(period_type="report")
        self.scope_days.append(processing_days_histogram(fct.assign(agency_code=SCOPE), grid))
        f = fct[fct["is_received"].astype(bool) & fct["resolved_at"].notna()
                & (fct["resolved_at"] >= pd.Timestamp(self.start))
                & (fct["resolved_at"] < pd.Timestamp(self.end) + pd.Timedelta(days=1))]
        self.days.append(f["processing_working_days"].dropna().astype(int).value_counts())

    def groups(self) -> pd.DataFrame:
        """Sums per (agency_code, procedure_code), with the period columns."""
        cols = ["agency_code", "procedure_code", *period_counts.MEASURES, *period_counts.TOTALS]
        parts = [p for p in self.by_group if not p.empty]
        g = (pd.concat(parts, ignore_index=True).groupby(["agency_code", "procedure_code"], as_index=False).sum()
             if parts else pd.DataFrame({c: pd.Series(dtype="int64") for c in cols}))
        g.insert(2, "period_start", pd.Timestamp(self.start).as_unit("us"))
        g.insert(3, "period_end", pd.Timestamp(self.end).as_unit("us"))
        return g

    def by(self, key: str) -> pd.DataFrame:
        """Sums per ``key`` (``procedure_code`` or ``agency_code``) in key order."""
        g = self.groups()
        out = g.drop(columns=[c for c in ("agency_code", "procedure_code") if c != key]).groupby(
            [key, "period_start", "period_end"], as_index=False).sum()
        return out.sort_values(key).reset_index(drop=True)

    def months(self) -> pd.DataFrame:
        """Sums per month of the period, in month order."""
        parts = [p for p in self.monthly if not p.empty]
        if not parts:
            return pd.DataFrame({c: [] for c in ["period_start", "received_online", "received_offline"]})
        return pd.concat(parts, ignore_index=True).groupby(["period_start", "period_end"], as_index=False)[
            period_counts.MEASURES].sum().sort_values("period_start").reset_index(drop=True)

    def processing_days(self) -> pd.DataFrame:
        """Dossiers resolved in the period per number of working days taken."""
        parts = [p for p in self.days if not p.empty]
        hist = (pd.concat(parts).groupby(level=0).sum().sort_index() if parts else pd.Series(dtype="int64"))
        return pd.DataFrame({"working_days": hist.index.to_numpy(dtype="int64"), "dossiers": hist.to_numpy(dtype="int64")})
