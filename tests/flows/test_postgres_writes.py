"""The same guarantees on a PostgreSQL warehouse: the write lock is a session advisory
lock (threads and processes alike wait for it), and publishing by partition after an
incremental load gives the marts of a clean run."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest
from flow_cases import assert_no_duplicates, read_marts, read_runs, run_stages
from helpers.warehouses import comparable, fresh_postgres_database

from motcua.settings import Settings
from warehouse.locks import warehouse_lock

pytestmark = pytest.mark.postgres


def test_postgres_advisory_lock_and_partitions(bundles, clean_marts, tmp_path):
    with fresh_postgres_database() as url:
        settings = Settings.from_env(warehouse_url=url, data_dir=tmp_path)
        spans: list[tuple[float, float]] = []

        def hold(name: str) -> None:
            with warehouse_lock(settings, name, timeout=30) as kind:
                assert kind == "postgresql-advisory"
                start = time.monotonic()
                time.sleep(0.3)
                spans.append((start, time.monotonic()))

        threads = [threading.Thread(target=hold, args=(f"t{i}",)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        spans.sort()
        assert len(spans) == 2 and spans[0][1] <= spans[1][0]

        run_stages(url, tmp_path / "var", bundles["old"])
        second = run_stages(url, tmp_path / "var", bundles["new"])
        assert not second["plan"]["all"] and second["published"]["periods_rebuilt"] > 0
        got = read_marts(url)
        for name, want in clean_marts.items():
            pd.testing.assert_frame_equal(comparable(got[name]), comparable(want), obj=name)
        assert_no_duplicates(url)
        assert set(read_runs(url)["status"]) == {"completed"}
