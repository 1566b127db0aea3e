"""What a published table gets wrong by itself: totals that are not the sum of the rows,
identities of the table that fail in a row (those of
:data:`~transforms.report_tables.TABLE2`: (4)=(5)+(6), (7)=(8)+(9), (10)=(11)+(12),
(4)=(7)+(10)+withdrawn), blank cells, rows without results or without a field, names or
fields spelled two ways ("TCDLCL" / "TCĐLCL": compared without accents and with Đ as D).
Pure."""

from __future__ import annotations

from motcua.reconcile.findings import Finding
from motcua.reconcile.published import (
    LABELS,
    RESULT_COLUMNS,
    TABLES,
    PublishedTable,
    ReportRow,
    code_key,
    fold,
)
from transforms.report_tables import TOTAL_ROW, Identity, Table


def _rows_text(labels: list[str]) -> str:
    return ("row " if len(labels) == 1 else "rows ") + ", ".join(labels)


def _spelling(rows: list[ReportRow], attr: str, key: str, what: str) -> list[Finding]:
    groups: dict[str, dict[str, list[str]]] = {}
    for r in rows:
        v = getattr(r, attr)
        if v:
            groups.setdefault(code_key(v) if key == "field_name" else fold(v), {}).setdefault(v, []).append(r.label)
    out = []
    for spellings in groups.values():
        if len(spellings) > 1:
            parts = [f"'{s}' ({_rows_text(labels)})" for s, labels in spellings.items()]
            out.append(Finding("spelling", f"{what} spelled {len(spellings)} ways: " + " vs ".join(parts),
                               column=LABELS.get(key), report=list(spellings)))
    return out


def _identity(t: PublishedTable, table: Table, identity: Identity, r: ReportRow) -> Finding | None:
    """Where ``identity`` fails on row ``r``. A part the form has no column for (withdrawn)
    may be missing from the table: then the total must not be below the other parts, and
    a total above them is noted (what the missing column would count)."""
    v = r.values
    absent = [p for p in identity.parts if p not in t.counts]
    if identity.total not in t.counts or any(table[p].number is not None for p in absent):
        return None
    present = [p for p in identity.parts if p in t.counts]
    if any(v.get(k) is None for k in (identity.total, *present)):
        return None
    total, s = v[identity.total], sum(v[p] for p in present)
    if total != s and (not absent or total < s):
        return Finding("identity", f"row {r.label}: {table.identity_text(identity)} fails: {total} ≠ "
                                   f"{' + '.join(str(v[p]) for p in present)} = {s}",
                       r.label, LABELS[identity.total], total, s)
    if total > s:
        terms = " − ".join(table.term(k) for k in (identity.total, *present))
        t.notes.append(f"row {r.label}: {terms} = {total - s}: {', '.join(table[p].absent for p in absent)}, "
                       "which the table has no column for")
    return None


def internal_faults(t: PublishedTable) -> list[Finding]:
    """What the table gets wrong by itself (see the module docstring)."""
    table = TABLES[t.table]
    out: list[Finding] = []
    for r in t.rows:
        for k, v in r.bad_cells.items():
            out.append(Finding("not_a_number", f"row {r.label}, column {LABELS[k]}: {v!r} is not a count",
                               r.label, LABELS[k], v))
        if not r.name:
            out.append(Finding("no_name", f"row {r.label}: no procedure name", r.label, LABELS["procedure_name"]))
        if t.table == 2 and t.has_field and not r.field:
            out.append(Finding("no_field", f"row {r.label}: no field (column {LABELS['field_name']} blank)", r.label,
                               LABELS["field_name"]))
    # blank cells, rows without results
    result_label = f"{LABELS[RESULT_COLUMNS[0]]}–{LABELS[RESULT_COLUMNS[-1]]}"
    for r in t.rows + ([t.total] if t.total else []):
        results = [k for k in RESULT_COLUMNS if k in t.counts]
        no_results = t.table == 2 and results and all(r.values.get(k) is None and k not in r.bad_cells
                                                      for k in results)
        if no_results:
            out.append(Finding("no_results", f"row {r.label}: no results (columns {result_label} blank)", r.label,
                               result_label))
        for k in t.counts:
            if r.values.get(k) is None and k not in r.bad_cells and not (no_results and k in results):
                out.append(Finding("blank", f"row {r.label}, column {LABELS[k]}: blank", r.label, LABELS[k]))
    # identities, per row and on the total row
    for r in t.rows + ([t.total] if t.total else []):
        out += [f for identity in table.identities if (f := _identity(t, table, identity, r))]
    # totals = sum of rows
    if t.total is not None:
        for k in t.counts:
            got = t.total.values.get(k)
            s = sum(r.values.get(k) or 0 for r in t.rows)
            if got is not None and got != s:
                out.append(Finding("total", f"column {LABELS[k]}: total row says {got}, rows add up to {s}",
                                   "total", LABELS[k], got, s))
    else:
        t.notes.append(f"no '{TOTAL_ROW}' row: totals not checked")
    # spelled two ways, numbering
    if t.table == 2:
        out += _spelling(t.rows, "field", "field_name", "field")
    names: dict[str, list[str]] = {}
    for r in t.rows:
        if r.name:
            names.setdefault(fold(r.name), []).append(r.label)
    for labels in names.values():
        if len(labels) > 1:
            out.append(Finding("duplicate", f"{_rows_text(labels)}: the same procedure (names equal without "
                                            "accents and case)", ", ".join(labels), LABELS["procedure_name"]))
    numbers = [int(r.label) for r in t.rows if r.label.isdigit()]
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        out.append(Finding("numbering", f"row numbers are not 1..{len(numbers)} in order: {numbers}", None,
                           LABELS["stt"]))
    return out
