"""The expectation suites, one per table, on small frames built by the pure path: clean
tables pass; each kind of fault is caught on the row that has it, with the right
severity (critical = error, warning = flag only) and the offending values."""

from __future__ import annotations

import importlib
import json

import pandas as pd
import pytest
from helpers.bundle import dossier, procedure
from helpers.pure import merge, procedures_frame, records, with_end_kind

from expectations import gate
from expectations.runner import validate
from motcua.sources.base import make_batch
from transforms import (
    dim_agency,
    dim_procedure,
    fct_dossier_event,
    mart_dossier_intake,
    mart_dossier_resolution,
    mart_indicator,
    stg_dossier_snapshot,
)
from transforms.report_tables import TABLE2

RUN_TIME = pd.Timestamp("2024-06-01")
TABLES = ["raw_snapshot", "int_dossier_record", "dim_procedure", "dim_agency", "fct_dossier", "fct_dossier_event",
          "mart_dossier_resolution", "mart_dossier_intake", "mart_indicator"]

LINES = [
    dossier("D1", 9, "20190308100000", intake="20190304090000", due="20190311170000", resolved="20190308100000",
            history=[(2, "20190304090000"), (9, "20190308100000")]),
    dossier("D2", 9, "20190312090000", intake="20190304090000", due="20190311170000", resolved="20190312090000"),
    dossier("D3", 4, "20191220090000", procedure_code="1.000002", channel=2, intake="20191220090000"),
    dossier("D4", 7, "20190510090000", intake="20190502090000", due="20190509170000",
            history=[(2, "20190502090000"), (7, "20190510090000")]),
    dossier("D5", 9, "20190705090000", procedure_code="1.999999", intake="20190701090000", due="20190708170000",
            resolved="20190705090000"),
]


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    procs = procedures_frame([procedure("1.000001", 5), procedure("1.000002", 3, level="toan_trinh")])
    recs = records(LINES, procs)
    assert recs["quarantine_reason"].isna().all(), recs["quarantine_reason"].tolist()
    fct = with_end_kind(merge(pd.DataFrame(), recs))
    dim_proc = dim_procedure.build(procs)
    agencies = pd.DataFrame({"MaDonVi": ["A1", "S1"], "TenDonVi": ["Phòng", "Sở"], "MaDonViCha": ["S1", None],
                             "HieuLucTu": [None, None], "HieuLucDen": [None, None], "ThayTheBoi": [None, None]})
    dim_ag = dim_agency.build(agencies, set(fct["agency_code"]))
    texts = [json.dumps(x, ensure_ascii=False) for x in LINES]
    raw = make_batch([f"f.jsonl:{i + 1}" for i in range(len(texts))], texts).to_pandas()
    raw["run_id"], raw["source"] = "r1", "bundle-test"
    staged, history = stg_dossier_snapshot.build(raw)
    winners = pd.DataFrame({"record_id": recs["record_id"], "dossier_code": recs["dossier_code"]})
    events = fct_dossier_event.build(history, winners)
    events["in_fct"] = events["dossier_code"].isin(fct["dossier_code"])  # the warehouse's join, see gate.event_frames
    counts = mart_dossier_resolution.counts_all_periods(fct, mart_dossier_resolution.KEYS)
    resolution = mart_dossier_resolution.build(fct, dim_proc)
    intake = mart_dossier_intake.build(fct, dim_proc, counts=counts)
    indicators = mart_indicator.build(counts, fct, dim_ag, dim_proc)
    return {"raw_snapshot": raw, "int_dossier_record": recs, "dim_procedure": dim_proc, "dim_agency": dim_ag,
            "fct_dossier": fct, "fct_dossier_event": events, "mart_dossier_resolution": resolution,
            "mart_dossier_intake": intake, "mart_indicator": indicators}


def _context(name: str, t: dict[str, pd.DataFrame]) -> dict:
    ctx: dict = {"run_time": RUN_TIME}
    if name == "fct_dossier":
        ctx.update(dim_procedure=t["dim_procedure"], dim_agency=t["dim_agency"])
    if name == "mart_dossier_intake":
        ctx["resolution"] = t["mart_dossier_resolution"]
    return ctx


