"""Transforms are pure (no Prefect, SQLAlchemy, HTTP, database or file I/O), each
table-building module's docstring starts with its grain, and their outputs match the
warehouse schema (the one SQLAlchemy metadata)."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest
from helpers.bundle import dossier, procedure
from helpers.pure import merge, procedures_frame, records, with_end_kind

from transforms import (
    dim_agency,
    dim_procedure,
    dim_static,
    fct_dossier_event,
    mart_dossier_intake,
    mart_dossier_resolution,
    mart_indicator,
)
from warehouse import schema
from warehouse.load import to_arrow

TRANSFORMS = Path(__file__).resolve().parents[2] / "transforms"
FORBIDDEN_MODULES = {"prefect", "sqlalchemy", "httpx", "requests", "urllib", "duckdb", "psycopg", "pymysql",
                     "os", "shutil", "subprocess", "socket", "great_expectations", "flows", "warehouse", "motcua"}
FORBIDDEN_CALLS = {"open", "read_csv", "read_parquet", "read_json", "read_excel", "to_csv", "to_parquet",
                   "to_excel", "read_sql", "to_sql", "write_table", "read_table"}


@pytest.mark.parametrize("path", sorted(TRANSFORMS.glob("*.py")), ids=lambda p: p.name)
def test_transform_module_is_pure(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [(node.module or "").split(".")[0]]
        else:
            names = []
        assert not FORBIDDEN_MODULES & set(names), f"{path.name} imports {names}"
        if isinstance(node, ast.Call):
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
            assert name not in FORBIDDEN_CALLS, f"{path.name} calls {name}()"


@pytest.mark.parametrize("path", sorted(p for p in TRANSFORMS.glob("*.py")
                                        if p.stem.startswith(("stg_", "int_", "fct_", "dim_", "mart_"))),
                         ids=lambda p: p.name)
def test_table_module_docstring_states_grain(path: Path):
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    first = doc.split("\n\n")[0].lower()
    assert "one row per" in first, f"{path.name}: docstring should start with the grain ('one row per …')"


def _outputs() -> dict[str, pd.DataFrame]:
    procs = procedures_frame([procedure("1.000001", 5)])
    lines = [
        dossier("A", 9, "20190308100000", intake="20190304090000", due="20190311170000", resolved="20190308100000",
                history=[(2, "20190304090000"), (9, "20190308100000")], SoGiayToChuHoSo="012345678901",
                SoDienThoai="0912345678", Email="a@b.vn", DanhGia=1, DuocThanhToanTrucTuyen=True),
        dossier("B", 4, "20190401100000", channel=2, intake="20190401090000"),
    ]
    recs = records(lines, procs)
    fct = merge(pd.DataFrame(), recs)
    dim_proc = dim_procedure.build(procs)
    agencies = pd.DataFrame({"MaDonVi": ["A1"], "TenDonVi": ["Đơn vị"], "MaDonViCha": [None], "HieuLucTu": [None],
                             "HieuLucDen": [None], "ThayTheBoi": [None]})
    dim_ag = dim_agency.build(agencies)
    f = with_end_kind(fct)
    counts = mart_dossier_resolution.counts_all_periods(f, mart_dossier_resolution.KEYS)
    import json

    from helpers.pure import stg_dossier_snapshot

    from motcua.sources.base import make_batch

    _, history = stg_dossier_snapshot.build(make_batch(["x"], [json.dumps(lines[0])]))
    return {
        "core.fct_dossier": fct,
        "core.fct_dossier_event": fct_dossier_event.build(history, pd.DataFrame({"record_id": [0], "dossier_code": ["A"]})),
        "core.dim_procedure": dim_proc,
        "core.dim_agency": dim_ag,
        "core.dim_field": dim_static.dim_field(dim_proc),
        "core.dim_channel": dim_static.CHANNELS,
        "core.dim_status": dim_static.STATUSES,
        "core.dim_date": dim_static.dim_date(pd.Timestamp("2019-01-01").date(), pd.Timestamp("2019-01-31").date()),
        "mart.dossier_resolution": mart_dossier_resolution.build(f, dim_proc),
        "mart.dossier_intake": mart_dossier_intake.build(f, dim_proc, counts=counts),
        "mart.indicator": mart_indicator.build(counts, f, dim_ag, dim_proc),
    }


def _table(name: str):
    schema_name, table = name.split(".")
    for t in schema.metadata.tables.values():
        if t.schema == schema_name and (t.name == table or t.name.startswith(table + "_v")):
            return t
    raise KeyError(name)


@pytest.mark.parametrize("name", list(_outputs().keys()))
def test_transform_output_matches_schema(name):
    df = _outputs()[name]
    table = _table(name)
    assert set(df.columns) == {c.name for c in table.columns}, name
    converted = to_arrow(table, df)  # raises on a type or NOT NULL mismatch
    assert converted.num_rows == len(df) and len(df) > 0
