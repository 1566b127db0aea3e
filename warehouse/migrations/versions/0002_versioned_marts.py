"""Versioned mart tables behind stable views, documented in Vietnamese.

* ``mart.dossier_resolution``, ``mart.dossier_intake`` and ``mart.indicator`` (tables,
  with their data) become ``mart.<name>_v1``;
* views with the old names, listing their columns, read the ``_v1`` tables: BI tools
  keep their queries, and a breaking change later adds a ``_v2`` and repoints a view;
* every mart table, view and column gets a COMMENT with its Vietnamese label;
* ``mart.indicator_v1``'s numbers become DOUBLE on DuckDB (its FLOAT is a 4-byte REAL;
  on PostgreSQL FLOAT already is double precision);
* PostgreSQL only: an agency-first index on each mart for BI filters (the primary key
  already leads with period_type, period_start, agency_code).

This revision is frozen: later changes go in new revisions.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_PERIOD = [
    ("period_type", "Loại kỳ (year | month)"),
    ("period_start", "Từ ngày"),
    ("period_end", "Đến ngày"),
    ("agency_code", "Mã đơn vị"),
]

# view name -> (Vietnamese label, grain (the table comment of revision 0001), [(column, comment)])
MARTS: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "dossier_resolution": (
        "Tình hình, kết quả giải quyết hồ sơ TTHC",
        "One row per (period_type, period_start, agency_code, procedure_code): dossiers received and resolved.",
        [*_PERIOD,
         ("procedure_code", "Mã TTHC"),
         ("procedure_name", "Tên TTHC"),
         ("field_name", "Lĩnh vực"),
         ("received_total", "(4) Tổng số hồ sơ nhận giải quyết"),
         ("carried_over", "(5) Số kỳ trước chuyển qua"),
         ("received_new", "(6) Số mới tiếp nhận"),
         ("resolved_total", "(7) Tổng số đã giải quyết"),
         ("resolved_on_time", "(8) Trả đúng thời hạn"),
         ("resolved_late", "(9) Trả quá hạn"),
         ("pending_total", "(10) Tổng số đang giải quyết"),
         ("pending_not_due", "(11) Chưa đến hạn"),
         ("pending_overdue", "(12) Quá hạn"),
         ("withdrawn", "Rút hồ sơ / dừng xử lý"),
         ("resolved_early", "Trả trước hạn")],
    ),
    "dossier_intake": (
        "Kết quả tiếp nhận hồ sơ TTHC, DVC theo kênh",
        "One row per (period_type, period_start, agency_code, procedure_code): new dossiers by channel.",
        [*_PERIOD,
         ("procedure_code", "Mã TTHC"),
         ("procedure_name", "Tên TTHC, DVC"),
         ("service_level", "Mức độ của dịch vụ"),
         ("service_url", "Địa chỉ đăng tải dịch vụ"),
         ("received_online", "Tổng số hồ sơ tiếp nhận trực tuyến"),
         ("received_offline", "Tổng số hồ sơ tiếp nhận trực tiếp (không trực tuyến)")],
    ),
    "indicator": (
        "Chỉ số cải cách hành chính (tử số, mẫu số, giá trị)",
        "One row per (period_type, period_start, agency_code, indicator_code).",
        [*_PERIOD,
         ("indicator_code", "Mã chỉ số"),
         ("numerator", "Tử số"),
         ("denominator", "Mẫu số"),
         ("value", "Giá trị")],
    ),
}
_NUMBERS = ("numerator", "denominator", "value")


def _literal(text: str | None) -> str:
    return "NULL" if text is None else "'" + text.replace("'", "''") + "'"


def _comment_table(kind: str, name: str, text: str | None) -> None:
    op.execute(f"COMMENT ON {kind} mart.{name} IS {_literal(text)}")


def _comment_column(relation: str, column: str, text: str | None) -> None:
    op.execute(f"COMMENT ON COLUMN mart.{relation}.{column} IS {_literal(text)}")


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    """Rename the mart tables to ``_v1``, put views in their place, comment everything."""
    postgresql = _is_postgresql()
    for view, (vi, grain, columns) in MARTS.items():
        table = f"{view}_v1"
        op.rename_table(view, table, schema="mart")
        if postgresql:
            op.execute(f"ALTER TABLE mart.{table} RENAME CONSTRAINT {view}_pkey TO {table}_pkey")
        if view == "indicator" and not postgresql:
            for column in _NUMBERS:
                op.alter_column(table, column, schema="mart", type_=sa.Double(), existing_type=sa.Float())
        _comment_table("TABLE", table, f"{vi}. {grain}")
        for column, label in columns:
            _comment_column(table, column, label)
        names = ", ".join(c for c, _ in columns)
        op.execute(f"CREATE VIEW mart.{view} AS SELECT {names} FROM mart.{table}")
        _comment_table("VIEW", view, f"{vi}. {grain} Stable view over mart.{table}: BI tools read this.")
        for column, label in columns:
            _comment_column(view, column, label)
        if postgresql:
            op.create_index(f"ix_{table}_agency_period", table, ["agency_code", "period_type", "period_start"],
                            schema="mart")


def downgrade() -> None:
    """Back to plain mart tables under the stable names (views and indexes dropped)."""
    postgresql = _is_postgresql()
    for view, (_vi, grain, columns) in MARTS.items():
        table = f"{view}_v1"
        if postgresql:
            op.drop_index(f"ix_{table}_agency_period", table_name=table, schema="mart")
        op.execute(f"DROP VIEW mart.{view}")
        if view == "indicator" and not postgresql:
            for column in _NUMBERS:
                op.alter_column(table, column, schema="mart", type_=sa.Float(), existing_type=sa.Double())
        for column, _label in columns:
            _comment_column(table, column, "year | month" if column == "period_type" else None)
        _comment_table("TABLE", table, grain)
        op.rename_table(table, view, schema="mart")
        if postgresql:
            op.execute(f"ALTER TABLE mart.{view} RENAME CONSTRAINT {table}_pkey TO {view}_pkey")
