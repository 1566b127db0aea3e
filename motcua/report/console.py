"""Tables 1 and 2 (with their totals rows) printed in a terminal with ``rich``.

Names come from the source (procedures, fields, agencies): every cell and the heading's
agency name is passed to rich as :class:`rich.text.Text` (or escaped), never as markup,
so that ``[red]`` or ``[/bold]`` in a name is printed as it is."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from motcua.report.html import cell_text
from motcua.report.layout import Sheet, build_sheets, period_text
from motcua.report.model import ReportTables


def short_header(sheet: Sheet, j: int) -> str:
    """Column ``j``'s header in a terminal: its short header (else its last header line),
    after its number on a numbered sheet ("(4)\nNhận\ntổng", "(2) Tên TTHC")."""
    c = sheet.columns[j]
    text = c.short or c.header[-1]
    if not sheet.numbered:
        return text
    return sheet.column_numbers()[j] + ("\n" if c.kind in ("int", "stt") else " ") + text


def _rich_table(sheet: Sheet, skip: tuple[str, ...] = ()) -> Table:
    table = Table(title=Text(sheet.title), caption=None, show_lines=False, header_style="bold",
                  title_style="bold", expand=False)
    keep = [j for j, c in enumerate(sheet.columns) if c.key not in skip]
    for j in keep:
        c = sheet.columns[j]
        numeric = c.kind in ("int", "stt")
        table.add_column(short_header(sheet, j), justify="right" if numeric else "left",
                         overflow="fold", no_wrap=numeric,
                         max_width=None if numeric else (48 if c.key == "procedure_name" else 24))
    for i, row in enumerate(sheet.rows):
        last = i == len(sheet.rows) - 1
        table.add_row(*(Text(cell_text(row[j])) for j in keep), end_section=last)
    if sheet.totals is not None:
        cells = [Text(cell_text(c)) for c in sheet.total_cells()]
        cells[0], cells[1] = Text(""), cells[0]  # "Tổng cộng" under the names, as in the seed
        table.add_row(*(cells[j] for j in keep), style="bold")
    return table


def print_tables(tables: ReportTables, console: Console | None = None) -> None:
    """Print table 1 and table 2, each with its "Tổng cộng" row, to ``console``."""
    console = console or Console()
    tables, _ = tables.normalized()
    sheets = {s.name: s for s in build_sheets(tables)}
    console.print(f"[bold]{escape(str(tables.agency_name))}[/bold] — {escape(period_text(tables))}")
    console.print(_rich_table(sheets["bieu1"], skip=("service_url",)))
    console.print(_rich_table(sheets["bieu2"]))
