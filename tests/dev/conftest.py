"""Fixtures of the dev tools' tests: the small, slightly messy export bundle of
:mod:`helpers.source_bundle` (the simulator serves it), and the sample bundle of
``motcua sample`` read back with :mod:`helpers.sample_counter`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.sample_counter import _current, _lines
from helpers.source_bundle import Bundle, make_bundle

from motcua.dev.sample.bundle import write_sample


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    """The shared small bundle (read-only: tests must not change it)."""
    return make_bundle(tmp_path_factory.mktemp("bundle"))


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The sample bundle of seed 2019 and its summary (read-only: tests must not change it);
    ``test_sample*.py`` call it ``bundle``."""
    out = tmp_path_factory.mktemp("sample")
    return out, write_sample(out, seed=2019)


@pytest.fixture(scope="session")
def lines(sample: tuple[Path, dict[str, Any]]) -> list[str]:
    return _lines(sample[0])


@pytest.fixture(scope="session")
def current(lines: list[str]) -> dict[str, dict[str, Any]]:
    return _current(lines)
