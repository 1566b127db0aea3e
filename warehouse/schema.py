"""The warehouse schema: the one SQLAlchemy metadata everything else follows.

Layers (schemas): ``core`` (dimensions and facts, no personal data in clear),
``mart`` (what BI tools and reports read), ``audit`` (runs, quarantine, watermarks).
Every table states its grain in its ``comment``; every mart column carries its
Vietnamese label in ``info["vi"]`` and, in the database, a COMMENT that starts with it.
The marts are versioned tables (``mart.dossier_resolution_v1`` …) read through stable
views without the suffix (:data:`MART_VIEWS`), created like every table by the Alembic
revisions in ``warehouse/migrations``; the BI views are :mod:`warehouse.bi_views`. A
change here needs a new revision; tests/warehouse/test_migrations.py fails on any drift.
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

from transforms import mart_dossier_resolution

SCHEMAS = ("core", "mart", "audit")

metadata = MetaData()


def _vi(label: str) -> dict:
    return {"vi": label}


# --------------------------------------------------------------------------- core
def _c(vi: str, en: str) -> str:
    """A column comment: the Vietnamese label, then the English meaning."""
    return f"{vi} / {en}"


dim_agency = Table(
    "dim_agency",
    metadata,
    Column("agency_code", String, primary_key=True, comment=_c("Mã đơn vị", "agency code")),
    Column("valid_from", Date, primary_key=True, comment=_c("Hiệu lực từ", "version valid from")),
    Column("valid_to", Date, comment=_c("Hiệu lực đến (trống = còn hiệu lực)", "valid to (empty: still valid)")),
    Column("agency_name", String, comment=_c("Tên đơn vị", "agency name")),
    Column("parent_code", String, comment=_c("Mã đơn vị cha", "parent agency in the tree as it was")),
    Column("successor_code", String, comment=_c("Đơn vị thay thế (sáp nhập)", "successor after a merger (today's tree)")),
    Column("is_known", Boolean, nullable=False,
           comment=_c("Có trong danh mục", "False: placeholder for a code seen only on dossiers")),
    schema="core",
    comment="One row per agency version (type-2): agency_code x valid_from.",
)

dim_procedure = Table(
    "dim_procedure",
    metadata,
    Column("procedure_code", String, primary_key=True, comment=_c("Mã TTHC", "procedure code")),
    Column("valid_from", Date, primary_key=True, comment=_c("Hiệu lực từ", "version valid from")),
    Column("valid_to", Date, comment=_c("Hiệu lực đến (trống = còn hiệu lực)", "valid to (empty: still valid)")),
    Column("procedure_name", String, comment=_c("Tên TTHC", "procedure name")),
    Column("field_code", String, comment=_c("Mã lĩnh vực", "field code")),
    Column("field_name", String, comment=_c("Tên lĩnh vực", "field name")),
    Column("agency_code", String, comment=_c("Đơn vị giải quyết", "handling agency")),
    Column("processing_days", Integer, comment=_c("Thời hạn giải quyết (ngày làm việc)", "time limit, working days")),
    Column("service_level", String,
           comment=_c("Mức độ DVC (2, 3, 4, toan_trinh, mot_phan)", "online service level")),
    Column("service_url", String, comment=_c("Địa chỉ đăng tải", "where the service is published")),
    Column("is_published", Boolean, comment=_c("Công khai", "published")),
    Column("is_one_stop", Boolean, comment=_c("Một cửa", "handled one-stop")),
    Column("is_inter_agency", Boolean, comment=_c("Liên thông", "handled inter-agency one-stop")),
    schema="core",
    comment="One row per procedure version (type-2): procedure_code x valid_from.",
)

dim_field = Table(
    "dim_field",
    metadata,
    Column("field_code", String, primary_key=True, comment=_c("Mã lĩnh vực", "field code")),
    Column("field_name", String, comment=_c("Tên lĩnh vực", "field name")),
    schema="core",
    comment="One row per field (lĩnh vực) code.",
)

dim_channel = Table(
    "dim_channel",
    metadata,
    Column("channel_code", Integer, primary_key=True, autoincrement=False,
           comment=_c("Kênh thực hiện (KenhThucHien)", "intake channel code")),
    Column("name_vi", String, comment=_c("Tên kênh", "channel name in Vietnamese")),
    Column("name_en", String, comment=_c("Tên kênh (tiếng Anh)", "channel name in English")),
    Column("is_online", Boolean, comment=_c("Trực tuyến", "online channel")),
    schema="core",
    comment="One row per intake channel (1 in person, 2 online, 3 postal).",
)

dim_status = Table(
    "dim_status",
    metadata,
    Column("status_code", Integer, primary_key=True, autoincrement=False,
           comment=_c("Trạng thái hồ sơ (TrangThaiHoSo)", "dossier status code")),
    Column("name_vi", String, comment=_c("Tên trạng thái", "status name in Vietnamese")),
    Column("name_en", String, comment=_c("Tên trạng thái (tiếng Anh)", "status name in English")),
    Column("clock", String, comment=_c("Đồng hồ thời hạn", "not started | runs | paused | ends | -")),
    schema="core",
    comment="One row per dossier status code (1-10).",
)

dim_date = Table(
    "dim_date",
    metadata,
    Column("date", Date, primary_key=True, comment=_c("Ngày", "calendar date")),
    Column("year", Integer, comment=_c("Năm", "calendar year")),
    Column("quarter", Integer, comment=_c("Quý", "calendar quarter")),
    Column("month", Integer, comment=_c("Tháng", "calendar month")),
    Column("day_of_week", Integer, comment=_c("Thứ", "1 = Monday")),
    Column("is_working_day", Boolean, comment=_c("Ngày làm việc", "working day (Vietnam calendar, holidays package)")),
    schema="core",
    comment="One row per calendar date covered by the data.",
)

dim_indicator = Table(
    "dim_indicator",
    metadata,
    Column("indicator_code", String, primary_key=True, comment=_c("Mã chỉ số", "indicator code in mart.indicator")),
    Column("name_vi", String, nullable=False, comment=_c("Tên chỉ số", "indicator name in Vietnamese")),
    Column("name_en", String, nullable=False, comment=_c("Tên chỉ số (tiếng Anh)", "indicator name in English")),
    Column("unit", String, nullable=False, comment=_c("Đơn vị tính", "ratio | dossiers | working days")),
    Column("numerator_vi", String, comment=_c("Tử số", "what the numerator counts")),
    Column("denominator_vi", String, comment=_c("Mẫu số", "what the denominator counts")),
    Column("additive", Boolean, nullable=False,
           comment=_c("Cộng được", "value may be summed across agencies and periods (numerators and "
                                   "denominators of own-scope rows add across agencies)")),
    Column("legal_source", String, comment=_c("Căn cứ pháp lý", "legal source")),
    schema="core",
    comment="One row per indicator code of mart.indicator: names, unit, meaning, additivity, legal source.",
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
# ``mart.indicator`` (created by the migrations); the tables below are their current
# versions. A breaking change adds a new version and repoints the view, so a dashboard
# never breaks. Every mart column's COMMENT is ``Vietnamese label / English meaning``;
# ``mart.indicator_v2.agency_scope``: see :data:`transforms.mart_indicator.SCOPES`.


def _mart_column(name: str, type_: object, vi: str, en: str, **kw: object) -> Column:
    return Column(name, type_, info=_vi(vi), comment=_c(vi, en), **kw)  # type: ignore[arg-type]


# ``period_type`` values: calendar years and months, and Decree 09/2019/NĐ-CP's reporting
# years (15 December of the year before to 14 December)
PERIOD_TYPES = mart_dossier_resolution.PERIOD_TYPES


def _period_columns() -> list[Column]:
    return [
        _mart_column("period_type", String, "Loại kỳ", " | ".join(PERIOD_TYPES), primary_key=True),
        _mart_column("period_start", Date, "Từ ngày", "first day of the period", primary_key=True),
        _mart_column("period_end", Date, "Đến ngày", "last day of the period", nullable=False),
        _mart_column("agency_code", String, "Mã đơn vị", "receiving agency", primary_key=True),
    ]


def _bi_index(table_name: str) -> Index:
    """Agency-first index for BI filters (the primary key already leads with
    period_type, period_start, agency_code). PostgreSQL only: DuckDB scans columns and
    a secondary ART index would only slow the loads."""
    return Index(f"ix_{table_name}_agency_period", "agency_code", "period_type", "period_start").ddl_if(
        dialect="postgresql")


def _count(name: str, vi: str, en: str) -> Column:
    return _mart_column(name, BigInteger, vi, en, nullable=False)


dossier_resolution = Table(
    "dossier_resolution_v1",
    metadata,
    *_period_columns(),
    _mart_column("procedure_code", String, "Mã TTHC", "procedure code", primary_key=True),
    _mart_column("procedure_name", String, "Tên TTHC", "procedure name (catalogue version at the period's end)"),
    _mart_column("field_name", String, "Lĩnh vực", "field"),
    _count("received_total", "(4) Tổng số hồ sơ nhận giải quyết", "dossiers to handle: (5) + (6); stock + flow, never sum over periods"),
    _count("carried_over", "(5) Số kỳ trước chuyển qua", "stock: open at the period's start"),
    _count("received_new", "(6) Số mới tiếp nhận", "flow: received in the period"),
    _count("resolved_total", "(7) Tổng số đã giải quyết", "flow: resolved in the period, (8) + (9)"),
    _count("resolved_on_time", "(8) Trả đúng thời hạn", "flow: resolved on or before the due day"),
    _count("resolved_late", "(9) Trả quá hạn", "flow: resolved after the due day"),
    _count("pending_total", "(10) Tổng số đang giải quyết", "stock: open at the period's end, (11) + (12)"),
    _count("pending_not_due", "(11) Chưa đến hạn", "stock: open at the period's end, not yet due"),
    _count("pending_overdue", "(12) Quá hạn", "stock: open at the period's end, past the due day"),
    _count("withdrawn", "Rút hồ sơ / dừng xử lý", "flow: withdrawn or stopped in the period"),
    _count("resolved_early", "Trả trước hạn", "flow: resolved before the due day (part of (8))"),
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
    _mart_column("procedure_code", String, "Mã TTHC", "procedure code", primary_key=True),
    _mart_column("procedure_name", String, "Tên TTHC, DVC", "procedure name"),
    _mart_column("service_level", String, "Mức độ của dịch vụ", "online service level"),
    _mart_column("service_url", String, "Địa chỉ đăng tải dịch vụ", "where the service is published"),
    _count("received_online", "Tổng số hồ sơ tiếp nhận trực tuyến", "flow: new dossiers received online"),
    _count("received_offline", "Tổng số hồ sơ tiếp nhận trực tiếp (không trực tuyến)",
           "flow: new dossiers received in person or by post"),
    _bi_index("dossier_intake_v1"),
    schema="mart",
    info={"vi": "Kết quả tiếp nhận hồ sơ TTHC, DVC theo kênh", "view": "dossier_intake"},
    comment="Kết quả tiếp nhận hồ sơ TTHC, DVC theo kênh. One row per (period_type, period_start, "
            "agency_code, procedure_code): new dossiers by channel.",
)

indicator = Table(
    "indicator_v2",
    metadata,
    *_period_columns(),
    _mart_column("agency_scope", String, "Phạm vi đơn vị",
                 "rollup: the agency and all under it (never sum across agencies) | own: the agency alone (sums)",
                 primary_key=True),
    _mart_column("indicator_code", String, "Mã chỉ số", "indicator code (core.dim_indicator)", primary_key=True),
    _mart_column("numerator", Double, "Tử số", "numerator (core.dim_indicator.numerator_vi)"),
    _mart_column("denominator", Double, "Mẫu số", "denominator (core.dim_indicator.denominator_vi)"),
    _mart_column("value", Double, "Giá trị", "value: numerator / denominator, a count or working days; never summed"),
    _bi_index("indicator_v2"),
    schema="mart",
    info={"vi": "Chỉ số cải cách hành chính (tử số, mẫu số, giá trị)", "view": "indicator",
          "view_where": "agency_scope = 'rollup'"},
    comment="Chỉ số cải cách hành chính (tử số, mẫu số, giá trị). One row per (period_type, "
            "period_start, agency_code, agency_scope, indicator_code).",
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


def view_columns(view: str) -> list[Column]:
    """The columns of the stable view ``mart.<view>``: its table's, but for the columns
    the view filters on (``mart.indicator`` reads the ``agency_scope = 'rollup'`` rows of
    ``mart.indicator_v2`` and has no ``agency_scope``)."""
    table = MART_VIEWS[view]
    hidden = {"agency_scope"} if table.info.get("view_where") else set()
    return [c for c in table.columns if c.name not in hidden]

DIMENSION_TABLES = (dim_agency, dim_procedure, dim_field, dim_channel, dim_status, dim_date, dim_indicator)
"""Dimensions: no personal data; readable by BI."""

FACT_TABLES = (fct_dossier, fct_dossier_event)
"""Dossier-level facts (pseudonymous keys to people): never readable by BI."""

UNKEYED_ON_DUCKDB = frozenset(t.fullname for t in (*FACT_TABLES, publication_dossier))
"""Tables whose primary key exists on PostgreSQL only: on DuckDB the key's index would
be held in memory through a load (migrations 0004, 0005). The key above still names the grain,
which the merge keeps and the core suites check."""

AUDIT_TABLES = (quarantine, run, source_state, publication, publication_dossier)
"""Audit: the quarantine keeps raw records (personal data in clear); never readable by BI."""
