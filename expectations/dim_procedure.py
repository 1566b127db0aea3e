"""Suite for core.dim_procedure (one row per procedure version: procedure_code x
valid_from), run on the dimension read from the warehouse before the marts are built.

Critical (the run stops): the grain key unique and not null; ``valid_from <=
valid_to``; the flags (published, one-stop, inter-agency) booleans. Warning: the
online level among 1–4, ``toan_trinh``, ``mot_phan``; the code shaped like a national
code (``^[12]\\.\\d{6}$``); a processing time between 0 and 365 working days.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from expectations.runner import checks, plain

SUITE_NAME = "dim_procedure"
ID_COLUMNS = ["procedure_code", "valid_from"]
LEVELS = ["1", "2", "3", "4", "toan_trinh", "mot_phan"]
FLAGS = ["is_published", "is_one_stop", "is_inter_agency"]
CODE_PATTERN = r"^[12]\.\d{6}$"


def prepare(df: pd.DataFrame, **context: Any) -> pd.DataFrame:
    """Dimension columns plus ``valid_range`` (check) and the level normalised."""
    out = plain(df)
    for c in ("valid_from", "valid_to"):
        out[c] = pd.to_datetime(df[c]).astype("datetime64[us]")
    bad = out["valid_to"].notna() & (out["valid_from"] > out["valid_to"])
    out["valid_range"] = checks(out.index, [
        (bad, "valid_from " + out["valid_from"].astype(str) + " after valid_to " + out["valid_to"].astype(str)),
    ])
    level = df["service_level"].astype("string").str.strip().str.lower()
    out["service_level"] = level.astype(object).where(level.notna(), None)
    return out


def expectations(**context: Any) -> list:
    """The suite (see the module docstring)."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectCompoundColumnsToBeUnique(column_list=ID_COLUMNS),
        *[gxe.ExpectColumnValuesToNotBeNull(column=c) for c in ID_COLUMNS],
        gxe.ExpectColumnValuesToBeInSet(column="valid_range", value_set=["ok"]),
        *[gxe.ExpectColumnValuesToBeInSet(column=c, value_set=[True, False]) for c in FLAGS],
        gxe.ExpectColumnValuesToBeInSet(column="service_level", value_set=LEVELS, severity="warning"),
        gxe.ExpectColumnValuesToMatchRegex(column="procedure_code", regex=CODE_PATTERN, severity="warning"),
        gxe.ExpectColumnValuesToBeBetween(column="processing_days", min_value=0, max_value=365, severity="warning"),
    ]
