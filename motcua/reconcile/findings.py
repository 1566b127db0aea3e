"""What ``motcua check-report`` finds: :class:`Finding` (one fault or difference),
:class:`CheckResult` (everything found in one file) and :func:`format_text`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from motcua.reconcile.published import TABLES


@dataclass
class Finding:
    """One fault or difference. ``kind``: total, identity, blank, no_results, no_field,
    no_name, spelling, duplicate, numbering, not_a_number (internal faults); difference,
    not_in_warehouse, missing_from_report (against the warehouse). ``column`` is the
    column's label ("(4)" …)."""

    kind: str
    message: str
    row: str | None = None
    column: str | None = None
    report: Any = None
    expected: Any = None


@dataclass
class CheckResult:
    """What ``motcua check-report`` found."""

    path: str
    table: int
    sheet: str
    rows: int
    year: int | None
    warehouse: str | None
    faults: list[Finding]
    differences: list[Finding]
    notes: list[str]

    @property
    def ok(self) -> bool:
        return not self.faults and not self.differences

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        return d


def format_text(result: CheckResult) -> str:
    """The findings as readable text."""
    lines = [f"{result.path}: table {result.table} ({TABLES[result.table].title}), {result.rows} rows"
             + (f", sheet {result.sheet}" if result.sheet and result.sheet != Path(result.path).name else "")]
    lines.append(f"internal faults: {len(result.faults)}")
    lines += [f"  - {f.message}" for f in result.faults]
    if result.warehouse:
        lines.append(f"differences from the warehouse ({result.year}): {len(result.differences)}")
        lines += [f"  - {f.message}" for f in result.differences]
    else:
        lines.append("not compared with a warehouse")
    if result.notes:
        lines.append("notes:")
        lines += [f"  - {n}" for n in result.notes]
    lines.append("OK: nothing found" if result.ok else
                 f"FOUND {len(result.faults)} fault(s) and {len(result.differences)} difference(s)")
    return "\n".join(lines)
