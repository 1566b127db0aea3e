"""The vectorised screen in front of great_expectations (expectations/screen.py).

A screened batch must give exactly what GX gives on the whole batch: the same rows
failed, with the same reasons and severities, on frames carrying every kind of fault the
record, fact and event suites check. The audit sample is shrunk to a few rows so that GX
really sees fewer rows than the batch holds; and a screen that misses a row GX fails is
caught, whole batch or screened, as a table-level error that fails the suite."""

from __future__ import annotations

import json

import great_expectations.expectations as gxe
import numpy as np
import pandas as pd
import pytest
from helpers.bundle import dossier, procedure
from helpers.pure import merge, procedures_frame, records, with_end_kind

from expectations import gate, screen
from expectations.runner import validate
from motcua.sources.base import make_batch
from transforms import dim_agency, dim_procedure, fct_dossier_event, stg_dossier_snapshot

RUN_TIME = pd.Timestamp("2024-06-01")
N = 60  # dossiers per pattern below: 300 in all


def _lines() -> list[dict]:
    out = []
    for i in range(N):
        out += [
            dossier(f"A{i}", 9, "20190308100000", intake="20190304090000", due="20190311170000",
                    resolved="20190308100000", history=[(2, "20190304090000"), (9, "20190308100000")]),
            dossier(f"B{i}", 9, "20190312090000", intake="20190304090000", due="20190311170000",
                    resolved="20190312090000"),
            dossier(f"C{i}", 4, "20191220090000", procedure_code="1.000002", channel=2, intake="20191220090000"),
            dossier(f"D{i}", 7, "20190510090000", intake="20190502090000", due="20190509170000",
                    history=[(2, "20190502090000"), (7, "20190510090000")]),
            dossier(f"E{i}", 9, "20190705090000", procedure_code="1.999999", intake="20190701090000",
                    due="20190708170000", resolved="20190705090000"),
        ]
    return out


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    lines = _lines()
    procs = procedures_frame([procedure("1.000001", 5), procedure("1.000002", 3, level="toan_trinh")])
    recs = records(lines, procs)
    fct = with_end_kind(merge(pd.DataFrame(), recs))
    agencies = pd.DataFrame({"MaDonVi": ["A1", "S1"], "TenDonVi": ["Phòng", "Sở"], "MaDonViCha": ["S1", None],
                             "HieuLucTu": [None, None], "HieuLucDen": [None, None], "ThayTheBoi": [None, None]})
    texts = [json.dumps(x, ensure_ascii=False) for x in lines]
    raw = make_batch([f"f.jsonl:{i + 1}" for i in range(len(texts))], texts).to_pandas()
    raw["run_id"], raw["source"] = "r1", "bundle-test"
    _, history = stg_dossier_snapshot.build(raw)
    events = fct_dossier_event.build(history, recs[["record_id", "dossier_code"]])
    events["in_fct"] = events["dossier_code"].isin(fct["dossier_code"])
    return {"raw": raw, "records": recs, "fct": fct, "events": events,
            "dim_procedure": dim_procedure.build(procs), "dim_agency": dim_agency.build(agencies, set(fct["agency_code"]))}


@pytest.fixture
def small_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(screen, "AUDIT_ROWS", 3)


def _messy(name: str, t: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, dict]:
    """The table ``name`` with one of each fault its suite checks, and its context."""
    ctx: dict = {"run_time": RUN_TIME}
    if name == "raw_snapshot":
        df = t["raw"].copy()
        df.loc[10, "record"] = ""  # record_chars 0: critical
        df.loc[20, "locator"] = df.loc[21, "locator"]  # a repeated locator: warning
        df.loc[30, "run_id"] = None
        return df, ctx
    if name == "int_dossier_record":
        df = t["records"].copy()
        code = df.set_index("dossier_code").index
        for col in ("status_code", "channel_code"):
            df[col] = df[col].astype("float64")
        df.loc[code == "A3", "status_code"] = 42.0
        df.loc[code == "B4", "channel_code"] = 7.0
        df["due_source"] = df["due_source"].astype(object)
        df.loc[code == "A5", "due_source"] = "guessed"
        df.loc[code == "D6", "ended_at"] = pd.Timestamp("2019-01-01")
        df.loc[code == "B7", "intake_at"] = pd.NaT
        df.loc[code == "A8", "processing_working_days"] = -1
        return df, ctx  # E*: procedure not in the catalogue, a warning on 60 rows
    ctx_f = {**ctx, "dim_procedure": t["dim_procedure"], "dim_agency": t["dim_agency"]}
    if name == "fct_dossier":
        df = t["fct"].copy()
        df.loc[df["dossier_code"] == "B9", "resolution_class"] = "on_time"  # resolved a day late
        df.loc[df["dossier_code"] == "C9", "agency_code"] = "GHOST"
        df.loc[df["dossier_code"] == "D9", "ended_at"] = pd.Timestamp("2019-01-01")
        df = pd.concat([df, df[df["dossier_code"] == "A9"]], ignore_index=True)
        return df, ctx_f
    df = t["events"].copy()
    extra = df.iloc[[0, 0]].copy()
    extra.iloc[1, extra.columns.get_loc("dossier_code")] = "ORPHAN"
    df = pd.concat([df, extra], ignore_index=True)
    df["in_fct"] = df["dossier_code"].isin(t["fct"]["dossier_code"])
    df.loc[5, "seq"] = 0
    return df, ctx


