"""One record stamped in the future must not stop incremental loading: the watermark
never passes the run's own clock, and the next night's ordinary record still loads
(over the HTTP API and from the database, the two sources that read by watermark), and
a watermark an earlier release stored in the future is healed. The ceiling itself
(``transforms.watermark``) is tested in ``tests/transforms/test_watermark.py``."""

from __future__ import annotations

import datetime as dt

from helpers.bundle import dossier, read_table, run_pipeline, write_bundle

from motcua.dev.database_loader import load_bundle_into_database
from motcua.dev.simulator.server import Simulator
from transforms.watermark import run_clock_stamp

FUTURE = "20990101000000"


def _local_now() -> str:
    return run_clock_stamp(dt.datetime.now())


def _first_night() -> list[dict]:
    return [
        dossier("D1", 9, "20190308100000", intake="20190304090000", due="20190311170000", resolved="20190308100000"),
        # the vendor's clock (or a typo) puts this one in 2099
        dossier("D2", 4, FUTURE, intake="20190304090000", due="20190311170000"),
    ]


def _second_night(first: list[dict], stamp: str) -> list[dict]:
    """What the source holds the next night: one ordinary change more, stamped by a
    correct clock after the first run."""
    return [*first, dossier("D3", 4, stamp, intake=stamp, due="20991231170000")]


def _watermark(url: str) -> str:
    marks = read_table(url, "audit.source_state")["watermark"].tolist()
    assert len(marks) == 1, marks
    return marks[0]


def _check_two_nights(run_night, url: str) -> None:
    before = _local_now()
    first = run_night(0, _first_night())
    after = _local_now()
    mark = _watermark(url)
    assert before <= mark <= after, f"watermark {mark} should be held at the run's clock ({before}..{after})"
    assert first["loaded"]["dossiers_changed"] == 2
    second = run_night(1, _second_night(_first_night(), _local_now()))
    assert second["staged"]["records_read"] >= 1
    codes = set(read_table(url, "core.fct_dossier")["dossier_code"])
    assert codes == {"D1", "D2", "D3"}, "the next night's ordinary record must load"
    assert _watermark(url) <= _local_now()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_future_stamp_over_http_does_not_stop_the_next_night(tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    port = _free_port()  # the same server address each night: one watermark

    def night(i: int, lines: list[dict]) -> dict:
        bundle = write_bundle(tmp_path / f"night{i}", lines)
        with Simulator(bundle, port=port, seed=i) as sim:
            return run_pipeline(sim.url, url, tmp_path / "var", incremental=True, quarantine_threshold=1.0,
                                validate=False)

    _check_two_nights(night, url)


def test_future_stamp_from_the_database_does_not_stop_the_next_night(tmp_path, mariadb_source):
    src = mariadb_source
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"

    def night(i: int, lines: list[dict]) -> dict:
        load_bundle_into_database(write_bundle(tmp_path / f"night{i}", lines), src, replace=True)
        return run_pipeline(src, url, tmp_path / "var", incremental=True, quarantine_threshold=1.0,
                            validate=False)

    _check_two_nights(night, url)


def test_a_watermark_stored_in_the_future_is_healed(tmp_path):
    """A warehouse whose watermark an earlier release already set to 2099 reads again."""
    from flows.stages.load_core import read_watermark
    from motcua.settings import Settings
    from warehouse import schema
    from warehouse.engine import make_engine

    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    bundle = write_bundle(tmp_path / "night0", _first_night())
    port = _free_port()
    with Simulator(bundle, port=port, seed=0) as sim:
        run_pipeline(sim.url, url, tmp_path / "var", incremental=True, quarantine_threshold=1.0, validate=False)
        source = sim.url
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(schema.source_state.update().values(watermark=FUTURE))
        finally:
            engine.dispose()
        s = Settings.from_env(warehouse_url=url, data_dir=tmp_path / "var")
        assert read_watermark(s, source) <= _local_now()
    bundle = write_bundle(tmp_path / "night1", _second_night(_first_night(), _local_now()))
    # same address as the first night, so the same source_state row
    with Simulator(bundle, port=port, seed=1) as sim:
        assert sim.url == source
        run_pipeline(sim.url, url, tmp_path / "var", incremental=True, quarantine_threshold=1.0, validate=False)
    assert "D3" in set(read_table(url, "core.fct_dossier")["dossier_code"])
    assert _watermark(url) <= _local_now()
