"""Coded values of staged text columns: status and channel codes within their tables
(:func:`read_code`), integers (:func:`read_int64`) and booleans (:func:`read_bool`).
Plain ASCII digits are read directly; every other value as ``pd.to_numeric`` reads it,
with the same result."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: TrangThaiHoSo codes (domain.md status table)
STATUS_CODES = frozenset(range(1, 11))
#: KenhThucHien codes (1 in person, 2 online, 3 postal)
CHANNEL_CODES = frozenset({1, 2, 3})


def _plain_ints(values: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """The values written as plain ASCII digits (at most 9) as integers, and where they
    are; None when the values are not text. What ``pd.to_numeric`` makes of them."""
    if not isinstance(values.dtype, pd.StringDtype):
        return None
    arr = pa.array(values.array)
    plain = pc.and_(pc.less_equal(pc.binary_length(arr), 9), pc.ascii_is_decimal(arr)).fill_null(False)
    nums = np.zeros(len(arr), dtype=np.int64)
    mask = plain.to_numpy(zero_copy_only=False)
    if mask.any():
        nums[mask] = pc.cast(arr.filter(plain), pa.int64()).to_numpy()
    return nums, mask


def read_code(values: pd.Series, allowed: frozenset[int]) -> tuple[pd.Series, pd.Series]:
    """Integer code and a mask of values present but outside ``allowed``."""
    plain = read_code_arrays(values, allowed)
    if plain is None:
        return read_code_pandas(values, allowed)
    nums, inside = plain
    code = pd.Series(pd.arrays.IntegerArray(nums, ~inside), index=values.index, name=values.name)
    return code, pd.Series(~inside, index=values.index, name=values.name)


def read_code_arrays(values: pd.Series, allowed: frozenset[int]) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`read_code` as numpy arrays (codes, 0 where outside; inside), None when the
    values are not text."""
    plain = _plain_ints(values)
    if plain is None:
        return None
    nums, is_plain = plain
    inside = is_plain & np.isin(nums, np.array(sorted(allowed), dtype=np.int64))
    rest = ~is_plain & values.notna().to_numpy()
    if rest.any():  # anything but plain digits, as pandas reads it
        pos = np.flatnonzero(rest)
        code, bad = read_code_pandas(values.iloc[pos], allowed)
        inside[pos] = ~bad.to_numpy()
        nums[pos] = code.fillna(0).to_numpy(dtype=np.int64)
    return np.where(inside, nums, 0), inside


def read_int64(values: pd.Series) -> pd.Series:
    """``pd.to_numeric(values, errors="coerce").astype("Int64")``, plain digits read directly."""
    plain = _plain_ints(values)
    if plain is None or (~plain[1] & values.notna().to_numpy()).any():
        return pd.to_numeric(values, errors="coerce").astype("Int64")
    nums, mask = plain
    return pd.Series(pd.arrays.IntegerArray(nums, ~mask), index=values.index, name=values.name)


def read_code_pandas(values: pd.Series, allowed: frozenset[int]) -> tuple[pd.Series, pd.Series]:
    """:func:`read_code` with ``pd.to_numeric`` (every numeric form)."""
    num = pd.to_numeric(values, errors="coerce")
    integral = num.notna() & (num == num.round())
    code = num.where(integral).astype("Int64")
    inside = code.isin(list(allowed)).fillna(False).astype(bool)
    return code.where(inside), ~inside


def read_bool(values: pd.Series) -> pd.Series:
    """Yes/no text ("1", "true", "có", … / "0", "false", "không", …) as a nullable boolean."""
    s = values.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[s.isin(["1", "true", "yes", "co", "có"]).fillna(False).astype(bool)] = True
    out[s.isin(["0", "false", "no", "khong", "không"]).fillna(False).astype(bool)] = False
    return out