@pytest.mark.parametrize("name", ["raw_snapshot", "int_dossier_record", "fct_dossier", "fct_dossier_event"])
def test_screened_batch_fails_the_same_rows_as_the_whole_batch(tables, small_audit, name):
    df, ctx = _messy(name, tables)
    mod = gate.SUITES[name]
    whole = validate(mod, df, ctx)
    screened = validate(mod, df, ctx, screen=True)
    assert not whole.success and whole.errors and not whole.table_errors, whole.first_failures()
    assert whole.checked == whole.rows == len(df)
    # GX saw only the flagged rows and the 3-row audit sample, and found the same
    flagged = len(set(whole.errors) | set(whole.warnings))
    assert screened.checked < whole.rows
    assert flagged <= screened.checked <= 2 * flagged + 3 + 2  # a repeated key flags both of its rows
    assert screened.errors == whole.errors
    assert screened.warnings == whole.warnings
    assert screened.success is whole.success and screened.table_errors == whole.table_errors


def test_the_gate_screens_every_batch_after_the_first(tables, small_audit, tmp_path):
    """check_batch sends the run's first batch to GX whole (its results are the data
    docs') and screens the next ones, with the same quarantine decisions."""
    import pyarrow as pa

    recs, _ = _messy("int_dossier_record", tables)
    raw = pa.Table.from_pandas(tables["raw"], preserve_index=False)
    first = gate.check_batch(raw, recs, RUN_TIME, results_dir=tmp_path)
    assert (tmp_path / "int_dossier_record.json").exists()
    second = gate.check_batch(raw, recs, RUN_TIME, results_dir=tmp_path)
    unscreened = gate.check_batch(raw, recs, RUN_TIME)
    pd.testing.assert_frame_equal(first[0], second[0])
    pd.testing.assert_frame_equal(first[0], unscreened[0])
    assert first[1:] == second[1:] == unscreened[1:]
    reasons = first[0].set_index("dossier_code")["quarantine_reason"].dropna()
    assert set(reasons.index) == {"A3", "B4", "A5", "D6", "B7", "A8"}
    assert first[1] == N  # the E* dossiers (procedure not in the catalogue): flagged, loaded


def test_a_screen_that_misses_a_failing_row_stops_the_suite(tables, small_audit, monkeypatch):
    df, ctx = _messy("fct_dossier", tables)
    mod = gate.SUITES["fct_dossier"]
    honest = validate(mod, df, ctx)
    failed = set(honest.errors) | set(honest.warnings)
    assert len(failed) == 4 + N  # B9, C9, D9, the repeated A9; the E* (unknown procedure)
    real = screen.could_fail

    def blind_to_unknown_procedures(exp, frame):  # noqa: ANN001, ANN202 - could_fail's signature
        m = real(exp, frame)
        return np.zeros(len(frame), dtype=bool) if getattr(exp, "column", None) == "procedure_in_dim" else m

    monkeypatch.setattr(screen, "could_fail", blind_to_unknown_procedures)
    whole = validate(mod, df, ctx)
    assert not whole.success and honest.success is False
    assert len(whole.table_errors) == 1 and f"the vectorised screen passed {N} row(s)" in whole.table_errors[0]
    # screened, the audit sample is what can catch such a bug: the 3 rows it takes here
    # are spread over the 296 rows the screen passed, so one of the 60 E* falls in it
    screened = validate(mod, df, ctx, screen=True)
    assert not screened.success and "the vectorised screen passed" in " ".join(screened.table_errors)


def test_could_fail_reads_only_the_kinds_it_knows():
    df = pd.DataFrame({"x": [1.0, None, 5.0, 5.0], "flag": [True, False, True, None]})
    assert screen.could_fail(gxe.ExpectColumnValuesToNotBeNull(column="x"), df).tolist() == [0, 1, 0, 0]
    assert screen.could_fail(gxe.ExpectColumnValuesToBeInSet(column="x", value_set=[1.0]), df).tolist() == [0, 0, 1, 1]
    assert screen.could_fail(gxe.ExpectColumnValuesToBeBetween(column="x", max_value=5.0, strict_max=True),
                             df).tolist() == [0, 0, 1, 1]
    assert screen.could_fail(gxe.ExpectColumnValuesToBeUnique(column="x"), df).tolist() == [0, 0, 1, 1]
    conditional = gxe.ExpectColumnValuesToNotBeNull(column="x", row_condition="flag==False", condition_parser="pandas")
    assert screen.could_fail(conditional, df).tolist() == [0, 1, 0, 0]
    # what it cannot read sends the batch to GX whole
    assert screen.could_fail(gxe.ExpectColumnMeanToBeBetween(column="x", min_value=0), df) is None
    assert screen.could_fail(gxe.ExpectColumnValuesToNotBeNull(column="x", mostly=0.5), df) is None
    assert screen.could_fail(gxe.ExpectColumnValuesToNotBeNull(column="missing"), df) is None
    odd = gxe.ExpectColumnValuesToNotBeNull(column="x", row_condition='flag=="a"', condition_parser="pandas")
    assert screen.could_fail(odd, df) is None
    assert screen.rows_to_check([gxe.ExpectColumnValuesToNotBeNull(column="x"),
                                 gxe.ExpectColumnMeanToBeBetween(column="x", min_value=0)], df) is None


def test_audit_sample_spreads_over_the_passed_rows():
    passed = np.array([True] * 10 + [False] * 5 + [True] * 10)
    sample = screen.audit_sample(passed, rows=4)
    assert not (sample & ~passed).any()
    assert 4 <= sample.sum() <= 5 and sample[:10].any() and sample[15:].any()
    assert not screen.audit_sample(np.zeros(3, dtype=bool)).any()
