"""One typed settings object, read from ``MOTCUA_*`` environment variables (and a
``.env`` file in the working folder, if present; see ``.env.example``).

Secrets (the pseudonymisation key, source tokens) are read at run time and never
written to logs, artifacts or ``prefect.yaml``. A warehouse URL's password is kept out
of the settings object itself: :attr:`Settings.warehouse_url` is always the redacted URL
(``user:***@``; see :mod:`motcua.redact`), so printing, logging or serialising the
settings (as Prefect does with task and subflow parameters) shows no password; the real
URL is looked up only when a connection is opened (:func:`warehouse.engine.make_engine`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from motcua.redact import conceal


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


@dataclass(frozen=True)
class Settings:
    """Pipeline settings. Environment variable = ``MOTCUA_`` + upper-case field name.

    ``warehouse_url`` holds the URL as shown (its password, if any, as ``***``: see
    :func:`motcua.redact.conceal`), whatever it was built from."""

    warehouse_url: str = field(default="duckdb:///var/warehouse.duckdb",
                               metadata={"help": "SQLAlchemy URL of the warehouse"})
    data_dir: Path = field(default=Path("var"), metadata={"help": "raw zone, run folders and reports live here"})
    quarantine_threshold: float = field(default=0.05, metadata={
        "help": "a run fails when more than this share of the records read is quarantined"})
    calendar_overrides: Path | None = field(default=None, metadata={
        "help": "CSV agency_code,date,kind(off|work) of extra days off / working days"})
    raw_retention_days: int = field(default=400, metadata={"help": "days the raw landing zone keeps files"})
    batch_records: int = field(default=100_000, metadata={"help": "records per processing batch"})
    shard_records: int = field(default=1_000_000, metadata={
        "help": "raw records per staging shard (the unit of parallel work)"})
    bucket_records: int = field(default=125_000, metadata={
        "help": "records per load bucket (load memory is bounded by one bucket)"})
    workers: int = field(default=0, metadata={
        "help": "processes that stage the shards of a run (0: one per core; 1: in this process)"})
    dask: str | None = field(default=None, metadata={
        "help": "stage shards on Dask: a scheduler address (tcp://host:8786), or local[:N] for a "
                "LocalCluster of N worker processes; unset: in this process"})
    max_record_bytes: int = field(default=1 << 20, metadata={
        "help": "a record (line, sheet row, API item, database row) over this many bytes is quarantined "
                "(record_too_large), never held whole"})
    max_file_bytes: int = field(default=1 << 30, metadata={
        "help": "a file or HTTP response read whole (CSV, XLSX part, legacy-encoded JSONL, API page) over "
                "this many bytes stops the run"})
    max_compression_ratio: int = field(default=100, metadata={
        "help": "a compressed file (.jsonl.gz, XLSX part) expanding to more than this many times its size "
                "(and this many MiB) stops the run: a decompression bomb; 0: no limit"})
    http_max_empty_pages: int = field(default=3, metadata={
        "help": "the HTTP source ends a pass after this many consecutive empty pages before the last "
                "page the server announced (with a warning)"})

    def __post_init__(self) -> None:
        object.__setattr__(self, "warehouse_url", conceal(self.warehouse_url))

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        _load_dotenv()
        values: dict[str, object] = {}
        for f in fields(cls):
            env = os.environ.get(f"MOTCUA_{f.name.upper()}")
            if env is None or env == "":
                continue
            if f.name in ("data_dir", "calendar_overrides"):
                values[f.name] = Path(env)
            elif f.name == "quarantine_threshold":
                try:
                    values[f.name] = float(env)
                except ValueError as exc:
                    raise SettingsError(f"MOTCUA_QUARANTINE_THRESHOLD must be a number, got {env!r}") from exc
            elif f.name in ("raw_retention_days", "batch_records", "shard_records", "bucket_records", "workers",
                            "max_record_bytes", "max_file_bytes", "max_compression_ratio", "http_max_empty_pages"):
                try:
                    values[f.name] = int(env)
                except ValueError as exc:
                    raise SettingsError(f"MOTCUA_{f.name.upper()} must be an integer, got {env!r}") from exc
            else:
                values[f.name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name in ("data_dir", "calendar_overrides"):  # a folder given as text (CLI, flow parameter)
            if isinstance(values.get(name), str):
                values[name] = Path(values[name])  # type: ignore[arg-type]
        s = cls(**values)  # type: ignore[arg-type]
        if not 0 <= s.quarantine_threshold <= 1:
            raise SettingsError(f"quarantine threshold must be between 0 and 1, got {s.quarantine_threshold}")
        for name in ("batch_records", "shard_records", "bucket_records", "max_record_bytes", "max_file_bytes",
                     "http_max_empty_pages"):
            if getattr(s, name) < 1:
                raise SettingsError(f"MOTCUA_{name.upper()} must be at least 1, got {getattr(s, name)}")
        if s.max_compression_ratio < 0:
            raise SettingsError(f"MOTCUA_MAX_COMPRESSION_RATIO must be 0 (no limit) or more, got {s.max_compression_ratio}")
        if s.workers < 0:
            raise SettingsError(f"MOTCUA_WORKERS must be 0 (one per core) or more, got {s.workers}")
        return s


def pseudonym_key() -> bytes:
    """The HMAC key for applicant pseudonyms: ``MOTCUA_PSEUDONYM_KEY``, else a Prefect
    Secret block named ``motcua-pseudonym-key``. Missing or empty is an error, never an
    empty key."""
    _load_dotenv()
    value = os.environ.get("MOTCUA_PSEUDONYM_KEY")
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
