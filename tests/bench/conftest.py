"""Fixtures of the benchmark tests: a tiny bundle made by ``bench/gen_bundle.py`` (300
dossiers, seed 7, 12 procedures, slices of 128), made once, and its floor."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers.bench import floor, gen, normalise


@pytest.fixture(scope="session")
def base_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench") / "base"
    plan = gen.plan_from_args(
        [
            "--dossiers",
            "300",
            "--out",
            str(out),
            "--seed",
            "7",
            "--procedures",
            "12",
            "--slice",
            "128",
        ]
    )
    gen.generate(plan, log=False)
    return out


@pytest.fixture(scope="session")
def base_floor(base_bundle: Path) -> pd.DataFrame:
    return normalise(floor.floor_frame(base_bundle))
