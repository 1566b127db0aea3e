"""Fixtures of the dev tools' tests: the small, slightly messy export bundle of
:mod:`helpers.source_bundle` (the simulator serves it)."""

from __future__ import annotations

import pytest
from helpers.source_bundle import Bundle, make_bundle


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    """The shared small bundle (read-only: tests must not change it)."""
    return make_bundle(tmp_path_factory.mktemp("bundle"))
