"""`motcua quarantine list|show|retry`: counts by reason and source, the raw record and
full reason, and a retry after a fix that loads a record exactly once (fact, events,
marts), resolves its quarantine row, and changes nothing when run again; corrected
lines from a file; records that still fail keep their new reason."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from helpers.bundle import dossier, procedure, read_table, run_pipeline, write_bundle

from motcua.cli import main

P = "1.000001"
UNKNOWN = "1.777777"
R = "20190304090000"
SNAPSHOTS = [
    dossier("G1", 9, "20190308100000", intake=R, due="20190311170000", resolved="20190308100000",
            history=[(2, R), (9, "20190308100000")]),
    # unknown procedure and no due: quarantined until the catalogue has it
    dossier("X1", 9, "20190308100000", procedure_code=UNKNOWN, intake=R, resolved="20190308100000",
            history=[(2, R), (4, "20190305100000"), (9, "20190308100000")]),
    dossier("X2", 42, "20190305100000", intake=R, due="20190311170000"),
    dossier("X3", 4, "20190305100000", channel=9, intake=R, due="20190311170000"),
]
MARTS = ("mart.dossier_resolution", "mart.dossier_intake", "mart.indicator")


@pytest.fixture(autouse=True)
def _database_lock_only(monkeypatch):
    """The retry is a flow; when a Prefect API is configured (the session's test server,
    which has no global concurrency limit) it relies on the database lock alone."""
    monkeypatch.setenv("MOTCUA_WRITE_LIMIT", "off")


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("quarantine")
    bundle = write_bundle(tmp / "bundle", SNAPSHOTS, procedures=[procedure(P, 5)])
    url = f"duckdb:///{tmp / 'wh.duckdb'}"
    run_pipeline(bundle, url, tmp / "var", validate=False, quarantine_threshold=1.0)
    return {"url": url, "data_dir": str(tmp / "var"), "tmp": tmp}


def cli(wh, *args: str) -> str:  # noqa: ANN001
    extra = ["--data-dir", wh["data_dir"]] if args[0] == "retry" else []
    result = CliRunner().invoke(main, ["quarantine", *args, "--warehouse", wh["url"], *extra])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def _year_2019(url: str, code: str) -> pd.Series:
    res = read_table(url, "mart.dossier_resolution")
    row = res[(res["period_type"] == "year") & (pd.to_datetime(res["period_start"]).dt.year == 2019)
              & (res["procedure_code"] == code)]
    return row.iloc[0] if len(row) else pd.Series(dtype=object)


def test_list_counts_by_reason_and_source(wh):
    out = json.loads(cli(wh, "list", "--json"))
    counts = {r["reason"]: r["open"] for r in out}
    assert counts == {"due_not_computable": 1, "status_out_of_table": 1, "channel_out_of_table": 1}
    assert all(r["source"].startswith("bundle-") for r in out)
    text = cli(wh, "list")
    assert "due_not_computable" in text and "3 open" in text


def test_show_by_id_prefix_and_by_reason(wh):
    q = read_table(wh["url"], "audit.quarantine").set_index("dossier_code")
    qid = q.loc["X2", "quarantine_id"]
    out = cli(wh, "show", qid[:10])
    assert qid in out and "status_out_of_table: TrangThaiHoSo=42" in out
    assert '"MaHoSo": "X2"' in out  # the raw record as read
    out = cli(wh, "show", "--reason", "due_not", "--limit", "5")
    assert "X1" in out and f"MaTTHC={UNKNOWN}" in out and "X2" not in out
    bad = CliRunner().invoke(main, ["quarantine", "show", "--warehouse", wh["url"]])
    assert bad.exit_code != 0


def test_retry_after_catalogue_fix_loads_once(wh):
    url = wh["url"]
    assert "X1" not in set(read_table(url, "core.fct_dossier")["dossier_code"])
    assert _year_2019(url, UNKNOWN).empty
    # the fix: the catalogue (the warehouse's dimension) now has the procedure
    from warehouse.engine import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO core.dim_procedure (procedure_code, valid_from, procedure_name, "
                             "agency_code, processing_days, is_published, is_one_stop, is_inter_agency) VALUES "
                             f"('{UNKNOWN}', DATE '1900-01-01', 'Thủ tục mới', 'A1', 5, true, true, false)"))
    engine.dispose()
    marks = read_table(url, "audit.source_state")
    out = cli(wh, "retry", "--reason", "due_not_computable")
    assert "1 record(s) retried, 1 loaded and resolved" in out and "marts rebuilt" in out
    fct = read_table(url, "core.fct_dossier")
    assert (fct["dossier_code"] == "X1").sum() == 1
    x1 = fct.set_index("dossier_code").loc["X1"]
    assert x1["due_source"] == "computed" and x1["resolution_class"] == "early"
    events = read_table(url, "core.fct_dossier_event")
    assert (events["dossier_code"] == "X1").sum() == 3
    row = _year_2019(url, UNKNOWN)
    assert (int(row["received_new"]), int(row["resolved_total"])) == (1, 1)
    q = read_table(url, "audit.quarantine").set_index("dossier_code")
    assert pd.notna(q.loc["X1", "resolved_run_id"])
    assert q.loc[["X2", "X3"], "resolved_run_id"].isna().all()
    runs = read_table(url, "audit.run").set_index("run_id")
    assert runs.loc[q.loc["X1", "resolved_run_id"], "status"] == "completed"
    # a run of the normal stages, under the retry's flow name, for the record's own source;
    # it reads no source, so no watermark moves
    retry_run = runs.loc[q.loc["X1", "resolved_run_id"]]
    assert (retry_run["flow"], retry_run["source"]) == ("quarantine-retry", q.loc["X1", "source"])
    assert (Path(wh["data_dir"]) / "runs" / retry_run.name / "records").is_dir()  # staged by the stage step
    pd.testing.assert_frame_equal(read_table(url, "audit.source_state"), marks)
    assert json.loads(cli(wh, "list", "--json")) and "due_not_computable" not in cli(wh, "list")

    # again: nothing to retry, nothing changes
    before = {t: read_table(url, t) for t in ("core.fct_dossier", *MARTS)}
    assert "nothing to retry" in cli(wh, "retry", "--reason", "due_not_computable")
    for t, df in before.items():
        pd.testing.assert_frame_equal(read_table(url, t), df)


def test_retry_with_corrected_lines(wh):
    url = wh["url"]
    fixed = dossier("X3", 4, "20190305100000", channel=1, intake=R, due="20190311170000")
    still_bad = dossier("X2", 43, "20190305100000", intake=R, due="20190311170000")
    path = wh["tmp"] / "fixed.jsonl"
    path.write_text(json.dumps(fixed, ensure_ascii=False) + "\n" + json.dumps(still_bad) + "\n", encoding="utf-8")
    out = cli(wh, "retry", "--from-file", str(path))
    assert "2 record(s) retried, 1 loaded and resolved" in out and "1 still quarantined" in out
    fct = read_table(url, "core.fct_dossier").set_index("dossier_code")
    assert fct.loc["X3", "channel_code"] == 1
    q = read_table(url, "audit.quarantine").set_index("dossier_code")
    assert pd.notna(q.loc["X3", "resolved_run_id"])
    assert pd.isna(q.loc["X2", "resolved_run_id"])
    assert q.loc["X2", "reason"] == "status_out_of_table: TrangThaiHoSo=43"
    assert json.loads(q.loc["X2", "record"])["TrangThaiHoSo"] == 43
    listed = json.loads(cli(wh, "list", "--all", "--json"))
    assert sum(r["open"] for r in listed) == 1 and sum(r["resolved"] for r in listed) == 2
    # a corrected line for a dossier that is not quarantined is refused, nothing changes
    other = wh["tmp"] / "other.jsonl"
    other.write_text(json.dumps(dossier("NOPE", 4, "20190305100000")) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["quarantine", "retry", "--from-file", str(other), "--warehouse", url,
                                       "--data-dir", wh["data_dir"]])
    assert result.exit_code != 0 and "matches 0 open quarantined records" in result.output
