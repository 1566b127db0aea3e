"""Suite for core.dim_agency (one row per agency version: agency_code x valid_from),
run on the dimension read from the warehouse before the marts are built.

Critical (the run stops): the grain key unique and not null; ``valid_from <=
valid_to``; ``is_known`` a boolean. Warning: the parent and the successor (merger)
are agencies of the dimension, and not the agency itself.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from expectations.runner import checks, plain

SUITE_NAME = "dim_agency"
ID_COLUMNS = ["agency_code", "valid_from"]


def prepare(df: pd.DataFrame, **context: Any) -> pd.DataFrame:
    """Dimension columns plus the checks ``valid_range`` and ``links``."""
    out = plain(df)
    for c in ("valid_from", "valid_to"):
        out[c] = pd.to_datetime(df[c]).astype("datetime64[us]")
    out["is_known"] = df["is_known"].astype(object).where(df["is_known"].notna(), None)
    bad = out["valid_to"].notna() & (out["valid_from"] > out["valid_to"])
    out["valid_range"] = checks(out.index, [
        (bad, "valid_from " + out["valid_from"].astype(str) + " after valid_to " + out["valid_to"].astype(str)),
    ])
    codes = set(out["agency_code"].dropna())
    problems = []
    for col, what in (("parent_code", "parent"), ("successor_code", "successor")):
        v = out[col]
        problems.append((v.notna() & ~v.isin(codes), what + " " + v.astype(str) + " is not an agency"))
        problems.append((v.notna() & (v == out["agency_code"]), what + " is the agency itself"))
    out["links"] = checks(out.index, problems)
    return out


def expectations(**context: Any) -> list:
    """The suite (see the module docstring)."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectCompoundColumnsToBeUnique(column_list=ID_COLUMNS),
        *[gxe.ExpectColumnValuesToNotBeNull(column=c) for c in ID_COLUMNS],
        gxe.ExpectColumnValuesToBeInSet(column="valid_range", value_set=["ok"]),
        gxe.ExpectColumnValuesToNotBeNull(column="is_known"),
        gxe.ExpectColumnValuesToBeInSet(column="is_known", value_set=[True, False]),
        gxe.ExpectColumnValuesToBeInSet(column="links", value_set=["ok"], severity="warning"),
    ]