def _reasons(outcome, key) -> str:  # noqa: ANN001 - an Outcome
    return " ".join(outcome.errors.get(key, []) + outcome.warnings.get(key, []))


def test_one_suite_per_table_named_after_it():
    for name in TABLES:
        mod = importlib.import_module(f"expectations.{name}")
        assert name == mod.SUITE_NAME
        assert mod.ID_COLUMNS and callable(mod.prepare) and mod.expectations()
        assert gate.SUITES[name] is mod


@pytest.mark.parametrize("name", TABLES)
def test_clean_tables_pass(tables, name):
    mod = gate.SUITES[name]
    out = validate(mod, tables[name], _context(name, tables))
    assert out.success and not out.errors and not out.table_errors, out.first_failures()
    if name == "fct_dossier":  # the unknown procedure counts, flagged: a warning, not an error
        assert list(out.warnings) == [("D5",)]
        assert "procedure_code '1.999999' not in dim_procedure" in _reasons(out, ("D5",))


def test_validate_without_context_still_works(tables):
    assert validate(gate.SUITES["fct_dossier"], tables["fct_dossier"]).success


def test_dimension_faults(tables):
    proc = pd.concat([tables["dim_procedure"], tables["dim_procedure"].iloc[[0]]], ignore_index=True)
    proc.loc[1, "valid_to"] = pd.Timestamp("1800-01-01")
    proc.loc[1, "service_level"] = "9"
    out = validate(gate.SUITES["dim_procedure"], proc)
    assert not out.success
    assert "expect_compound_columns_to_be_unique" in _reasons(out, ("1.000001", "1900-01-01T00:00:00"))
    assert "after valid_to 1800-01-01" in _reasons(out, ("1.000002", "1900-01-01T00:00:00"))
    assert ("1.000002", "1900-01-01T00:00:00") in out.warnings  # the level 9: a warning
    ag = tables["dim_agency"].copy()
    ag.loc[ag["agency_code"] == "A1", "parent_code"] = "NOPE"
    out = validate(gate.SUITES["dim_agency"], ag)
    assert out.success and "parent NOPE is not an agency" in " ".join(sum(out.warnings.values(), []))


def test_fact_faults(tables):
    fct = tables["fct_dossier"].copy()
    fct.loc[fct["dossier_code"] == "D2", "resolution_class"] = "on_time"  # resolved a day late
    fct.loc[fct["dossier_code"] == "D3", "agency_code"] = "GHOST"
    fct.loc[fct["dossier_code"] == "D4", "ended_at"] = pd.Timestamp("2019-01-01")
    fct = pd.concat([fct, fct[fct["dossier_code"] == "D1"]], ignore_index=True)
    ctx = _context("fct_dossier", tables)
    out = validate(gate.SUITES["fct_dossier"], fct, ctx)
    assert not out.success
    assert "on_time but f=2019-03-12 u=2019-03-11 gives late" in _reasons(out, ("D2",))
    assert "agency_code GHOST not in dim_agency" in _reasons(out, ("D3",))
    assert "expect_column_pair_values_a_to_be_greater_than_b" in _reasons(out, ("D4",))
    assert "expect_column_values_to_be_unique(dossier_code)" in _reasons(out, ("D1",))
    assert ("D5",) in out.warnings and ("D5",) not in out.errors


def test_event_faults(tables):
    ev = tables["fct_dossier_event"].copy()
    extra = ev.iloc[[0, 0]].copy()
    extra.iloc[1, extra.columns.get_loc("dossier_code")] = "ORPHAN"
    both = pd.concat([ev, extra], ignore_index=True)
    both["in_fct"] = both["dossier_code"].isin(tables["fct_dossier"]["dossier_code"])
    out = validate(gate.SUITES["fct_dossier_event"], both, _context("fct_dossier_event", tables))
    assert not out.success
    assert "dossier not in fct_dossier" in _reasons(out, ("ORPHAN", 1.0))
    assert "expect_compound_columns_to_be_unique" in _reasons(out, (ev.iloc[0]["dossier_code"], 1.0))


