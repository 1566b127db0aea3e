"""Publishing a report records its figures; after a late correction the next report names
the cells that changed, by how much and because of which dossier. On both engines: the
comparison is a full outer join in the warehouse."""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner
from helpers.bundle import dossier, run_pipeline, write_bundle
from helpers.warehouses import fresh_postgres_database, warehouse_url  # noqa: F401

from motcua.cli import main
from warehouse import schema
from warehouse.engine import make_engine

BEFORE = [
    dossier("R1", 9, "20190308100000", intake="20190304090000", due="20190311170000", resolved="20190308100000"),
    dossier("R2", 4, "20190305100000", intake="20190304090000", due="20190311170000"),
    dossier("R3", 9, "20190308100000", procedure_code="2.000002", intake="20190304090000", due="20190311170000",
            resolved="20190308100000"),
]
# late corrections: R2 was resolved on 13/3, two days after its due; R3 was recorded
# under the wrong procedure (it is a 1.000001 dossier)
CORRECTION = [
    dossier("R2", 9, "20200110100000", intake="20190304090000", due="20190311170000", resolved="20190313090000"),
    dossier("R3", 9, "20200110100000", intake="20190304090000", due="20190311170000", resolved="20190308100000"),
]


def _report(url: str, out) -> str:
    result = CliRunner().invoke(main, ["report", "--year", "2019", "--warehouse", url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return (out / "thay-doi-so-lieu.txt").read_text(encoding="utf-8")


def _kept(url: str) -> list[tuple[str, int]]:
    """(publication, dossiers kept) per publication that keeps dossier rows."""
    t = schema.publication_dossier
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(
                sa.select(t.c.publication_id, sa.func.count()).group_by(t.c.publication_id))]
    finally:
        engine.dispose()


def test_late_correction_is_named_in_the_next_report(warehouse_url, tmp_path):  # noqa: F811
    url = warehouse_url
    run_pipeline(write_bundle(tmp_path / "b1", BEFORE), url, tmp_path / "var")
    assert "Lần công bố đầu tiên" in _report(url, tmp_path / "r1")
    first = _kept(url)
    assert [n for _, n in first] == [3]
    run_pipeline(write_bundle(tmp_path / "b2", CORRECTION), url, tmp_path / "var")
    text = _report(url, tmp_path / "r2")
    # R2 left "open, overdue" (12) and entered "resolved late" (9) and (7)
    assert "cột resolved_late: 0 -> 1 (+1); thêm hồ sơ R2" in text
    assert "cột pending_overdue: 1 -> 0 (-1); bớt hồ sơ R2" in text
    # R3 moved rows: out of every cell of 2.000002, into the same cells of 1.000001
    assert "TTHC 2.000002, cột resolved_on_time: 1 -> 0 (-1); bớt hồ sơ R3" in text
    assert "TTHC 1.000001, cột resolved_total: 1 -> 3 (+2); thêm hồ sơ R2, R3" in text
    assert "TTHC 1.000001, cột received_total: 2 -> 3 (+1); thêm hồ sơ R3" in text
    assert "received_online" not in text  # every dossier came in person: no online cell changed
    # only the latest publication keeps its dossiers (the next one is compared with it)
    second = _kept(url)
    assert len(second) == 1 and second[0][0] != first[0][0] and second[0][1] == 3
    assert "Không có ô số liệu nào thay đổi" in _report(url, tmp_path / "r3")
