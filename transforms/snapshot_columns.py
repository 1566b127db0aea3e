"""``stg_dossier_snapshot`` a column at a time (:func:`build_columns`): each record's
text is hashed and parsed (orjson) straight from the Arrow buffer, a small block of
records at a time, and the fields' values go to Arrow a chunk at a time, where they are
made text, stripped and nulled for the whole column (:mod:`transforms.arrow_text`).
Records it does not take (a source error, text that is not a JSON object, a null
record) go through the model's per-record reference, so the output is the same either
way."""

from __future__ import annotations

import binascii
import hashlib
import json
from collections.abc import Callable, Iterator
from itertools import chain, islice, repeat
from operator import itemgetter
from typing import Any

# orjson (a Prefect dependency) parses 2-3x faster, and reads UTF-8 bytes (and
# memoryviews) as it reads str; the standard library is the fallback
try:
    from orjson import loads as _loads_utf8
except ImportError:  # pragma: no cover
    def _loads_utf8(data):  # json.loads would guess UTF-16/32 from the bytes: decode first
        return json.loads(bytes(data).decode("utf-8"))

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.arrow_text import as_text, converted, stripped

#: the per-record path: (raw, first_record_id) -> (staged, history)
Reference = Callable[[Any, int], tuple[pd.DataFrame, pd.DataFrame]]

# the JSON type each field usually has (a hint for speed only: any type gives the same result)
_USUAL_INT = {"KenhThucHien", "TrangThaiHoSo", "LoaiDoiTuong", "DanhGia", "TrangThai"}
_USUAL_BOOL = {"DuocThanhToanTrucTuyen", "HoSoCoThanhPhanSoHoa"}

# records parsed together (their parsed objects are alive only for one block)
_BLOCK = 64
# parsed values go to Arrow this many records at a time
_CHUNK = 512


class _Group:
    """Fields gathered together: per object, its values of the group's keys, in one
    list; a chunk of objects at a time, that list is made Arrow (one conversion for many
    columns, while the values are still in the CPU cache) and cut into the columns."""

    def __init__(self, fields: list[tuple[str, str]], kind: str) -> None:
        self.keys = [k for k, _ in fields]
        self.columns = [c for _, c in fields]
        self.kind = kind
        self.pending: list = []
        self.parts: dict[str, list[pa.Array]] = {c: [] for c in self.columns}
        self.get = itemgetter(*self.keys)  # a tuple of values, or one value for one key

    def add(self, objs: list[dict]) -> None:
        pending = self.pending
        before = len(pending)
        try:
            if len(self.keys) == 1:
                pending.extend(map(self.get, objs))
            else:
                pending.extend(chain.from_iterable(map(self.get, objs)))
        except KeyError:  # some object lacks a key: dict.get gives it None
            del pending[before:]
            keys = self.keys
            pending.extend(chain.from_iterable(map(o.get, keys) for o in objs))

    def flush(self) -> None:
        if not self.pending:
            return
        k = len(self.keys)
        rows = len(self.pending) // k
        values = self.pending
        if k > 1:  # object after object -> column after column
            values = []
            for j in range(k):
                values.extend(self.pending[j::k])
        arr = converted(values, self.kind)
        for j, c in enumerate(self.columns):
            self.parts[c].append(arr.slice(j * rows, rows))
        self.pending = []

    def result(self) -> dict[str, pa.Array]:
        """Each column's values (stripped, empty as null), rows in order."""
        self.flush()
        return {c: stripped(as_text(parts)) for c, parts in self.parts.items()}


def _string_array(arr: pa.Array) -> pd.api.extensions.ExtensionArray:
    """An Arrow text column as the pandas ``string`` array ``pd.array(values, dtype="string")`` makes."""
    return pd.StringDtype().__from_arrow__(pa.chunked_array([arr.cast(pa.large_string())]))


def _inferred_text(arr: pa.Array, values: Callable[[], Any]) -> Any:
    """What the DataFrame constructor makes of a list of str (the ``str`` dtype): built
    from Arrow when that dtype is pyarrow-backed, else ``values()`` as the constructor got
    them before."""
    dtype = pd.DataFrame({"x": ["x"]})["x"].dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        return dtype.__from_arrow__(pa.chunked_array([arr.cast(pa.large_string())]))
    return values()


def _hex(digests: list[bytes]) -> pa.Array:
    """sha256 digests as the ``large_string`` array of their hexdigest()."""
    text = binascii.hexlify(b"".join(digests))
    offsets = np.arange(0, 64 * (len(digests) + 1), 64, dtype=np.int64)
    return pa.Array.from_buffers(pa.large_string(), len(digests), [None, pa.py_buffer(offsets), pa.py_buffer(text)])


