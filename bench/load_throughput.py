"""Load throughput into the warehouse: rows/s for ``core.fct_dossier`` on DuckDB and
PostgreSQL, through :mod:`warehouse.load` (DuckDB: Arrow view + ``INSERT … SELECT``;
PostgreSQL: ``COPY … FROM STDIN`` fed pyarrow CSV).

Synthetic rows (realistic widths: 64-hex pseudonyms and hashes, Vietnamese names,
timestamps, NULLs) are conformed with :func:`warehouse.load.to_arrow` once, then each
engine gets, in fresh storage migrated to head:

* ``insert``: every row into an empty table, one transaction;
* ``replace``: :func:`warehouse.load.delete_keys` of every key + insert again (what
  ``flows/stages.load_core`` does for changed dossiers), one transaction;
* ``upsert``: :func:`warehouse.load.upsert` of every row again (the alternative), one
  transaction;
* ``read``: :func:`warehouse.load.read_frame` of the whole table.

Usage::

    python bench/load_throughput.py --rows 1000000
    python bench/load_throughput.py --rows 200000 --engines duckdb \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

PostgreSQL: a database ``motcua_bench_<random>`` is created on the server of
``--postgres`` (an admin URL) and dropped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from warehouse import load, schema  # noqa: E402
from warehouse.engine import create_schema, make_engine  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def synthetic_fct(n: int, seed: int = 7) -> pd.DataFrame:
    """``n`` plausible core.fct_dossier rows."""
    rng = np.random.default_rng(seed)
    base = np.datetime64("2023-01-01T00:00:00")
    intake = base + rng.integers(0, 730 * 86400, n).astype("timedelta64[s]")
    resolved_mask = rng.random(n) < 0.8
    resolved = intake + rng.integers(3600, 20 * 86400, n).astype("timedelta64[s]")
    due = (intake + rng.integers(2, 15, n).astype("timedelta64[D]")).astype("datetime64[D]")

    def hexes(k: int) -> np.ndarray:
        return np.array([os.urandom(32).hex() for _ in range(k)], dtype=object)

    procedures = np.array([f"1.{i:06d}" for i in range(1, 301)], dtype=object)
    agencies = np.array([f"A{i:03d}" for i in range(1, 41)], dtype=object)
    names = np.array(["Cấp giấy phép tiến hành công việc bức xạ", "Đăng ký kết quả thực hiện nhiệm vụ KH&CN",
                      "Cấp giấy chứng nhận đăng ký hoạt động KH&CN", "Thẩm định công nghệ dự án đầu tư"], dtype=object)
    resolved_at = pd.Series(np.where(resolved_mask, resolved, np.datetime64("NaT")))
    phone = hexes(n)
    phone[rng.random(n) < 0.3] = None
    return pd.DataFrame({
        "dossier_code": [f"000.00.{i % 97:02d}.H{i:010d}" for i in range(n)],
        "procedure_code": procedures[rng.integers(0, len(procedures), n)],
        "procedure_name_recorded": names[rng.integers(0, len(names), n)],
        "field_code": rng.choice(np.array(["ATBX", "TCDLCL", "KHCN", ""], dtype=object), n),
        "agency_code": agencies[rng.integers(0, len(agencies), n)],
        "channel_code": rng.integers(1, 4, n),
        "status_code": np.where(resolved_mask, 10, 4),
        "applicant_type": rng.integers(1, 5, n),
        "is_received": True,
        "submitted_at": pd.Series(intake - np.timedelta64(3600, "s")),
        "intake_at": pd.Series(intake),
        "due_date": pd.Series(due),
        "due_source": "recorded",
        "resolved_at": resolved_at,
        "withdrawn_at": pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")),
        "ended_at": resolved_at,
        "returned_at": resolved_at,
        "refused_at": pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")),
        "resolution_class": np.where(resolved_mask, "on_time", None),
        "processing_working_days": pd.Series(rng.integers(1, 15, n), dtype="Int64").where(resolved_mask, pd.NA),
        "rating": pd.array(rng.integers(1, 4, n), dtype="Int64"),
        "paid_online": rng.random(n) < 0.3,
        "digitised": rng.random(n) < 0.5,
        "supplement_rounds": rng.integers(0, 3, n),
        "applicant_pseudonym": hexes(n),
        "phone_pseudonym": phone,
        "email_pseudonym": hexes(n),
        "procedure_known": True,
        "agency_known": True,
        "updated_at": pd.Series(resolved),
        "record_hash": hexes(n),
        "source": "bundle-bench",
        "run_id": "20250101T000000-bench0",
    })


@contextmanager
def fresh_postgres(admin_url: str) -> Iterator[str]:
    name = f"motcua_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench(url: str, data: pa.Table) -> dict[str, float]:
    """Seconds for insert, replace, upsert and read of ``data`` into core.fct_dossier at ``url``."""
    engine = make_engine(url)
    table = schema.fct_dossier
    keys = data.column("dossier_code").to_pylist()
    try:
        create_schema(engine)

        def insert() -> None:
            with engine.begin() as conn:
                load.insert(conn, table, data)

        def replace() -> None:
            with engine.begin() as conn:
                load.delete_keys(conn, table, "dossier_code", keys)
                load.insert(conn, table, data)

        def upsert() -> None:
            with engine.begin() as conn:
                load.upsert(conn, table, data)

        def read() -> None:
            with engine.connect() as conn:
                df = load.read_frame(conn, table)
            assert len(df) == data.num_rows

        out = {"insert": _timed(insert), "replace": _timed(replace), "upsert": _timed(upsert), "read": _timed(read)}
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() == data.num_rows
        return out
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default="duckdb,postgres", help="comma-separated: duckdb, postgres")
    parser.add_argument("--postgres", default=os.environ.get("MOTCUA_BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
                        help="admin URL of the PostgreSQL server (a bench database is created there)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    frame = synthetic_fct(args.rows)
    t1 = time.perf_counter()
    data = load.to_arrow(schema.fct_dossier, frame)
    t2 = time.perf_counter()
    del frame
    print(f"{args.rows:,} synthetic rows: generated in {t1 - t0:.1f} s, conformed (to_arrow) in {t2 - t1:.1f} s, "
          f"{data.nbytes / 2**20:.0f} MiB in Arrow", flush=True)
    print(f"{'engine':<10} {'step':<8} {'seconds':>8} {'rows/s':>12}")
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        if engine == "duckdb":
            with tempfile.TemporaryDirectory(prefix="motcua-bench-") as tmp:
                results = bench(f"duckdb:///{Path(tmp) / 'bench.duckdb'}", data)
        elif engine == "postgres":
            with fresh_postgres(args.postgres) as url:
                results = bench(url, data)
        else:
            parser.error(f"unknown engine {engine!r}")
        for step, seconds in results.items():
            print(f"{engine:<10} {step:<8} {seconds:>8.2f} {args.rows / seconds:>12,.0f}", flush=True)
    print(f"done at {dt.datetime.now():%Y-%m-%d %H:%M:%S}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
