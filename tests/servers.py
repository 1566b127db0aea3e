"""Checking that a server the tests need (MariaDB, PostgreSQL, ...) is there.

``require_server(host, port, what)`` skips the calling test, loudly, when nothing
answers on ``host:port``; when the environment variable ``CI`` is ``"true"`` it fails
instead: CI starts its services and must not pass by skipping them.
"""

from __future__ import annotations

import os
import socket

import pytest


def require_server(host: str, port: int, what: str, timeout: float = 2.0) -> None:
    """Skip (or, on CI, fail) unless a TCP server answers on ``host:port``."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        message = (
            f"{what} NOT REACHABLE at {host}:{port} ({exc}); "
            f"tests that need {what} cannot run without it"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (CI=true: failing instead of skipping)", pytrace=False)
        pytest.skip(f"SKIPPED, {message}")
