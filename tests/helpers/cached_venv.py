"""Virtualenvs that tests build once per machine and reuse: an older DuckDB, Apache
Superset, ... each kept OUT of motcua's own environment, under
``~/.cache/motcua-test/<name>`` (or ``$XDG_CACHE_HOME/motcua-test/<name>``).

:func:`cached_venv` creates the virtualenv the first time (under a file lock, so two
test sessions never build it at once), marks it ready only once every install step
succeeded and its check passes, and reuses it afterwards. When it cannot be had the
calling test is skipped loudly, or fails under ``CI=true`` (:func:`unavailable`).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/motcua-test`` or ``~/.cache/motcua-test``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "motcua-test"


def unavailable(message: str) -> None:
    """Skip the calling test with ``message``, loudly; under ``CI=true`` fail instead
    (CI provides every prerequisite and must not pass by skipping)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: failing instead of skipping)", pytrace=False)
    pytest.skip(f"SKIPPED, {message}")


def _tail(done: subprocess.CompletedProcess[str], lines: int = 3) -> str:
    return " | ".join((done.stderr or done.stdout).strip().splitlines()[-lines:])


def pip_steps(venv: Path, *installs: Sequence[str]) -> list[list[str]]:
    """Commands that create ``venv`` and run ``python -m pip install ARGS`` in it for
    each of ``installs`` (pip as configured on this machine)."""
    python = venv / "bin" / "python"
    return [[sys.executable, "-m", "venv", str(venv)],
            *([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args]
              for args in installs)]


def cached_venv(name: str, steps: Callable[[Path], Sequence[Sequence[str]]], ready: Callable[[Path], bool],
                what: str, consequence: str, timeout: float = 1800) -> Path:
    """The Python of the virtualenv ``cache_root()/name``.

    ``steps(venv)``: the commands that build it (e.g. :func:`pip_steps`), run in order
    when there is no ready one; ``ready(python)`` tells whether an existing one is
    usable. A half-made or broken virtualenv is removed and built again. When a step
    fails, :func:`unavailable` is called: "``what`` NOT AVAILABLE (why); ``consequence``".
    """
    venv = cache_root() / name
    python = venv / "bin" / "python"
    stamp = venv / ".motcua-ready"
    venv.parent.mkdir(parents=True, exist_ok=True)

    def give_up(why: str) -> None:
        shutil.rmtree(venv, ignore_errors=True)
        unavailable(f"{what} NOT AVAILABLE ({why}); {consequence}")

    with open(venv.parent / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test session may be creating it
        if stamp.exists() and ready(python):
            return python
        shutil.rmtree(venv, ignore_errors=True)  # a half-made or broken one
        for cmd in steps(venv):
            shown = " ".join(str(c) for c in cmd[:6])
            try:
                done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout)
            except (OSError, subprocess.TimeoutExpired) as exc:
                give_up(f"{shown}: {exc}")
            if done.returncode != 0:
                give_up(f"{shown} exited {done.returncode}: {_tail(done)}")
        if not ready(python):
            give_up(f"the new virtualenv {venv} fails its check")
        stamp.write_text(f"{what}\n")
    return python
