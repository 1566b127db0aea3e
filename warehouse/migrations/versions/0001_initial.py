"""Initial schema: the schemas core, mart and audit and their tables, as first built by
``metadata.create_all`` (the marts as plain tables ``mart.dossier_resolution``,
``mart.dossier_intake`` and ``mart.indicator``).

This revision is frozen: later changes to warehouse/schema.py go in new revisions.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

SCHEMAS = ("core", "mart", "audit")
TABLES = (
    ("audit", "quarantine"), ("audit", "run"), ("audit", "source_state"),
    ("core", "dim_agency"), ("core", "dim_channel"), ("core", "dim_date"), ("core", "dim_field"),
    ("core", "dim_procedure"), ("core", "dim_status"), ("core", "fct_dossier"), ("core", "fct_dossier_event"),
    ("mart", "dossier_intake"), ("mart", "dossier_resolution"), ("mart", "indicator"),
)


def upgrade() -> None:
    """Create the schemas and every table."""
    for name in SCHEMAS:
        op.execute(sa.schema.CreateSchema(name, if_not_exists=True))
    op.create_table('quarantine',
        sa.Column('quarantine_id', sa.String(), nullable=False, comment='sha256 of source, locator and record'),
        sa.Column('run_id', sa.String(), nullable=False),
        sa.Column('source', sa.String(), nullable=False),
        sa.Column('locator', sa.String(), nullable=True, comment='file:line, page:item or table:key'),
        sa.Column('dossier_code', sa.String(), nullable=True, comment='MaHoSo when it could be read'),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('record', sa.Text(), nullable=False, comment='raw text as read'),
        sa.Column('quarantined_at', sa.DateTime(), nullable=False),
        sa.Column('resolved_run_id', sa.String(), nullable=True, comment='run that loaded it after a fix (null = still open)'),
        sa.PrimaryKeyConstraint('quarantine_id'),
        schema='audit',
        comment='One row per quarantined record (line or row), with its reason and raw text.'
    )
    op.create_table('run',
        sa.Column('run_id', sa.String(), nullable=False),
        sa.Column('flow', sa.String(), nullable=True),
        sa.Column('source', sa.String(), nullable=True),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('status', sa.String(), nullable=True),
        sa.Column('records_read', sa.BigInteger(), nullable=True),
        sa.Column('records_loaded', sa.BigInteger(), nullable=True),
        sa.Column('records_quarantined', sa.BigInteger(), nullable=True),
        sa.Column('dossiers_changed', sa.BigInteger(), nullable=True),
        sa.Column('message', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('run_id'),
        schema='audit',
        comment='One row per pipeline run.'
    )
    op.create_table('source_state',
        sa.Column('source', sa.String(), nullable=False),
        sa.Column('watermark', sa.String(), nullable=True, comment='greatest NgayCapNhat loaded, yyyyMMddHHmmss'),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.Column('run_id', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('source'),
        schema='audit',
        comment='One row per source: the incremental watermark, advanced with the load.'
    )
    op.create_table('dim_agency',
        sa.Column('agency_code', sa.String(), nullable=False, comment='Mã đơn vị'),
        sa.Column('valid_from', sa.Date(), nullable=False, comment='Hiệu lực từ'),
        sa.Column('valid_to', sa.Date(), nullable=True, comment='Hiệu lực đến (trống = còn hiệu lực)'),
        sa.Column('agency_name', sa.String(), nullable=True, comment='Tên đơn vị'),
        sa.Column('parent_code', sa.String(), nullable=True, comment='Mã đơn vị cha'),
        sa.Column('successor_code', sa.String(), nullable=True, comment='Đơn vị thay thế (sáp nhập)'),
        sa.Column('is_known', sa.Boolean(), nullable=False, comment='False: placeholder for a code seen only on dossiers'),
        sa.PrimaryKeyConstraint('agency_code', 'valid_from'),
        schema='core',
        comment='One row per agency version (type-2): agency_code x valid_from.'
    )
    op.create_table('dim_channel',
        sa.Column('channel_code', sa.Integer(), autoincrement=False, nullable=False, comment='KenhThucHien'),
        sa.Column('name_vi', sa.String(), nullable=True),
        sa.Column('name_en', sa.String(), nullable=True),
        sa.Column('is_online', sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint('channel_code'),
        schema='core',
        comment='One row per intake channel (1 in person, 2 online, 3 postal).'
    )
    op.create_table('dim_date',
        sa.Column('date', sa.Date(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=True),
        sa.Column('quarter', sa.Integer(), nullable=True),
        sa.Column('month', sa.Integer(), nullable=True),
        sa.Column('day_of_week', sa.Integer(), nullable=True, comment='1 = Monday'),
        sa.Column('is_working_day', sa.Boolean(), nullable=True, comment='Vietnam calendar (holidays package)'),
        sa.PrimaryKeyConstraint('date'),
        schema='core',
        comment='One row per calendar date covered by the data.'
    )
    op.create_table('dim_field',
        sa.Column('field_code', sa.String(), nullable=False, comment='Mã lĩnh vực'),
        sa.Column('field_name', sa.String(), nullable=True, comment='Tên lĩnh vực'),
        sa.PrimaryKeyConstraint('field_code'),
        schema='core',
        comment='One row per field (lĩnh vực) code.'
    )
    op.create_table('dim_procedure',
        sa.Column('procedure_code', sa.String(), nullable=False, comment='Mã TTHC'),
        sa.Column('valid_from', sa.Date(), nullable=False, comment='Hiệu lực từ'),
        sa.Column('valid_to', sa.Date(), nullable=True, comment='Hiệu lực đến (trống = còn hiệu lực)'),
        sa.Column('procedure_name', sa.String(), nullable=True, comment='Tên TTHC'),
        sa.Column('field_code', sa.String(), nullable=True, comment='Mã lĩnh vực'),
        sa.Column('field_name', sa.String(), nullable=True, comment='Tên lĩnh vực'),
        sa.Column('agency_code', sa.String(), nullable=True, comment='Đơn vị giải quyết'),
        sa.Column('processing_days', sa.Integer(), nullable=True, comment='Thời hạn giải quyết (ngày làm việc)'),
        sa.Column('service_level', sa.String(), nullable=True, comment='Mức độ DVC (2, 3, 4, toan_trinh, mot_phan)'),
        sa.Column('service_url', sa.String(), nullable=True, comment='Địa chỉ đăng tải'),
        sa.Column('is_published', sa.Boolean(), nullable=True, comment='Công khai'),
        sa.Column('is_one_stop', sa.Boolean(), nullable=True, comment='Một cửa'),
        sa.Column('is_inter_agency', sa.Boolean(), nullable=True, comment='Liên thông'),
        sa.PrimaryKeyConstraint('procedure_code', 'valid_from'),
        schema='core',
        comment='One row per procedure version (type-2): procedure_code x valid_from.'
    )
    op.create_table('dim_status',
        sa.Column('status_code', sa.Integer(), autoincrement=False, nullable=False, comment='TrangThaiHoSo'),
        sa.Column('name_vi', sa.String(), nullable=True),
        sa.Column('name_en', sa.String(), nullable=True),
        sa.Column('clock', sa.String(), nullable=True, comment='not started | runs | paused | ends | -'),
        sa.PrimaryKeyConstraint('status_code'),
        schema='core',
        comment='One row per dossier status code (1-10).'
    )
    op.create_table('fct_dossier',
        sa.Column('dossier_code', sa.String(), nullable=False, comment='Mã hồ sơ'),
        sa.Column('procedure_code', sa.String(), nullable=False, comment="Mã TTHC as recorded ('' if absent)"),
        sa.Column('procedure_name_recorded', sa.String(), nullable=True, comment='TenTTHC as typed by the system'),
        sa.Column('field_code', sa.String(), nullable=True),
        sa.Column('agency_code', sa.String(), nullable=False, comment="MaDonVi as recorded ('' if absent)"),
        sa.Column('channel_code', sa.Integer(), nullable=True, comment='1 in person, 2 online, 3 postal'),
        sa.Column('status_code', sa.Integer(), nullable=False),
        sa.Column('applicant_type', sa.Integer(), nullable=True),
        sa.Column('is_received', sa.Boolean(), nullable=False, comment='status not 1 (unaccepted) nor 3 (refused)'),
        sa.Column('submitted_at', sa.DateTime(), nullable=True),
        sa.Column('intake_at', sa.DateTime(), nullable=True, comment='r'),
        sa.Column('due_date', sa.Date(), nullable=True, comment='u (date)'),
        sa.Column('due_source', sa.String(), nullable=True, comment='recorded | computed'),
        sa.Column('resolved_at', sa.DateTime(), nullable=True, comment='f, when it ends the dossier'),
        sa.Column('withdrawn_at', sa.DateTime(), nullable=True, comment='w, when it ends the dossier'),
        sa.Column('ended_at', sa.DateTime(), nullable=True, comment='the earlier of f and w'),
        sa.Column('returned_at', sa.DateTime(), nullable=True),
        sa.Column('refused_at', sa.DateTime(), nullable=True),
        sa.Column('resolution_class', sa.String(), nullable=True, comment='early | on_time | late (resolved only)'),
        sa.Column('processing_working_days', sa.Integer(), nullable=True, comment='working days in (date(r), date(f)]'),
        sa.Column('rating', sa.Integer(), nullable=True),
        sa.Column('paid_online', sa.Boolean(), nullable=True),
        sa.Column('digitised', sa.Boolean(), nullable=True),
        sa.Column('supplement_rounds', sa.Integer(), nullable=True),
        sa.Column('applicant_pseudonym', sa.String(), nullable=True, comment="HMAC-SHA256 of the applicant's ID number"),
        sa.Column('phone_pseudonym', sa.String(), nullable=True),
        sa.Column('email_pseudonym', sa.String(), nullable=True),
        sa.Column('procedure_known', sa.Boolean(), nullable=False, comment='flag: code found in the catalogue'),
        sa.Column('agency_known', sa.Boolean(), nullable=False, comment='flag: code found among the agencies'),
        sa.Column('updated_at', sa.DateTime(), nullable=False, comment='NgayCapNhat of the current snapshot'),
        sa.Column('record_hash', sa.String(), nullable=False, comment="sha256 of the current snapshot's raw text"),
        sa.Column('source', sa.String(), nullable=True),
        sa.Column('run_id', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('dossier_code'),
        schema='core',
        comment='One row per dossier: accumulating snapshot of its current state and milestones.'
    )
    op.create_table('fct_dossier_event',
        sa.Column('dossier_code', sa.String(), nullable=False),
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False, comment='order by event time, then as listed'),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('event_at', sa.DateTime(), nullable=True),
        sa.Column('agency_code', sa.String(), nullable=True),
        sa.Column('office', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('dossier_code', 'seq'),
        schema='core',
        comment="One row per processing-history entry of a dossier's current snapshot."
    )
    op.create_table('dossier_intake',
        sa.Column('period_type', sa.String(), nullable=False, comment='year | month'),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('agency_code', sa.String(), nullable=False),
        sa.Column('procedure_code', sa.String(), nullable=False),
        sa.Column('procedure_name', sa.String(), nullable=True),
        sa.Column('service_level', sa.String(), nullable=True),
        sa.Column('service_url', sa.String(), nullable=True),
        sa.Column('received_online', sa.BigInteger(), nullable=False),
        sa.Column('received_offline', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('period_type', 'period_start', 'agency_code', 'procedure_code'),
        schema='mart',
        comment='One row per (period_type, period_start, agency_code, procedure_code): new dossiers by channel.'
    )
    op.create_table('dossier_resolution',
        sa.Column('period_type', sa.String(), nullable=False, comment='year | month'),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('agency_code', sa.String(), nullable=False),
        sa.Column('procedure_code', sa.String(), nullable=False),
        sa.Column('procedure_name', sa.String(), nullable=True),
        sa.Column('field_name', sa.String(), nullable=True),
        sa.Column('received_total', sa.BigInteger(), nullable=False),
        sa.Column('carried_over', sa.BigInteger(), nullable=False),
        sa.Column('received_new', sa.BigInteger(), nullable=False),
        sa.Column('resolved_total', sa.BigInteger(), nullable=False),
        sa.Column('resolved_on_time', sa.BigInteger(), nullable=False),
        sa.Column('resolved_late', sa.BigInteger(), nullable=False),
        sa.Column('pending_total', sa.BigInteger(), nullable=False),
        sa.Column('pending_not_due', sa.BigInteger(), nullable=False),
        sa.Column('pending_overdue', sa.BigInteger(), nullable=False),
        sa.Column('withdrawn', sa.BigInteger(), nullable=False),
        sa.Column('resolved_early', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('period_type', 'period_start', 'agency_code', 'procedure_code'),
        schema='mart',
        comment='One row per (period_type, period_start, agency_code, procedure_code): dossiers received and resolved.'
    )
    op.create_table('indicator',
        sa.Column('period_type', sa.String(), nullable=False, comment='year | month'),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('agency_code', sa.String(), nullable=False),
        sa.Column('indicator_code', sa.String(), nullable=False),
        sa.Column('numerator', sa.Float(), nullable=True),
        sa.Column('denominator', sa.Float(), nullable=True),
        sa.Column('value', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('period_type', 'period_start', 'agency_code', 'indicator_code'),
        schema='mart',
        comment='One row per (period_type, period_start, agency_code, indicator_code).'
    )


def downgrade() -> None:
    """Drop every table and the (then empty) schemas."""
    for schema, name in reversed(TABLES):
        op.drop_table(name, schema=schema)
    for name in reversed(SCHEMAS):
        op.execute(sa.schema.DropSchema(name))
