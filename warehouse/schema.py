"""The warehouse schema: the one SQLAlchemy metadata everything else follows.

Layers (schemas): ``core`` (dimensions and facts, no personal data in clear),
``mart`` (what BI tools and reports read), ``audit`` (runs, quarantine, watermarks).
Every table states its grain in its ``comment``; every mart column carries its
Vietnamese label in ``info["vi"]`` (used for COMMENTs and report headers).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
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
_PERIOD = [
    Column("period_type", String, primary_key=True, info=_vi("Loại kỳ"), comment="year | month"),
    Column("period_start", Date, primary_key=True, info=_vi("Từ ngày")),
    Column("period_end", Date, nullable=False, info=_vi("Đến ngày")),
    Column("agency_code", String, primary_key=True, info=_vi("Mã đơn vị")),
]

dossier_resolution = Table(
    "dossier_resolution",
    metadata,
    *[c.copy() for c in _PERIOD],
    Column("procedure_code", String, primary_key=True, info=_vi("Mã TTHC")),
    Column("procedure_name", String, info=_vi("Tên TTHC")),
    Column("field_name", String, info=_vi("Lĩnh vực")),
    Column("received_total", BigInteger, nullable=False, info=_vi("(4) Tổng số hồ sơ nhận giải quyết")),
    Column("carried_over", BigInteger, nullable=False, info=_vi("(5) Số kỳ trước chuyển qua")),
    Column("received_new", BigInteger, nullable=False, info=_vi("(6) Số mới tiếp nhận")),
    Column("resolved_total", BigInteger, nullable=False, info=_vi("(7) Tổng số đã giải quyết")),
    Column("resolved_on_time", BigInteger, nullable=False, info=_vi("(8) Trả đúng thời hạn")),
    Column("resolved_late", BigInteger, nullable=False, info=_vi("(9) Trả quá hạn")),
    Column("pending_total", BigInteger, nullable=False, info=_vi("(10) Tổng số đang giải quyết")),
    Column("pending_not_due", BigInteger, nullable=False, info=_vi("(11) Chưa đến hạn")),
    Column("pending_overdue", BigInteger, nullable=False, info=_vi("(12) Quá hạn")),
    Column("withdrawn", BigInteger, nullable=False, info=_vi("Rút hồ sơ / dừng xử lý")),
    Column("resolved_early", BigInteger, nullable=False, info=_vi("Trả trước hạn")),
    schema="mart",
    comment="One row per (period_type, period_start, agency_code, procedure_code): dossiers received and resolved.",
)

dossier_intake = Table(
    "dossier_intake",
    metadata,
    *[c.copy() for c in _PERIOD],
    Column("procedure_code", String, primary_key=True, info=_vi("Mã TTHC")),
    Column("procedure_name", String, info=_vi("Tên TTHC, DVC")),
    Column("service_level", String, info=_vi("Mức độ của dịch vụ")),
    Column("service_url", String, info=_vi("Địa chỉ đăng tải dịch vụ")),
    Column("received_online", BigInteger, nullable=False, info=_vi("Tổng số hồ sơ tiếp nhận trực tuyến")),
    Column("received_offline", BigInteger, nullable=False, info=_vi("Tổng số hồ sơ tiếp nhận trực tiếp (không trực tuyến)")),
    schema="mart",
    comment="One row per (period_type, period_start, agency_code, procedure_code): new dossiers by channel.",
)

indicator = Table(
    "indicator",
    metadata,
    *[c.copy() for c in _PERIOD],
    Column("indicator_code", String, primary_key=True, info=_vi("Mã chỉ số")),
    Column("numerator", Float, info=_vi("Tử số")),
    Column("denominator", Float, info=_vi("Mẫu số")),
    Column("value", Float, info=_vi("Giá trị")),
    schema="mart",
    comment="One row per (period_type, period_start, agency_code, indicator_code).",
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

MART_TABLES = (dossier_resolution, dossier_intake, indicator)
