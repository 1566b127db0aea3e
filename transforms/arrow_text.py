"""Contract values as staged text, one at a time (:func:`scalar_text`) and a column at a
time on Arrow arrays (:func:`arrow_texts`, :func:`converted`, :func:`as_text`,
:func:`stripped`), with the same result: text stripped as ``str.strip()`` strips it,
booleans as "1"/"0", integral numbers without a fraction, empty text, containers and
nulls as null. Used by ``stg_dossier_snapshot``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# What str.strip() removes: the characters for which str.isspace() is true (a test
# checks this list against Python's own).
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_NoneType = type(None)


def scalar_text(value: Any) -> str | None:
    """Contract scalars as text; empty strings and containers become null."""
    if value is None or isinstance(value, (list, dict)):
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    s = str(value).strip()
    return s or None


def arrow_texts(values: list) -> pa.Array:
    """:func:`scalar_text` over parsed values, as an Arrow ``large_string`` array, except
    that strings are not yet stripped (:func:`stripped` does that for a whole column)."""
    try:
        return pa.array(values, pa.large_string())  # str and None only (orjson makes no bytes)
    except Exception:  # anything else: below, value by value if need be
        pass
    types = set(map(type, values))
    if types <= {int, _NoneType}:
        try:
            return pa.array(values, pa.int64()).cast(pa.large_string())  # str(int)
        except Exception:  # beyond 64 bits
            pass
    elif types <= {bool, _NoneType}:
        return pc.if_else(pa.array(values, pa.bool_()), "1", "0").cast(pa.large_string())
    return pa.array([v if type(v) is str else scalar_text(v) for v in values], pa.large_string())


def converted(values: list, kind: str) -> pa.Array:
    """Values expected to be ``kind`` ("text", "int" or "bool"): as :func:`arrow_texts`
    makes them, or, when they are all int (or all bool) and None, the Arrow ``int64``
    (``bool``) array that :func:`as_text` turns into the same text. The expectation only
    picks the quick way; it never changes the result."""
    if kind == "text":
        return arrow_texts(values)
    try:
        arr = pa.array(values)  # Arrow infers one type or fails
    except Exception:
        return arrow_texts(values)
    if pa.types.is_int64(arr.type) or pa.types.is_boolean(arr.type):  # only int (bool) and None
        return arr
    if pa.types.is_null(arr.type):
        return pa.nulls(len(values), pa.large_string())
    return arrow_texts(values)


def as_text(parts: list[pa.Array]) -> pa.Array:
    """Parts from :func:`converted` as one ``large_string`` array (int: str(int); bool: "1"/"0")."""
    def text(arr: pa.Array) -> pa.Array:
        if pa.types.is_boolean(arr.type):
            return pc.if_else(arr, "1", "0").cast(pa.large_string())
        return arr.cast(pa.large_string())

    if not parts:
        return pa.array([], pa.large_string())
    if len({p.type for p in parts}) == 1:  # one conversion for the whole column
        return text(pa.concat_arrays(parts))
    return pa.concat_arrays([text(p) for p in parts])


def _buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A ``large_string`` array's offsets and data bytes, as numpy arrays."""
    _, offsets, data = arr.buffers()
    offs = np.frombuffer(offsets, dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1]
    return offs, (np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8))


# first and last UTF-8 byte of each whitespace character: a value that neither starts nor
# ends with one of these bytes has nothing to strip
_WS_FIRST = np.zeros(256, dtype=bool)
_WS_LAST = np.zeros(256, dtype=bool)
for _c in WHITESPACE:
    _b = _c.encode("utf-8")
    _WS_FIRST[_b[0]] = _WS_LAST[_b[-1]] = True


def stripped(arr: pa.Array) -> pa.Array:
    """A ``large_string`` array stripped as str.strip() does, empty as null."""
    offs, data = _buffers(arr)
    if len(data):
        first = data[np.minimum(offs[:-1], len(data) - 1)]
        last = data[np.maximum(offs[1:] - 1, 0)]
        edge = np.flatnonzero((offs[1:] > offs[:-1]) & (_WS_FIRST[first] | _WS_LAST[last]))
        if len(edge):  # strip those values (and only those)
            n = len(arr)
            order = np.arange(n)
            order[edge] = n + np.arange(len(edge))
            trimmed = pc.utf8_trim(arr.take(pa.array(edge)), WHITESPACE)
            arr = pa.concat_arrays([arr, trimmed]).take(pa.array(order))
    empty = pc.equal(pc.binary_length(arr), 0)
    if not pc.any(empty).as_py():
        return arr
    return pc.if_else(empty, pa.scalar(None, pa.large_string()), arr)