def _spans(records: pa.ChunkedArray) -> Iterator[memoryview]:
    """Each value's bytes as a memoryview into its Arrow buffer (nulls: whatever the
    offsets say; callers never read them)."""
    for chunk in records.chunks:
        if len(chunk) == 0:
            continue
        _, offsets_buf, data_buf = chunk.buffers()
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offs = np.frombuffer(offsets_buf, dtype=width)[chunk.offset: chunk.offset + len(chunk) + 1].tolist()
        data = memoryview(data_buf) if data_buf is not None else memoryview(b"")
        yield from (data[a:b] for a, b in zip(offs[:-1], offs[1:], strict=True))


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _groups(fields: dict[str, str]) -> list[_Group]:
    kinds = {k: "int" if k in _USUAL_INT else "bool" if k in _USUAL_BOOL else "text" for k in fields}
    return [_Group([(k, c) for k, c in fields.items() if kinds[k] == kind], kind)
            for kind in ("text", "int", "bool") if kind in kinds.values()]


def build_columns(
    raw: pa.Table | pd.DataFrame, first_record_id: int, fields: dict[str, str], history_fields: dict[str, str],
    reference: Reference,
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """``stg_dossier_snapshot.build`` a column at a time: the staged columns of ``fields``
    (contract field -> column) and the history columns of ``history_fields``; the records
    it does not take go through ``reference``. None when the input is not one it reads
    (then ``reference`` does the whole batch)."""
    locator_arrow = None
    if isinstance(raw, pa.Table):
        names = raw.column_names
        if "record" not in names or "locator" not in names or not _is_text(raw.column("record").type):
            return None
        records = raw.column("record")
        refer = records.is_null()
        if "error" in names:
            errors = raw.column("error")
            if not (_is_text(errors.type) or pa.types.is_null(errors.type)):
                return None
            refer = pc.or_(refer, errors.is_valid())
        refer = refer.to_numpy(zero_copy_only=False)
        n = raw.num_rows
        loc = raw.column("locator")
        if _is_text(loc.type) and loc.null_count == 0:
            locator_arrow = loc.combine_chunks() if loc.num_chunks != 1 else loc.chunk(0)
    else:
        n = len(raw)
        texts = raw["record"].tolist()
        ok = [type(t) is str for t in texts]
        try:
            records = pa.chunked_array([pa.array([t if k else None for t, k in zip(texts, ok, strict=True)],
                                                 pa.large_string())])
        except Exception:  # lone surrogates, which Arrow cannot hold
            return None
        refer = ~np.array(ok, dtype=bool)
        if "error" in raw.columns:
            refer |= np.array([e is not None and not (isinstance(e, float) and pd.isna(e))
                               for e in raw["error"].tolist()], dtype=bool)
    if n == 0:
        return None

    digests: list[bytes] = []
    fast_rows: list[int] = []  # rows parsed here, in order
    groups = _groups(fields)
    h_groups = _groups(history_fields)
    gathered = 0
    rounds: list[int] = []
    hcount: list[int] = []
    not_dict: list[int] = []  # history entries (flat index) that are not objects
    n_entries = 0
    refer_list = refer.tolist()
    spans = _spans(records)
    sha = hashlib.sha256
    dget = dict.get
    loads = _loads_utf8

    # small blocks: a block's parsed objects are still in the CPU cache when their
    # fields are gathered (large blocks make the same work several times slower)
    for start in range(0, n, _BLOCK):
        block = list(islice(spans, _BLOCK))
        stop = start + len(block)
        digests.extend([sha(b).digest() for b in block])
        objs: list[dict] | None = None
        if not any(refer_list[start:stop]):  # the usual block: every record an object
            try:
                objs = list(map(loads, block))
            except Exception:
                objs = None
            if objs is not None and set(map(type, objs)) == {dict}:
                fast_rows.extend(range(start, stop))
            else:
                objs = None
        if objs is None:
            objs = []
            for i, b in enumerate(block, start):
                if refer_list[i]:
                    continue
                try:
                    obj = loads(b)
                except Exception:  # the reference path says what went wrong (or raises)
                    refer_list[i] = True
                    continue
                if type(obj) is not dict:
                    refer_list[i] = True
                    continue
                fast_rows.append(i)
                objs.append(obj)
        for g in groups:
            g.add(objs)
        rounds.extend([len(s) if type(s) is list else 0 for s in map(dget, objs, repeat("DanhSachHoSoBoSung"))])
        hists = [h if type(h) is list else () for h in map(dget, objs, repeat("QuaTrinhXuLy"))]
        hcount.extend(map(len, hists))
        entries = list(chain.from_iterable(hists))
        if entries and set(map(type, entries)) != {dict}:
            not_dict.extend(n_entries + k for k, e in enumerate(entries) if type(e) is not dict)
            n_entries += len(entries)
            entries = [e for e in entries if type(e) is dict]
        else:
            n_entries += len(entries)
        for g in h_groups:
            g.add(entries)
        gathered += len(block)
        if gathered >= _CHUNK:
            for g in (*groups, *h_groups):
                g.flush()
            gathered = 0

    nf = len(fast_rows)
    staged_cols: dict[str, pa.Array] = {}
    for g in groups:
        staged_cols.update(g.result())
    staged_cols = {c: staged_cols[c] for c in fields.values()}
    parse_error = pa.nulls(nf, pa.large_string())
    hashes = _hex(digests)
    rounds_np = np.array(rounds, dtype=np.int64)
    rounds_na = np.zeros(nf, dtype=bool)
    hcount_np = np.array(hcount, dtype=np.int64)
    h_rid = np.repeat(np.array(fast_rows, dtype=np.int64) + first_record_id, hcount_np)
    h_pos = np.arange(n_entries, dtype=np.int64) - np.repeat(np.cumsum(hcount_np) - hcount_np, hcount_np)
    if not_dict:
        keep = np.ones(n_entries, dtype=bool)
        keep[not_dict] = False
        h_rid, h_pos = h_rid[keep], h_pos[keep]
    hist_cols: dict[str, pa.Array] = {}
    for g in h_groups:
        hist_cols.update(g.result())
    hist_cols = {c: hist_cols[c] for c in history_fields.values()}

    ref_rows = [i for i, r in enumerate(refer_list) if r]
    if ref_rows:
        # the records taken one at a time: their staged rows go in their places, their
        # history rows among the others in record order
        sub = raw.take(ref_rows) if isinstance(raw, pa.Table) else raw.iloc[ref_rows]
        r_staged, r_hist = reference(sub, 0)
        ref_idx = np.array(ref_rows, dtype=np.int64)
        order = np.empty(n, dtype=np.int64)
        order[np.array(fast_rows, dtype=np.int64)] = np.arange(nf)
        order[ref_idx] = nf + np.arange(len(ref_rows))
        for c in staged_cols:
            staged_cols[c] = _place(staged_cols[c], r_staged[c], order)
        parse_error = _place(parse_error, r_staged["parse_error"], order)
        hash_order = np.arange(n)
        hash_order[ref_idx] = n + np.arange(len(ref_rows))
        hashes = _place(hashes, r_staged["record_hash"], hash_order)
        r_rounds = r_staged["supplement_rounds"]
        rounds_np = np.concatenate([rounds_np, r_rounds.fillna(0).to_numpy(dtype=np.int64)])[order]
        rounds_na = np.concatenate([rounds_na, r_rounds.isna().to_numpy()])[order]
        hcount_np = np.concatenate([hcount_np, r_staged["history_count"].to_numpy(dtype=np.int64)])[order]
        if len(r_hist):
            h_rid = np.concatenate([h_rid, ref_idx[r_hist["record_id"].to_numpy()] + first_record_id])
            h_pos = np.concatenate([h_pos, r_hist["position"].to_numpy(dtype=np.int64)])
            h_order = np.argsort(h_rid, kind="stable")
            h_rid, h_pos = h_rid[h_order], h_pos[h_order]
            for c in hist_cols:
                both = pa.concat_arrays([hist_cols[c], pa.array(r_hist[c]).cast(pa.large_string())])
                hist_cols[c] = both.take(h_order)

    if locator_arrow is not None:
        locator = _inferred_text(locator_arrow, lambda: raw.select(["locator"]).to_pandas()["locator"]
                                 .astype("string").to_numpy())
    else:
        loc_frame = raw.select(["locator"]).to_pandas() if isinstance(raw, pa.Table) else raw
        locator = loc_frame["locator"].astype("string").to_numpy()
    staged = pd.DataFrame(
        {
            "record_id": pd.RangeIndex(first_record_id, first_record_id + n).to_numpy(),
            "locator": locator,
            "record_hash": _inferred_text(hashes, lambda: hashes.to_pylist()),
            "parse_error": _string_array(parse_error),
            **{c: _string_array(a) for c, a in staged_cols.items()},
            "supplement_rounds": pd.arrays.IntegerArray(np.where(rounds_na, 0, rounds_np), rounds_na),
            "history_count": pd.arrays.IntegerArray(hcount_np, np.zeros(n, dtype=bool)),
        }
    )
    history = pd.DataFrame(
        {
            "record_id": pd.array(h_rid, dtype="int64"),
            "position": pd.array(h_pos, dtype="int64"),
            **{c: _string_array(a) for c, a in hist_cols.items()},
        }
    )
    return staged, history


def _place(fast: pa.Array, ref: pd.Series, order: np.ndarray) -> pa.Array:
    """The column with the reference rows' values in their places (``order``: output row
    -> index into fast values followed by reference values)."""
    both = pa.concat_arrays([fast.cast(pa.large_string()), pa.array(ref).cast(pa.large_string())])
    return both.take(pa.array(order))
