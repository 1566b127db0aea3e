"""The warehouse schema: the one SQLAlchemy metadata everything else follows.

Layers (schemas): ``core`` (dimensions and facts, no personal data in clear),
``mart`` (what BI tools and reports read), ``audit`` (runs, quarantine, watermarks).
Every table states its grain in its ``comment``; every mart column carries its
Vietnamese label in ``info["vi"]`` and, in the database, a COMMENT that starts with it.

The marts are versioned tables (``mart.dossier_resolution_v1`` …) read by BI tools
through stable views without the suffix (``mart.dossier_resolution`` …, see
:data:`MART_VIEWS`); the views, like every table, are created by the Alembic revisions
in ``warehouse/migrations`` (:func:`warehouse.engine.create_schema`). A change here
needs a new revision; tests/warehouse/test_migrations.py fails on any drift.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

SCHEMAS = ("core", "mart", "audit")

metadata = MetaData()


def _vi(label: str) -> dict:
    return {"vi": label}


# --------------------------------------------------------------------------- core
dim_agency = Table(
    "dim_agency",
    metadata,
    Column("agency_code", String, primary_key=True, comment="Mã đơn vị"),
    Column("valid_from", Date, primary_key=True, comment="Hiệu lực từ"),
    Column("valid_to", Date, comment="Hiệu lực đến (trống = còn hiệu lực)"),
    Column("agency_name", String, comment="Tên đơn vị"),
    Column("parent_code", String, comment="Mã đơn vị cha"),
    Column("successor_code", String, comment="Đơn vị thay thế (sáp nhập)"),
    Column("is_known", Boolean, nullable=False, comment="False: placeholder for a code seen only on dossiers"),
    schema="core",
    comment="One row per agency version (type-2): agency_code x valid_from.",
)

dim_procedure = Table(
    "dim_procedure",
    metadata,
    Column("procedure_code", String, primary_key=True, comment="Mã TTHC"),
    Column("valid_from", Date, primary_key=True, comment="Hiệu lực từ"),
    Column("valid_to", Date, comment="Hiệu lực đến (trống = còn hiệu lực)"),
    Column("procedure_name", String, comment="Tên TTHC"),
    Column("field_code", String, comment="Mã lĩnh vực"),
    Column("field_name", String, comment="Tên lĩnh vực"),
    Column("agency_code", String, comment="Đơn vị giải quyết"),
    Column("processing_days", Integer, comment="Thời hạn giải quyết (ngày làm việc)"),
    Column("service_level", String, comment="Mức độ DVC (2, 3, 4, toan_trinh, mot_phan)"),
    Column("service_url", String, comment="Địa chỉ đăng tải"),
    Column("is_published", Boolean, comment="Công khai"),
    Column("is_one_stop", Boolean, comment="Một cửa"),
    Column("is_inter_agency", Boolean, comment="Liên thông"),
    schema="core",
    comment="One row per procedure version (type-2): procedure_code x valid_from.",
)

dim_field = Table(
    "dim_field",
    metadata,
    Column("field_code", String, primary_key=True, comment="Mã lĩnh vực"),
    Column("field_name", String, comment="Tên lĩnh vực"),
    schema="core",
    comment="One row per field (lĩnh vực) code.",
)

dim_channel = Table(
    "dim_channel",
    metadata,
    Column("channel_code", Integer, primary_key=True, autoincrement=False, comment="KenhThucHien"),
    Column("name_vi", String),
    Column("name_en", String),
    Column("is_online", Boolean),
    schema="core",
    comment="One row per intake channel (1 in person, 2 online, 3 postal).",
)

dim_status = Table(
    "dim_status",
    metadata,
    Column("status_code", Integer, primary_key=True, autoincrement=False, comment="TrangThaiHoSo"),
    Column("name_vi", String),
    Column("name_en", String),
    Column("clock", String, comment="not started | runs | paused | ends | -"),
    schema="core",
    comment="One row per dossier status code (1-10).",
)

dim_date = Table(
    "dim_date",
    metadata,
    Column("date", Date, primary_key=True),
    Column("year", Integer),
    Column("quarter", Integer),
    Column("month", Integer),
    Column("day_of_week", Integer, comment="1 = Monday"),
    Column("is_working_day", Boolean, comment="Vietnam calendar (holidays package)"),
    schema="core",
    comment="One row per calendar date covered by the data.",
)

fct_dossier = Table(
    "fct_dossier",
    metadata,
    Column("dossier_code", String, primary_key=True, comment="Mã hồ sơ"),
    Column("procedure_code", String, nullable=False, comment="Mã TTHC as recorded ('' if absent)"),
    Column("procedure_name_recorded", String, comment="TenTTHC as typed by the system"),
    Column("field_code", String),
    Column("agency_code", String, nullable=False, comment="MaDonVi as recorded ('' if absent)"),
    Column("channel_code", Integer, comment="1 in person, 2 online, 3 postal"),
    Column("status_code", Integer, nullable=False),
    Column("applicant_type", Integer),
    Column("is_received", Boolean, nullable=False, comment="status not 1 (unaccepted) nor 3 (refused)"),
    Column("submitted_at", DateTime),
    Column("intake_at", DateTime, comment="r"),
    Column("due_date", Date, comment="u (date)"),
    Column("due_source", String, comment="recorded | computed"),
    Column("resolved_at", DateTime, comment="f, when it ends the dossier"),
    Column("withdrawn_at", DateTime, comment="w, when it ends the dossier"),
    Column("ended_at", DateTime, comment="the earlier of f and w"),
    Column("returned_at", DateTime),
    Column("refused_at", DateTime),
    Column("resolution_class", String, comment="early | on_time | late (resolved only)"),
    Column("processing_working_days", Integer, comment="working days in (date(r), date(f)]"),
    Column("rating", Integer),
    Column("paid_online", Boolean),
    Column("digitised", Boolean),
    Column("supplement_rounds", Integer),
    Column("applicant_pseudonym", String, comment="HMAC-SHA256 of the applicant's ID number"),
    Column("phone_pseudonym", String),
    Column("email_pseudonym", String),
    Column("procedure_known", Boolean, nullable=False, comment="flag: code found in the catalogue"),
    Column("agency_known", Boolean, nullable=False, comment="flag: code found among the agencies"),
    Column("updated_at", DateTime, nullable=False, comment="NgayCapNhat of the current snapshot"),
    Column("record_hash", String, nullable=False, comment="sha256 of the current snapshot's raw text"),
    Column("source", String),
    Column("run_id", String),
    schema="core",
    comment="One row per dossier: accumulating snapshot of its current state and milestones.",
)

fct_dossier_event = Table(
    "fct_dossier_event",
    metadata,
    Column("dossier_code", String, primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False, comment="order by event time, then as listed"),
    Column("status_code", Integer),
    Column("event_at", DateTime),
    Column("agency_code", String),
    Column("office", String),
    schema="core",
    comment="One row per processing-history entry of a dossier's current snapshot.",
)

# --------------------------------------------------------------------------- mart
# BI tools read the stable views ``mart.dossier_resolution``, ``mart.dossier_intake`` and
# ``mart.indicator`` (created by the migrations, see warehouse/migrations); the tables
# below are their current versions (``_v1``). A breaking change adds a ``_v2`` table and
# repoints the view, so a dashboard never breaks. Every mart column's COMMENT is its
# Vietnamese label (``info["vi"]``), followed by an English note where one helps.


def _mart_column(name: str, type_: object, vi: str, note: str | None = None, **kw: object) -> Column:
    comment = f"{vi} ({note})" if note else vi
    return Column(name, type_, info=_vi(vi), comment=comment, **kw)  # type: ignore[arg-type]


def _period_columns() -> list[Column]:
    return [
        _mart_column("period_type", String, "Loại kỳ", "year | month", primary_key=True),
        _mart_column("period_start", Date, "Từ ngày", primary_key=True),
        _mart_column("period_end", Date, "Đến ngày", nullable=False),
        _mart_column("agency_code", String, "Mã đơn vị", primary_key=True),
    ]


def _bi_index(table_name: str) -> Index:
    """Agency-first index for BI filters (the primary key already leads with
    period_type, period_start, agency_code). PostgreSQL only: DuckDB scans columns and
    a secondary ART index would only slow the loads."""
    return Index(f"ix_{table_name}_agency_period", "agency_code", "period_type", "period_start").ddl_if(
        dialect="postgresql")


dossier_resolution = Table(
    "dossier_resolution_v1",
    metadata,
    *_period_columns(),
    _mart_column("procedure_code", String, "Mã TTHC", primary_key=True),
    _mart_column("procedure_name", String, "Tên TTHC"),
    _mart_column("field_name", String, "Lĩnh vực"),
    _mart_column("received_total", BigInteger, "(4) Tổng số hồ sơ nhận giải quyết", nullable=False),
    _mart_column("carried_over", BigInteger, "(5) Số kỳ trước chuyển qua", nullable=False),
    _mart_column("received_new", BigInteger, "(6) Số mới tiếp nhận", nullable=False),
    _mart_column("resolved_total", BigInteger, "(7) Tổng số đã giải quyết", nullable=False),
    _mart_column("resolved_on_time", BigInteger, "(8) Trả đúng thời hạn", nullable=False),
    _mart_column("resolved_late", BigInteger, "(9) Trả quá hạn", nullable=False),
    _mart_column("pending_total", BigInteger, "(10) Tổng số đang giải quyết", nullable=False),
    _mart_column("pending_not_due", BigInteger, "(11) Chưa đến hạn", nullable=False),
    _mart_column("pending_overdue", BigInteger, "(12) Quá hạn", nullable=False),
    _mart_column("withdrawn", BigInteger, "Rút hồ sơ / dừng xử lý", nullable=False),
    _mart_column("resolved_early", BigInteger, "Trả trước hạn", nullable=False),
    _bi_index("dossier_resolution_v1"),
    schema="mart",
    info={"vi": "Tình hình, kết quả giải quyết hồ sơ TTHC", "view": "dossier_resolution"},
    comment="Tình hình, kết quả giải quyết hồ sơ TTHC. One row per (period_type, period_start, "
            "agency_code, procedure_code): dossiers received and resolved.",
)

dossier_intake = Table(
    "dossier_intake_v1",
    metadata,
    *_period_columns(),
    _mart_column("procedure_code", String, "Mã TTHC", primary_key=True),
    _mart_column("procedure_name", String, "Tên TTHC, DVC"),
    _mart_column("service_level", String, "Mức độ của dịch vụ"),
    _mart_column("service_url", String, "Địa chỉ đăng tải dịch vụ"),
    _mart_column("received_online", BigInteger, "Tổng số hồ sơ tiếp nhận trực tuyến", nullable=False),
    _mart_column("received_offline", BigInteger, "Tổng số hồ sơ tiếp nhận trực tiếp (không trực tuyến)",
                 nullable=False),
    _bi_index("dossier_intake_v1"),
    schema="mart",
    info={"vi": "Kết quả tiếp nhận hồ sơ TTHC, DVC theo kênh", "view": "dossier_intake"},
    comment="Kết quả tiếp nhận hồ sơ TTHC, DVC theo kênh. One row per (period_type, period_start, "
            "agency_code, procedure_code): new dossiers by channel.",
)

indicator = Table(
    "indicator_v1",
    metadata,
    *_period_columns(),
    _mart_column("indicator_code", String, "Mã chỉ số", primary_key=True),
    _mart_column("numerator", Double, "Tử số"),
    _mart_column("denominator", Double, "Mẫu số"),
    _mart_column("value", Double, "Giá trị"),
    _bi_index("indicator_v1"),
    schema="mart",
    info={"vi": "Chỉ số cải cách hành chính (tử số, mẫu số, giá trị)", "view": "indicator"},
    comment="Chỉ số cải cách hành chính (tử số, mẫu số, giá trị). One row per (period_type, "
            "period_start, agency_code, indicator_code).",
)

# --------------------------------------------------------------------------- audit
quarantine = Table(
    "quarantine",
    metadata,
    Column("quarantine_id", String, primary_key=True, comment="sha256 of source, locator and record"),
    Column("run_id", String, nullable=False),
    Column("source", String, nullable=False),
    Column("locator", String, comment="file:line, page:item or table:key"),
    Column("dossier_code", String, comment="MaHoSo when it could be read"),
    Column("reason", Text, nullable=False),
    Column("record", Text, nullable=False, comment="raw text as read"),
    Column("quarantined_at", DateTime, nullable=False),
    Column("resolved_run_id", String, comment="run that loaded it after a fix (null = still open)"),
    schema="audit",
    comment="One row per quarantined record (line or row), with its reason and raw text.",
)

run = Table(
    "run",
    metadata,
    Column("run_id", String, primary_key=True),
    Column("flow", String),
    Column("source", String),
    Column("started_at", DateTime),
    Column("finished_at", DateTime),
    Column("status", String),
    Column("records_read", BigInteger),
    Column("records_loaded", BigInteger),
    Column("records_quarantined", BigInteger),
    Column("dossiers_changed", BigInteger),
    Column("message", Text),
    schema="audit",
    comment="One row per pipeline run.",
)

source_state = Table(
    "source_state",
    metadata,
    Column("source", String, primary_key=True),
    Column("watermark", String, comment="greatest NgayCapNhat loaded, yyyyMMddHHmmss"),
    Column("updated_at", DateTime),
    Column("run_id", String),
    schema="audit",
    comment="One row per source: the incremental watermark, advanced with the load.",
)

publication = Table(
    "publication",
    metadata,
    Column("publication_id", String, primary_key=True),
    Column("year", Integer, nullable=False),
    Column("convention", String, nullable=False, comment="calendar | decree09"),
    Column("agency_scope", String, nullable=False, comment="agency code, or * for all"),
    Column("published_at", DateTime, nullable=False),
    Column("figures", Text, nullable=False,
           comment="JSON: per procedure_code|column of tables 1-2, the cell's value (non-zero cells)"),
    schema="audit",
    comment="One row per publication of an annual report: what period, when, the figures.",
)

publication_dossier = Table(
    "publication_dossier",
    metadata,
    Column("publication_id", String, primary_key=True),
    Column("dossier_code", String, primary_key=True, comment="Mã hồ sơ"),
    Column("procedure_code", String, nullable=False, comment="the table row the dossier counts in"),
    Column("cells", Integer, nullable=False,
           comment="bit i set: the dossier counts in column i of motcua.publication.FIGURE_COLUMNS"),
    schema="audit",
    comment="One row per (publication_id, dossier_code): the cells of tables 1-2 a published dossier counts in; "
            "kept for the latest publication of each report only (the next one is compared with it).",
)

MART_TABLES = (dossier_resolution, dossier_intake, indicator)
"""The current versions of the mart tables (what the pipeline writes)."""

MART_VIEWS: dict[str, Table] = {t.info["view"]: t for t in MART_TABLES}
"""Stable view name (in schema ``mart``) -> the table it reads: what BI tools use."""

DIMENSION_TABLES = (dim_agency, dim_procedure, dim_field, dim_channel, dim_status, dim_date)
"""Dimensions: no personal data; readable by BI."""

FACT_TABLES = (fct_dossier, fct_dossier_event)
"""Dossier-level facts (pseudonymous keys to people): never readable by BI."""

UNKEYED_ON_DUCKDB = frozenset(t.fullname for t in (*FACT_TABLES, publication_dossier))
"""Tables whose primary key exists on PostgreSQL only: on DuckDB the key's index would
be held in memory through a load (migrations 0004, 0005). The key above still names the grain,
which the merge keeps and the core suites check."""

AUDIT_TABLES = (quarantine, run, source_state, publication, publication_dossier)
"""Audit: the quarantine keeps raw records (personal data in clear); never readable by BI."""
