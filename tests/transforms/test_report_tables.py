"""The description of the published tables is the single source of their identities: it
is consistent with itself, and an identity added to it is checked, with no other change,
by the renderer's checks, by ``check-report`` and by the mart suite (and an identity it
does not have is checked by none of them)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from expectations import gate
from expectations.runner import validate
from motcua.reconcile.check import check
from motcua.report import ReportTables, check_tables
from transforms import period_counts
from transforms.report_tables import AGREEMENTS, TABLE1, TABLE2, TABLES, Identity, table

# (10) = (12): false wherever a dossier is open and not yet due
EXTRA = Identity("pending_total", ("pending_overdue",))
COUNTS = dict(received_total=5, carried_over=1, received_new=4, resolved_total=3, resolved_on_time=2, resolved_late=1,
              pending_total=2, pending_not_due=1, pending_overdue=1, withdrawn=0, resolved_early=1)


@contextmanager
def with_identity(identity: Identity) -> Iterator[None]:
    """Table 2's description with ``identity`` added (restored afterwards)."""
    before = TABLE2.identities
    object.__setattr__(TABLE2, "identities", (*before, identity))
    try:
        yield
    finally:
        object.__setattr__(TABLE2, "identities", before)


def test_the_description_is_consistent() -> None:
    assert [t.frame for t in TABLES] == ["table1", "table2", "table3", "table4", "form06", "indicators"]
    for t in TABLES:
        keys = [c.key for c in t.columns]
        assert len(keys) == len(set(keys)), t.frame
        assert t.printed[0].kind == "stt" and t.printed[0].header
        for i, c in enumerate(t.printed, 1):  # a column's number in the form is where it is printed
            assert c.number in (None, i), (t.frame, c.key)
        for ident in t.identities:
            assert all(t[k].dtype == "count" for k in (ident.total, *ident.parts)), ident
        for b in t.bounds:
            assert t[b.lesser].dtype == t[b.greater].dtype == "count", b
    for a in AGREEMENTS:
        assert all(table(a.other)[p].dtype == "count" for p in a.parts) and table(a.table)[a.total].dtype == "count"
    assert [TABLE2.identity_text(i) for i in TABLE2.identities] == [
        "(4) = (5) + (6)", "(7) = (8) + (9)", "(10) = (11) + (12)", "(4) = (7) + (10) + withdrawn"]
    # the totals the counting adds are each defined once, by an identity of table 2
    assert period_counts.TOTALS == ("received_total", "resolved_total", "pending_total")


def test_publications_record_the_printed_counts_of_tables_1_and_2() -> None:
    """The bit order of a publication's cells is frozen (revision 0005), so it is a list of
    its own; it must name exactly the counts tables 1 and 2 print."""
    from transforms.rpt_restatement import FIGURE_COLUMNS

    printed = [c.key for t in (TABLE2, TABLE1) for c in t.printed if c.dtype == "count"]
    assert list(FIGURE_COLUMNS) == printed


def _tables() -> ReportTables:
    t2 = pd.DataFrame([dict(procedure_code="1.000001", procedure_name="Thủ tục A", field_name="F", **COUNTS)])
    t1 = pd.DataFrame([dict(procedure_code="1.000001", procedure_name="Thủ tục A", service_level=3, service_url="",
                            received_online=1, received_offline=3)])
    return ReportTables(title="Báo cáo", year=2019, period_start=dt.date(2019, 1, 1),
                        period_end=dt.date(2019, 12, 31), agency_name="Sở", table1=t1, table2=t2)


