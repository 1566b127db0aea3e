"""DatabaseSource against the real MariaDB on 127.0.0.1:3306 (and SQLite, which needs no server)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pymysql
import pytest
import sqlalchemy as sa
from servers import require_server

from motcua.dev.database_loader import load_bundle_into_database
from motcua.sources.base import RAW_SCHEMA
from motcua.sources.database import DatabaseSource

MARIADB = ("127.0.0.1", 3306)


@pytest.fixture
def mariadb_url():
    """A fresh database on the local MariaDB, dropped afterwards."""
    require_server(*MARIADB, "MariaDB")
    name = f"motcua_test_{uuid.uuid4().hex[:12]}"
    server = sa.create_engine(f"mysql+pymysql://root@{MARIADB[0]}:{MARIADB[1]}/?charset=utf8mb4")
    try:
        with server.begin() as conn:
            conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
        yield f"mysql+pymysql://root@{MARIADB[0]}:{MARIADB[1]}/{name}?charset=utf8mb4"
    finally:
        with server.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        server.dispose()


def read_all(source: DatabaseSource, since: str | None = None) -> tuple[dict[str, dict], int]:
    records: dict[str, dict] = {}
    batches = 0
    for batch in source.iter_records(since):
        assert batch.schema.equals(RAW_SCHEMA) and batch.column("error").null_count == batch.num_rows
        batches += 1
        for loc, rec in zip(batch.column("locator").to_pylist(), batch.column("record").to_pylist(), strict=True):
            snap = json.loads(rec)
            assert loc == f"ho_so:{snap['MaHoSo']}" and snap["MaHoSo"] not in records
            records[snap["MaHoSo"]] = snap
    return records, batches


def check_source(url: str, bundle) -> DatabaseSource:
    counts = load_bundle_into_database(bundle.path, url)
    assert counts["ho_so"] == len(bundle.current) == 50
    assert counts["skipped_lines"] == bundle.bad_lines and counts["converted_values"] == 0
    assert counts["qua_trinh_xu_ly"] == sum(len(s["QuaTrinhXuLy"]) for s in bundle.current.values())

    source = DatabaseSource(url, chunk_size=8, overlap_seconds=0)  # exact `since`, no overlap window
    records, batches = read_all(source)
    assert records == bundle.current  # same JSON content, history in stored order
    assert batches == 7  # 50 rows in chunks of 8

    stamps = sorted(bundle.stamps[(c, s["NgayCapNhat"])] for c, s in bundle.current.items())
    since = stamps[30]
    recent, _ = read_all(source, since)
    assert set(recent) == {c for c, s in bundle.current.items() if bundle.stamps[(c, s["NgayCapNhat"])] >= since}
    assert len(recent) == 20
    # the contract's other forms are compared as instants: "...Z" is UTC, 7 hours behind local time
    utc = [(c, s) for c, s in bundle.current.items() if s["NgayCapNhat"].endswith("Z")]
    assert utc, "the bundle should have Z timestamps"
    code, snap = utc[0]
    local = bundle.stamps[(code, snap["NgayCapNhat"])]
    assert snap["NgayCapNhat"] < local  # as strings it would be filtered out
    assert code in read_all(source, local)[0]
    one_second_later = (dt.datetime.strptime(local, "%Y%m%d%H%M%S") + dt.timedelta(seconds=1)).strftime("%Y%m%d%H%M%S")
    assert code not in read_all(source, one_second_later)[0]

    procedures, agencies = source.read_procedures(), source.read_agencies()
    assert list(procedures["MaTTHC"]) == ["1.004512", "2.000120", "1.000321"]
    assert procedures.loc[2, "TenLinhVuc"] == "Tiêu chuẩn Đo lường Chất lượng"
    assert procedures["HieuLucDen"].isna().all() and list(agencies["MaDonVi"]) == ["SKHCN", "CCTDC"]
    return source


@pytest.mark.mariadb
def test_mariadb_round_trip_streaming_and_since(bundle, mariadb_url):
    check_source(mariadb_url, bundle)
    source = DatabaseSource(mariadb_url, chunk_size=8)
    seen: list[tuple[type, object]] = []

    @sa.event.listens_for(source.engine, "before_cursor_execute")
    def spy(conn, cursor, statement, parameters, context, executemany):
        if "FROM ho_so" in statement:
            seen.append((type(cursor), context.execution_options.get("stream_results")))

    records, batches = read_all(source)
    assert len(records) == 50 and batches == 7
    # a server-side (unbuffered) cursor, not the whole table fetched at once
    assert seen == [(pymysql.cursors.SSCursor, True)]
    source.close()


def test_sqlite_round_trip_and_since(bundle, tmp_path):
    url = f"sqlite:///{tmp_path / 'onestop.db'}"
    check_source(url, bundle).close()
    with pytest.raises(ValueError, match="already exist"):
        load_bundle_into_database(bundle.path, url)
    assert load_bundle_into_database(bundle.path, url, replace=True)["ho_so"] == 50


def test_missing_tables_are_named(tmp_path):
    source = DatabaseSource(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(LookupError, match="ho_so"):
        list(source.iter_records())
    assert "hunter2" not in repr(DatabaseSource("mysql+pymysql://u:hunter2@localhost/db"))
