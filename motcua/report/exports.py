"""The tables as data files: CSV (UTF-8 with BOM, for Excel) and Parquet (pyarrow).

One file per table (``bieu1`` … ``bieu4``, ``bieu06``, ``chiso``), the rows of the
corresponding :class:`~motcua.report.model.ReportTables` frame with its column names
(no totals row: totals are the sums of the rows), dates as ISO ``yyyy-mm-dd`` in the
CSV and ``date32`` in Parquet, counts as nullable integers.

Every CSV the package writes goes through :func:`csv_safe`: a text cell that begins
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (a procedure or agency name
from the source, say) is written with a leading ``'`` so that a spreadsheet shows it
as text instead of evaluating it as a formula (CSV injection, as OWASP recommends).
Parquet keeps the values as they are.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from motcua.report.model import (
    COLUMNS,
    COUNT_COLUMNS,
    DATE_COLUMNS,
    EXPORT_NAMES,
    FLOAT_COLUMNS,
    ReportTables,
)

#: what makes a spreadsheet read a cell as a formula (or hide its beginning)
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe_cell(value: object) -> object:
    """``value`` with a leading ``'`` when it is text that a spreadsheet would read as a
    formula; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells cannot be read as formulas (:func:`csv_safe_cell`);
    numbers, dates and missing values untouched."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c].dtype):
            out[c] = out[c].map(csv_safe_cell, na_action="ignore")
    return out


_FORMULA_LEAD_RE = "^[" + "".join(re.escape(c) for c in FORMULA_LEADS) + "]"
_BOM = "\ufeff".encode()


def csv_safe_arrow(table: pa.Table) -> pa.Table:
    """:func:`csv_safe` for an Arrow table, column at a time (no Python per cell): text
    cells that begin with a :data:`FORMULA_LEADS` character get a leading ``'``."""
    for i, f in enumerate(table.schema):
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type):
            col = table.column(i)
            lead = pc.match_substring_regex(col, _FORMULA_LEAD_RE)
            table = table.set_column(i, f, pc.if_else(
                lead, pc.binary_join_element_wise(pa.scalar("'", f.type), col, pa.scalar("", f.type)), col))
    return table


def write_csv_arrow(table: pa.Table, path: Path) -> None:
    """``table`` (already :func:`csv_safe_arrow`) as CSV the way every CSV of the
    package is written: UTF-8 with a BOM (Excel reads it as UTF-8), a header, missing
    values empty; Arrow quotes every text field and the header (pandas quotes only the
    fields that need it: the cells read back the same). Timestamps should be text already
    (``yyyy-mm-dd hh:mm:ss``), dates are written ``yyyy-mm-dd``."""
    with open(path, "wb") as f:
        f.write(_BOM)
        pacsv.write_csv(table, f, write_options=pacsv.WriteOptions(quoting_style="needed"))


def arrow_schema(name: str) -> pa.Schema:
    """The Parquet schema of frame ``name``."""
    out = []
    for c in COLUMNS[name]:
        if c in COUNT_COLUMNS.get(name, ()):
            t = pa.int64()
        elif c in FLOAT_COLUMNS.get(name, ()):
            t = pa.float64()
        elif c in DATE_COLUMNS.get(name, ()):
            t = pa.date32()
        else:
            t = pa.string()
        out.append(pa.field(c, t, nullable=True))
    return pa.schema(out)


def to_arrow(name: str, df: pd.DataFrame) -> pa.Table:
    """A normalised frame as an Arrow table with :func:`arrow_schema`."""
    schema = arrow_schema(name)
    arrays = []
    for f in schema:
        s = df[f.name]
        values = [None if (v is None or (not isinstance(v, str) and pd.isna(v))) else v for v in s.tolist()]
        arrays.append(pa.array(values, type=f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def read_csv(path: Path, name: str) -> pd.DataFrame:
    """Read an exported CSV back with the dtypes the renderer uses (for tests and users)."""
    dtypes: dict[str, str] = {}
    for c in COLUMNS[name]:
        if c in COUNT_COLUMNS.get(name, ()):
            dtypes[c] = "Int64"
        elif c in FLOAT_COLUMNS.get(name, ()):
            dtypes[c] = "float64"
        else:
            dtypes[c] = "string"
    df = pd.read_csv(path, encoding="utf-8-sig", dtype=dtypes, keep_default_na=False,
                     na_values={c: [""] for c in COLUMNS[name]})
    for c in DATE_COLUMNS.get(name, ()):
        df[c] = df[c].map(lambda v: None if pd.isna(v) else pd.Timestamp(v).date())
    return df


def write_exports(tables: ReportTables, out_dir: Path) -> dict[str, Path]:
    """Write ``<name>.csv`` and ``<name>.parquet`` for every exported table."""
    paths: dict[str, Path] = {}
    for frame, name in EXPORT_NAMES.items():
        df = tables.frame(frame)
        csv_path = out_dir / f"{name}.csv"
        out = df.copy()
        for c in DATE_COLUMNS.get(frame, ()):
            out[c] = out[c].map(lambda v: "" if v is None else v.isoformat())
        csv_safe(out).to_csv(csv_path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        pq_path = out_dir / f"{name}.parquet"
        pq.write_table(to_arrow(frame, df), pq_path)
        paths[f"{name}_csv"] = csv_path
        paths[f"{name}_parquet"] = pq_path
    return paths
