"""Test set-up shared by every test: an isolated Prefect home, analytics off, and
``tests/`` importable (for the small helpers in ``tests/helpers``)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

_PREFECT_HOME = tempfile.mkdtemp(prefix="motcua-prefect-")
os.environ.setdefault("PREFECT_HOME", _PREFECT_HOME)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ["MOTCUA_PSEUDONYM_KEY"] = "test-key-for-pseudonyms"


# --------------------------------------------------------------------------- Prefect
import pytest  # noqa: E402 - after the environment above, which Prefect reads on import


@pytest.fixture(scope="session")
def prefect_harness():  # a generator fixture: yields the API URL (str)
    """ONE Prefect test server (``prefect_test_harness``) for the whole session, started
    on first use; yields its API URL (flows run in this process use it; a subprocess
    can be pointed at it with ``PREFECT_API_URL``)."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    # None: wait up to PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS (90, set above)
    with prefect_test_harness(server_startup_timeout=None):
        yield PREFECT_API_URL.value()
