"""The process environment as motcua reads it: the ``MOTCUA_`` prefix, the ``.env`` file,
the secrets (never fields of :class:`motcua.settings.Settings`) and the test hook.

With :class:`motcua.settings.Settings`, the only code that reads a ``MOTCUA_`` variable. It
imports nothing of motcua, so that :mod:`motcua.redact` (which the settings use to hide
URL passwords) can read the secret and URL variables without an import cycle.
"""

from __future__ import annotations

import os
from pathlib import Path

PREFIX = "MOTCUA_"
SECRET_DESCRIPTIONS = {
    "MOTCUA_PSEUDONYM_KEY": "REQUIRED secret key for applicant pseudonyms (HMAC-SHA256; or a Prefect Secret "
                            "block 'motcua-pseudonym-key'); keep it stable",
    "MOTCUA_SOURCE_TOKEN": "bearer token for the one-stop system's HTTP API, if it has one",
}
SECRET_VARIABLES = tuple(SECRET_DESCRIPTIONS)
"""Variables whose values are secrets: never a field, never shown."""
URL_VARIABLES = ("MOTCUA_WAREHOUSE_URL", "MOTCUA_SOURCE")
"""Variables that may hold a URL with a password (the real URL behind a redacted one)."""
class SettingsError(ValueError):
    """A setting is missing or invalid."""


def _load_dotenv(path: Path = Path(".env")) -> None:
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        os.environ.setdefault(key.strip(), value.strip().strip('"').strip("'"))


def secret(name: str) -> str | None:
    """The secret ``MOTCUA_<NAME>`` (``pseudonym_key``, ``source_token``), read at run
    time (after ``.env``), or None when unset or empty. Never a field of :class:`Settings`."""
    variable = PREFIX + name.upper()
    if variable not in SECRET_VARIABLES:
        raise KeyError(f"{variable} is not a secret setting")
    _load_dotenv()
    return os.environ.get(variable) or None


def secret_values() -> set[str]:
    """The values of the secret variables that are set (for redaction)."""
    return {v for v in (os.environ.get(n) for n in SECRET_VARIABLES) if v}


def url_values() -> list[str]:
    """The URLs the URL variables hold (the real ones, passwords included): only for
    :func:`motcua.redact.reveal`, which matches a redacted URL to its original."""
    _load_dotenv()
    return [v for v in (os.environ.get(n) for n in URL_VARIABLES) if v]


def pause_hook() -> tuple[str | None, str | None, float]:
    """The test hook (inert in production): ``MOTCUA_TEST_PAUSE_AT`` (a stage's name),
    ``MOTCUA_TEST_PAUSE_FILE`` and ``MOTCUA_TEST_PAUSE_SECONDS`` (default 600)."""
    return (os.environ.get("MOTCUA_TEST_PAUSE_AT"), os.environ.get("MOTCUA_TEST_PAUSE_FILE"),
            float(os.environ.get("MOTCUA_TEST_PAUSE_SECONDS") or 600))



#: the Makefile's demonstration key (``make run`` on the bundled sample): refused for any
#: other source (:func:`check_demo_key`), where pseudonyms must rest on a real secret
DEMO_PSEUDONYM_KEY = "sample-demo-key-not-for-production"
#: the file ``motcua sample`` writes into the bundles it makes, and only there
SAMPLE_MARKER = "MOTCUA-SAMPLE.txt"


def check_demo_key(key: bytes, source: str) -> None:
    """A :class:`SettingsError` when ``key`` is the demonstration key and ``source`` is
    not a bundle written by ``motcua sample`` (a folder holding :data:`SAMPLE_MARKER`):
    anyone who read the Makefile could recompute the pseudonyms of real applicants."""
    if key != DEMO_PSEUDONYM_KEY.encode("utf-8"):
        return
    if "://" not in source and not source.startswith("raw:") and (Path(source) / SAMPLE_MARKER).is_file():
        return
    raise SettingsError(
        "MOTCUA_PSEUDONYM_KEY is the Makefile's demonstration key, accepted only for the bundled sample "
        "(`motcua sample`); set your own secret for this source, e.g. "
        "python -c \"import secrets; print(secrets.token_hex(32))\"")


def pseudonym_key() -> bytes:
    """The HMAC key for applicant pseudonyms: ``MOTCUA_PSEUDONYM_KEY``, else a Prefect
    Secret block named ``motcua-pseudonym-key``. Missing or empty is an error, never an
    empty key."""
    value = secret("pseudonym_key")
    if not value:
        try:
            from prefect.blocks.system import Secret

            value = Secret.load("motcua-pseudonym-key", _sync=True).get()  # type: ignore[call-arg]
        except Exception:  # noqa: BLE001 - no server, no block: same answer
            value = None
    if not value:
        raise SettingsError(
            "no pseudonymisation key: set MOTCUA_PSEUDONYM_KEY (or a Prefect Secret block "
            "'motcua-pseudonym-key'); applicant identifiers are never stored in clear"
        )
    return value.encode("utf-8")