def test_resolution_mart_identities_and_totals(tables):
    res = tables["mart_dossier_resolution"].copy()
    year = (res["period_type"] == "year") & (pd.to_datetime(res["period_start"]).dt.year == 2019)
    row = res[year & (res["procedure_code"] == "1.000001")].index[0]
    res.loc[row, "received_total"] += 1  # breaks (4)=(5)+(6) and (4)=(7)+(10)+withdrawn
    res.loc[row, "withdrawn"] += 2  # the year no longer equals the sum of its months
    out = validate(gate.SUITES["mart_dossier_resolution"], res)
    assert not out.success
    key = ("year", "2019-01-01", "A1", "1.000001")
    text = _reasons(out, key)
    assert "identity_4_eq_5_plus_6" in text and "identity_4_eq_7_plus_10_plus_withdrawn" in text
    assert "withdrawn: year 3 vs sum of months 1" in text
    assert len(out.errors) == 1


def test_resolution_suite_checks_exactly_the_described_identities():
    """One expectation per identity and bound of table 2's description, none other."""
    exps = gate.SUITES["mart_dossier_resolution"].expectations()
    zero = {e.column for e in exps if getattr(e, "value_set", None) == [0.0]}
    true = {e.column for e in exps if getattr(e, "value_set", None) == [True]}
    assert zero == {TABLE2.identity_name(i) for i in TABLE2.identities} == {
        "identity_4_eq_5_plus_6", "identity_7_eq_8_plus_9", "identity_10_eq_11_plus_12",
        "identity_4_eq_7_plus_10_plus_withdrawn"}
    assert true == {b.name for b in TABLE2.bounds} == {"early_not_above_on_time"}


def test_intake_and_indicator_marts(tables):
    intake = tables["mart_dossier_intake"].copy()
    intake.loc[0, "received_online"] += 5
    out = validate(gate.SUITES["mart_dossier_intake"], intake, _context("mart_dossier_intake", tables))
    assert not out.success and any("but new (6)" in r for rs in out.errors.values() for r in rs)
    ind = tables["mart_indicator"].copy()
    on_time = ind.index[(ind["indicator_code"] == "on_time_rate") & (ind["denominator"] > 0)][0]
    ind.loc[on_time, "value"] = 0.123
    early = ind.index[ind["indicator_code"] == "early_rate"][0]
    ind.loc[early, ["numerator", "denominator", "value"]] = [3.0, 2.0, 1.5]
    out = validate(gate.SUITES["mart_indicator"], ind)
    assert not out.success
    texts = " ".join(sum(out.errors.values(), []))
    assert "value 0.123 !=" in texts and "rate 1.5 outside [0, 1]" in texts and "numerator 3.0 above" in texts


def test_raw_snapshot_faults(tables):
    raw = tables["raw_snapshot"].copy()
    raw.loc[1, "record"] = ""
    raw.loc[2, "locator"] = raw.loc[3, "locator"]
    out = validate(gate.SUITES["raw_snapshot"], raw)
    assert list(out.errors) == [(1,)]
    assert set(out.warnings) == {(2,), (3,)}


def test_record_gate_quarantines_critical_and_counts_flags(tables):
    raw = pa_table(tables["raw_snapshot"])
    recs = tables["int_dossier_record"].copy()
    recs["due_source"] = recs["due_source"].astype(object)
    recs.loc[recs["dossier_code"] == "D2", "due_source"] = "guessed"
    recs.loc[recs["dossier_code"] == "D1", "quarantine_reason"] = "invalid_json: kept"
    out, flagged, table_errors = gate.check_batch(raw, recs, RUN_TIME)
    reasons = out.set_index("dossier_code")["quarantine_reason"]
    assert reasons["D1"] == "invalid_json: kept"  # the rules' reason comes first and stays
    assert reasons["D2"].startswith("expectation: int_dossier_record.expect_column_values_to_be_in_set(due_source)")
    assert '"guessed"' in reasons["D2"]
    assert pd.isna(reasons["D3"]) and pd.isna(reasons["D5"])
    assert flagged == 1 and not table_errors  # D5: procedure not in the catalogue


def pa_table(df: pd.DataFrame):  # noqa: ANN201 - a pyarrow Table
    import pyarrow as pa

    return pa.Table.from_pandas(df, preserve_index=False)
