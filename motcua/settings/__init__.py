"""One typed settings object, read from ``MOTCUA_*`` environment variables (and a
``.env`` file in the working folder, if present; see ``.env.example``), parsed from each
field's annotation by pydantic-settings. This package is the only place that reads a
``MOTCUA_`` variable (``tests/test_settings.py`` holds the tree to that).

Secrets (the pseudonymisation key, source tokens, URL passwords) are not fields: they are
read at run time by :mod:`motcua.settings.environment` and never written to logs, artifacts or
``prefect.yaml``. A URL's password is kept out of the settings object itself:
:attr:`Settings.warehouse_url` and :attr:`Settings.source` are always the redacted URL
(``user:***@``; see :mod:`motcua.redact`), so printing, logging or serialising the
settings (as Prefect does with task and subflow parameters) shows no password; the real
URL is looked up only when a connection is opened (:func:`warehouse.engine.make_engine`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from motcua.redact import conceal
from motcua.settings.environment import (
    PREFIX,
    SECRET_DESCRIPTIONS,
    SECRET_VARIABLES,
    URL_VARIABLES,
    SettingsError,
    _load_dotenv,
    check_demo_key,
    pause_hook,
    pseudonym_key,
    secret,
    secret_values,
    url_values,
)

__all__ = ["PREFIX", "SECRET_DESCRIPTIONS", "SECRET_VARIABLES", "URL_VARIABLES", "Settings", "SettingsError", "describe",
           "check_demo_key", "pause_hook", "pseudonym_key", "secret", "secret_values", "url_values"]

_URL_FIELDS = ("warehouse_url", "source")


class Settings(BaseSettings):
    """Pipeline settings. Environment variable = ``MOTCUA_`` + upper-case field name; an
    empty variable is unset.

    ``warehouse_url`` and ``source`` hold the URL as shown (its password, if any, as
    ``***``: see :func:`motcua.redact.conceal`), whatever they were built from."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_ignore_empty=True, frozen=True, extra="ignore",
                                      validate_default=True)

    warehouse_url: str = Field("duckdb:///var/warehouse.duckdb", description="SQLAlchemy URL of the warehouse")
    data_dir: Path = Field(Path("var"), description="raw zone, run folders and reports live here")
    source: str | None = Field(None, description=(
        "the default source (bundle folder, http(s):// API, database URL) when a command or the nightly "
        "deployment is given none; read at run time, so no secret sits in prefect.yaml"))
    quarantine_threshold: float = Field(0.05, ge=0, le=1, description=(
        "a run fails when more than this share of the records read is quarantined"))
    allow_source_faults: bool = Field(False, description=(
        "accept a run that completed with source faults (a file cut off or vanished mid-run): exit 0 and a "
        "Completed flow run; the faults are still recorded in audit.run and reported"))
    calendar_overrides: Path | None = Field(None, description=(
        "CSV agency_code,date,kind(off|work) of extra days off / working days"))
    raw_retention_days: int = Field(400, ge=0, description=(
        "days the raw landing zone and the run folders keep their files (nightly deletes older ones)"))
    batch_records: int = Field(100_000, ge=1, description="records per processing batch")
    shard_records: int = Field(1_000_000, ge=1, description="raw records per staging shard (the unit of parallel work)")
    bucket_records: int = Field(125_000, ge=1, description=(
        "records per load bucket (load memory is bounded by one bucket)"))
    workers: int = Field(0, ge=0, description=(
        "processes that stage the shards of a run (0: one per core; 1: in this process)"))
    dask: str | None = Field(None, description=(
        "stage shards on Dask: a scheduler address (tcp://host:8786), or local[:N] for a LocalCluster of N "
        "worker processes; unset: in this process"))
    lock_timeout_seconds: float = Field(6 * 3600.0, gt=0, description=(
        "seconds a run waits for another run's warehouse write lock"))
    write_limit: Literal["auto", "on", "off"] = Field("auto", description=(
        "the Prefect global concurrency limit for writes: auto (when PREFECT_API_URL is set), on (always; "
        "an error without a server) or off (the database lock only)"))
    duckdb_memory_limit: str | None = Field(None, description=(
        "cap on DuckDB's own memory (e.g. 1GB; default: DuckDB's, 80 % of the RAM)"))
    duckdb_threads: int | None = Field(None, ge=1, description="DuckDB's threads (default: one per core)")
    http_page_size: int | None = Field(None, ge=1, description=(
        "items per page asked of the HTTP source (default: the source's own)"))
    max_record_bytes: int = Field(1 << 20, ge=1, description=(
        "a record (line, sheet row, API item, database row) over this many bytes is quarantined "
        "(record_too_large), never held whole"))
    max_file_bytes: int = Field(1 << 30, ge=1, description=(
        "a file or HTTP response read whole (CSV, XLSX part, legacy-encoded JSONL, API page) over this many "
        "bytes stops the run"))
    max_compression_ratio: int = Field(100, ge=0, description=(
        "a compressed file (.jsonl.gz, XLSX part) expanding to more than this many times its size (and this "
        "many MiB) stops the run: a decompression bomb; 0: no limit"))
    http_max_empty_pages: int = Field(3, ge=1, description=(
        "the HTTP source ends a pass after this many consecutive empty pages before the last page the "
        "server announced (with a warning)"))

    @field_validator(*_URL_FIELDS)
    @classmethod
    def _concealed(cls, value: str | None) -> str | None:
        return None if value is None else conceal(value)  # type: ignore[return-value]

    @field_validator("write_limit", mode="before")
    @classmethod
    def _mode(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """The settings from the environment (and ``.env``), ``overrides`` that are not
        None taking precedence; a :class:`SettingsError` naming the variable when one is
        invalid."""
        _load_dotenv()
        try:
            return cls(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
        except ValidationError as exc:
            raise SettingsError(_explain(exc)) from None


def _explain(exc: ValidationError) -> str:
    out = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else "?"
        shown = "" if name in _URL_FIELDS else f", got {err.get('input')!r}"
        out.append(f"{PREFIX}{name.upper()}: {err['msg']}{shown}")
    return "; ".join(out)


def describe() -> list[tuple[str, str, str]]:
    """Every setting as (variable, default, description), for ``--help`` and ``.env.example``."""
    rows = []
    for name, f in Settings.model_fields.items():
        default = "" if f.default is None else str(f.default)
        rows.append((f"{PREFIX}{name.upper()}", default, f.description or ""))
    return rows