def _published(path: Path, counts: dict[str, int] = COUNTS) -> Path:
    """Table 2 laid out as printed, its one row and total row = ``counts``."""
    head = [["STT", "Tên TTHC", "Lĩnh vực", "Số hồ sơ nhận giải quyết", "", "", "Kết quả giải quyết", "", "", "", "",
             "", "Rút hồ sơ / dừng xử lý"],
            ["", "", "", "Tổng số", "Số kỳ trước chuyển qua", "Số mới tiếp nhận", "Tổng số", "Trả đúng thời hạn",
             "Trả quá hạn", "Tổng số", "Chưa đến hạn", "Quá hạn", ""],
            [f"({i})" for i in range(1, 14)]]
    values = [str(counts[c.key]) for c in TABLE2.printed if c.dtype == "count"]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([*head, ["1", "Thủ tục A", "F", *values], ["", "Tổng cộng", "", *values]])
    return path


def _mart() -> pd.DataFrame:
    """mart.dossier_resolution for one procedure: January and the year, the same counts."""
    rows = [dict(period_type=kind, period_start=pd.Timestamp("2019-01-01"), period_end=pd.Timestamp(end),
                 agency_code="A1", procedure_code="1.000001", procedure_name="Thủ tục A", field_name="F", **COUNTS)
            for kind, end in (("month", "2019-01-31"), ("year", "2019-12-31"))]
    return pd.DataFrame(rows)


def _suite_identity_columns() -> set[str]:
    columns = (getattr(e, "column", "") for e in gate.SUITES["mart_dossier_resolution"].expectations())
    return {c for c in columns if c.startswith("identity_")}


def test_an_identity_added_to_the_description_is_checked_everywhere(tmp_path: Path) -> None:
    published = _published(tmp_path / "bieu2.csv")
    suite = gate.SUITES["mart_dossier_resolution"]
    # without it, the tables are sound for everyone
    assert check_tables(_tables()) == []
    assert check(published).ok, check(published).faults
    assert validate(suite, _mart()).success
    assert "identity_10_eq_12" not in _suite_identity_columns()

    with with_identity(EXTRA):
        assert "table2: pending_total != pending_overdue in row(s) ['1.000001 Thủ tục A']" in check_tables(_tables())
        faults = [f.message for f in check(published).faults]
        assert faults == ["row 1: (10) = (12) fails: 2 ≠ 1 = 1", "row total: (10) = (12) fails: 2 ≠ 1 = 1"]
        assert _suite_identity_columns() == {TABLE2.identity_name(i) for i in TABLE2.identities}
        out = validate(suite, _mart())
        assert not out.success
        reasons = " ".join(sum(out.errors.values(), []))
        assert "identity_10_eq_12" in reasons and "identity_4_eq_5_plus_6" not in reasons
        assert len(out.errors) == 2  # the month row and the year row

    assert check_tables(_tables()) == [] and check(published).ok and validate(suite, _mart()).success


@pytest.mark.parametrize("column", ["received_new", "pending_not_due", "withdrawn"])
def test_a_broken_row_fails_the_same_identities_everywhere(tmp_path: Path, column: str) -> None:
    """The other way round: one count off by one, and the renderer's checks,
    ``check-report`` and the suite find the same identities of the description failing."""
    broken = {**COUNTS, column: COUNTS[column] + 1}
    failing = [i for i in TABLE2.identities if column in i.parts]
    assert failing
    t = _tables()
    t1 = t.table1.assign(received_offline=t.table1["received_offline"] + (column == "received_new"))
    problems = check_tables(dataclasses.replace(t, table1=t1, table2=t.table2.assign(**{column: broken[column]})))
    assert problems == [f"table2: {i.total} != {' + '.join(i.parts)} in row(s) ['1.000001 Thủ tục A']"
                        for i in failing]
    faults = check(_published(tmp_path / "bieu2.csv", broken)).faults
    assert [f.message.split(" fails")[0] for f in faults if f.kind == "identity"] == [
        f"row {row}: {TABLE2.identity_text(i)}" for row in ("1", "total") for i in failing]
    out = validate(gate.SUITES["mart_dossier_resolution"], _mart().assign(**{column: broken[column]}))
    reasons = " ".join(sum(out.errors.values(), []))
    assert [TABLE2.identity_name(i) for i in TABLE2.identities if TABLE2.identity_name(i) in reasons] == [
        TABLE2.identity_name(i) for i in failing]
