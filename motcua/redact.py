"""Keeping passwords out of everything Prefect stores and everything motcua prints.

A warehouse or source URL may carry a password (``postgresql+psycopg://user:PW@host/db``,
``mysql+pymysql://user:PW@host/db``). Prefect stores and shows a flow run's parameters,
results, artifacts and logs, so the password must never reach them. The rule:

* :func:`redact_url` is *the* way to show a URL: SQLAlchemy's
  ``make_url(url).render_as_string(hide_password=True)`` (the password becomes ``***``),
  plus the values of secret query parameters (``?password=…``, ``?token=…``). A URL
  without a secret is returned unchanged, byte for byte; a text that is not a URL (a
  folder, a file) too.
* :func:`conceal` registers a URL's secret in this process and returns its redacted form.
  :class:`motcua.settings.Settings` and :class:`flows.stages.runs.Run` only ever hold
  redacted URLs; the command line passes redacted URLs as flow parameters.
* :func:`reveal` gives the real URL back, only where a connection is opened
  (:func:`warehouse.engine.make_engine`, :func:`motcua.sources.open_source`) and where a
  source's stable name is computed: from this process's registry (filled by
  :func:`conceal`), else from ``MOTCUA_WAREHOUSE_URL`` / ``MOTCUA_SOURCE`` (a worker's
  environment) whose redacted form is the same, else, when a Prefect API is configured,
  from the Prefect Secret blocks ``motcua-warehouse-url`` / ``motcua-source``.
* :func:`scrub` replaces every known secret in a text (error messages, audit rows), and
  :func:`install_log_redaction` puts a filter doing the same on the log handlers
  (Prefect's API handler included), as a last line of defence.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import quote, quote_plus

MASK = "***"
"""What a hidden secret looks like (SQLAlchemy's own mask)."""
SECRET_QUERY_KEYS = frozenset({"password", "passwd", "pwd", "sslpassword", "token", "access_token", "api_key",
                               "apikey", "secret", "client_secret"})
"""Query parameters whose value is a secret (case-insensitive)."""
SECRET_BLOCKS = ("motcua-warehouse-url", "motcua-source")
"""Prefect Secret blocks that may hold a full URL (see :func:`reveal`)."""
MIN_SECRET_LENGTH = 4
"""Shorter secrets are not scrubbed from free text (they would mangle it); they are still
never shown in a URL."""

_LOCK = threading.Lock()
_REAL: dict[str, str] = {}  # redacted URL -> real URL
_SECRETS: set[str] = set()  # passwords and secret query values seen by conceal()


def _parse(text: str):  # noqa: ANN202 - sqlalchemy.engine.URL | None
    """``text`` as a SQLAlchemy URL, or None when it is not one."""
    if "://" not in text:
        return None
    from sqlalchemy.engine import make_url

    try:
        return make_url(text)
    except Exception:  # noqa: BLE001 - ArgumentError, or ValueError for a bad port
        return None


def _secret_keys(url) -> list[str]:  # noqa: ANN001
    return [k for k in url.query if k.lower() in SECRET_QUERY_KEYS]


def _query_values(url, key: str) -> list[str]:  # noqa: ANN001
    value = url.query[key]
    return [str(v) for v in value] if isinstance(value, tuple) else [str(value)]


def redact_url(value: str | None) -> str | None:
    """``value`` safe to show: a URL with its password (and secret query values) as
    ``***``; anything without a secret unchanged. A text that looks like a URL but cannot
    be parsed is shown as its scheme only (``scheme://***``): it may hold anything."""
    if value is None or "://" not in value:
        return value
    url = _parse(value)
    if url is None:
        return value.split("://", 1)[0][:40] + "://" + MASK
    keys = _secret_keys(url)
    if url.password is None and not keys:
        return value
    if keys:
        url = url.update_query_dict({k: MASK for k in keys})
    # the query's values are URL-encoded: show the mask as the mask
    return url.render_as_string(hide_password=True).replace("=%2A%2A%2A", "=" + MASK)


def is_redacted(value: str | None) -> bool:
    """True when ``value`` is a URL whose secret was replaced by ``***`` (by :func:`redact_url`)."""
    if not value or "://" not in value:
        return False
    url = _parse(value)
    if url is None:
        return value.endswith("://" + MASK)
    return url.password == MASK or any(_query_values(url, k) == [MASK] for k in _secret_keys(url))


def has_secret(value: str | None) -> bool:
    """True when ``value`` carries a secret in clear (showing it as it is would leak it)."""
    if not value or "://" not in value:
        return False
    url = _parse(value)
    if url is None:
        return not value.endswith("://" + MASK)
    return url.password not in (None, MASK) or any(v != MASK for k in _secret_keys(url) for v in _query_values(url, k))


def conceal(value: str | None) -> str | None:
    """Remember ``value``'s secret in this process (for :func:`reveal` and :func:`scrub`)
    and return :func:`redact_url` of it. Anything without a secret comes back unchanged."""
    if value is None or not has_secret(value):
        return value
    shown = redact_url(value)
    url = _parse(value)
    secrets = {str(url.password)} if url is not None and url.password else set()
    if url is not None:
        secrets |= {v for k in _secret_keys(url) for v in _query_values(url, k)}
    with _LOCK:
        _REAL[shown] = value  # type: ignore[index]
        _SECRETS.update(s for s in secrets if s and s != MASK)
    install_log_redaction()
    return shown


def _prefect_api_configured() -> bool:
    try:
        from prefect.settings import get_current_settings

        return bool(get_current_settings().api.url)
    except Exception:  # noqa: BLE001 - no Prefect, no API
        return False


def _from_secret_blocks(shown: str) -> str | None:
    from prefect.blocks.system import Secret

    for name in SECRET_BLOCKS:
        try:
            value = Secret.load(name, _sync=True).get()  # type: ignore[call-arg]
        except Exception:  # noqa: BLE001 - no such block: try the next
            continue
        if isinstance(value, str) and redact_url(value) == shown:
            return value
    return None


def reveal(value: str) -> str:
    """The real URL behind a redacted one (see the module docstring for where it is
    looked up); anything not redacted is returned as it is. Raises
    :class:`motcua.settings.SettingsError` (showing only the redacted URL) when the
    password is hidden and this process cannot find it."""
    with _LOCK:
        real = _REAL.get(value)
    if real is not None or not is_redacted(value):
        return real or value
    from motcua.settings.environment import SettingsError, url_values

    for env in url_values():  # the worker's MOTCUA_WAREHOUSE_URL / MOTCUA_SOURCE
        if redact_url(env) == value:
            conceal(env)
            return env
    if _prefect_api_configured():
        block = _from_secret_blocks(value)
        if block is not None:
            conceal(block)
            return block
    raise SettingsError(
        f"{value}: the password is hidden and this process does not know it: set MOTCUA_WAREHOUSE_URL "
        f"(or MOTCUA_SOURCE) to the full URL, or store it in a Prefect Secret block "
        f"({' or '.join(repr(b) for b in SECRET_BLOCKS)})")


def check_parameter(name: str, value: str | None) -> str | None:
    """A flow parameter must not carry a password (Prefect stores and shows parameters):
    raise :class:`motcua.settings.SettingsError` if it does (the message shows the URL
    redacted); return it otherwise."""
    if has_secret(value):
        from motcua.settings.environment import SettingsError

        raise SettingsError(
            f"the flow parameter {name!r} ({redact_url(value)}) carries a password, and Prefect stores and shows "
            f"flow-run parameters: pass the URL redacted (the real one from MOTCUA_WAREHOUSE_URL / MOTCUA_SOURCE "
            f"or a Prefect Secret block {' / '.join(repr(b) for b in SECRET_BLOCKS)}), or in Python conceal it "
            "first with motcua.redact.conceal(url)")
    return value


def _known_secrets() -> list[str]:
    with _LOCK:
        found = set(_SECRETS)
    from motcua.settings.environment import secret_values

    found |= secret_values()
    forms = set()
    for s in found:
        if len(s) >= MIN_SECRET_LENGTH:
            forms |= {s, quote_plus(s), quote(s, safe="")}
    return sorted(forms, key=len, reverse=True)  # longest first: no half-replaced secret


def scrub(text: object) -> str:
    """``str(text)`` with every known secret (passwords of concealed URLs, their
    URL-encoded forms, ``MOTCUA_PSEUDONYM_KEY``, ``MOTCUA_SOURCE_TOKEN``) as ``***``."""
    out = str(text)
    with _LOCK:
        reals = sorted(_REAL.items(), key=lambda kv: len(kv[1]), reverse=True)
    for shown, real in reals:
        out = out.replace(real, shown)
    for secret in _known_secrets():
        out = out.replace(secret, MASK)
    return out


class RedactingFilter(logging.Filter):
    """A handler filter: the record's message and traceback with every known secret
    scrubbed (see :func:`scrub`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _known_secrets():
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is the logging module's to report
            return True
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


_FILTER = RedactingFilter()
LOGGERS = ("", "prefect", "prefect.flow_runs", "prefect.task_runs", "prefect.extra", "motcua")


def install_log_redaction() -> None:
    """Put :class:`RedactingFilter` on every handler of the root, Prefect's and motcua's
    loggers (idempotent; call again after Prefect configures its logging)."""
    for name in LOGGERS:
        for handler in logging.getLogger(name).handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
