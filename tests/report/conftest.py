"""Fixtures of the report tests: the report written from the hand-built tables of
:mod:`helpers.render`."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.render import make_tables

from motcua.report import write_report


@pytest.fixture(scope="session")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The files written from ``make_tables()`` (read-only: tests must not change them)."""
    return write_report(make_tables(), tmp_path_factory.mktemp("report"))
