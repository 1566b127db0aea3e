"""One path for the report: the scheduled ``annual_report`` deployment (the flow with
its schedule's parameters) and ``motcua report`` (which runs that flow) write the same
files into the same default folder, and record the same publication."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import sqlalchemy as sa
import yaml
from click.testing import CliRunner
from flow_cases import run_stages

from motcua.cli import main
from warehouse import schema
from warehouse.engine import make_engine

ROOT = Path(__file__).resolve().parents[2]


def _schedule_parameters() -> dict:
    """The parameters the annual_report deployment's schedule passes (prefect.yaml)."""
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    deployment = next(d for d in spec["deployments"] if d["name"] == "annual_report")
    return {**deployment.get("parameters", {}), **deployment["schedules"][0].get("parameters", {})}


def _files(folder: Path) -> dict[str, object]:
    """Every file under ``folder`` by relative path: its bytes, or for a workbook (whose
    zip carries the time it was written) every sheet's cell values."""
    out: dict[str, object] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path)
            out[str(path.relative_to(folder))] = {ws.title: list(ws.iter_rows(values_only=True)) for ws in book}
        else:
            out[str(path.relative_to(folder))] = path.read_bytes()
    return out


def _publications(url: str) -> tuple[list[dict], list[list[tuple]]]:
    """audit.publication rows (oldest first) and each one's dossier cells (code, cells)."""
    pub, rows = schema.publication, schema.publication_dossier
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            pubs = [dict(r._mapping) for r in conn.execute(sa.select(pub).order_by(pub.c.published_at))]
            cells = [sorted(tuple(v for k, v in r._mapping.items() if k != "publication_id")
                            for r in conn.execute(sa.select(rows).where(rows.c.publication_id == p["publication_id"])))
                     for p in pubs]
    finally:
        engine.dispose()
    return pubs, cells


def test_scheduled_run_and_command_write_the_same_report(bundles, prefect_api, tmp_path, monkeypatch):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    run_stages(url, tmp_path / "var", bundles["all"])
    params = _schedule_parameters()
    assert params["convention"] == "decree09"  # what the 16 December schedule publishes

    from flows.annual_report import annual_report

    scheduled_dir, command_dir = tmp_path / "scheduled", tmp_path / "command"
    annual_report(year=2019, warehouse=url, data_dir=str(scheduled_dir), **params)
    first, first_cells = _publications(url)
    assert len(first) == 1 and first_cells[0], "the scheduled run records its publication and dossiers"

    monkeypatch.setenv("MOTCUA_DATA_DIR", str(command_dir))
    result = CliRunner().invoke(main, ["report", "--year", "2019", "--convention", params["convention"],
                                       "--warehouse", url])
    assert result.exit_code == 0, result.output
    pubs, cells = _publications(url)

    folder = Path("reports") / "2019" / "decree09"
    scheduled, command = _files(scheduled_dir / folder), _files(command_dir / folder)
    assert "explain" in {Path(k).parts[0] for k in scheduled}, "the scheduled run writes the explain files"
    assert {"bao-cao-cchc-2019.xlsx", "bao-cao-cchc-2019.html", "thay-doi-so-lieu.txt"} <= set(scheduled)
    restated = "thay-doi-so-lieu.txt"
    assert {k: v for k, v in scheduled.items() if k != restated} == {k: v for k, v in command.items() if k != restated}
    assert "Lần công bố đầu tiên" in scheduled[restated].decode("utf-8")
    assert "Không có ô số liệu nào thay đổi" in command[restated].decode("utf-8")

    # the same publication, twice: same report key, same figures, same dossiers' cells
    assert len(pubs) == 2
    key = ("year", "convention", "agency_scope")
    assert [tuple(p[k] for k in key) for p in pubs] == [(2019, "decree09", first[0]["agency_scope"])] * 2
    assert json.loads(pubs[1]["figures"]) == json.loads(first[0]["figures"]) != {}
    assert cells[1] == first_cells[0]
