"""Rendering the annual CCHC report from already-computed tables.

>>> from motcua.report import ReportTables, write_report, print_tables
>>> paths = write_report(tables, Path("var/reports/2019"))  # doctest: +SKIP

* :class:`ReportTables` (:mod:`motcua.report.model`): the input, documented column by column;
* :func:`write_report` (:mod:`motcua.report.render`): XLSX, CSV, Parquet, HTML, paragraph;
* :func:`print_tables` (:mod:`motcua.report.console`): tables 1 and 2 in a terminal;
* :func:`draft_section_ii2`: the drafted paragraph of section II.2;
* :func:`check_tables`: the contradictions the renderer refuses.
"""

from motcua.report.checks import check_tables
from motcua.report.console import print_tables
from motcua.report.model import COLUMNS, ReportDataError, ReportTables, empty_frame
from motcua.report.paragraph import draft_section_ii2
from motcua.report.render import write_report

__all__ = [
    "COLUMNS",
    "ReportDataError",
    "ReportTables",
    "check_tables",
    "draft_section_ii2",
    "empty_frame",
    "print_tables",
    "write_report",
]
