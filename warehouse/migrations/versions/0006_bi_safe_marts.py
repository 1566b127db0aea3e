"""Marts a BI user cannot misread: ``core.dim_indicator``, ``mart.indicator_v2`` with an
agency scope, the BI views per period type, and every dimension and mart column
commented in Vietnamese and English.

* ``core.dim_indicator`` (one row per indicator code: names, unit, numerator and
  denominator, additive, legal source), loaded by every run with the other dimensions;
* ``mart.indicator_v2``: ``indicator_v1`` plus ``agency_scope`` in the key: the old rows
  are its ``rollup`` rows; ``own`` rows (each agency alone) arrive with the next run,
  which rebuilds every partition since the transforms changed (the marts' fingerprint).
  The stable view ``mart.indicator`` keeps its columns and reads the ``rollup`` rows, so
  a dashboard built on it sees what it saw;
* the BI views of :mod:`warehouse.bi_views` (flows, stocks and indicators, one view per
  period type: calendar year and month, Decree 09 year);
* COMMENTs: every column of the dimensions and marts (tables and stable views) gets the
  ``Vietnamese / English`` comment of :mod:`warehouse.schema`.

Downgrade drops the views and the dimension and puts ``indicator_v1`` back with the
``rollup`` rows; the comments stay as they are.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

_OLD = ("period_type", "period_start", "period_end", "agency_code", "indicator_code",
        "numerator", "denominator", "value")
_INDICATOR_VIEW = ("CREATE VIEW mart.indicator AS SELECT " + ", ".join(_OLD)
                   + " FROM mart.{table}{where}")


def _literal(text: str | None) -> str:
    return "NULL" if text is None else "'" + text.replace("'", "''") + "'"


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _indicator_table(name: str, with_scope: bool) -> None:
    key = ["period_type", "period_start", "agency_code", *(["agency_scope"] if with_scope else []), "indicator_code"]
    op.create_table(
        name,
        sa.Column("period_type", sa.String(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("agency_code", sa.String(), nullable=False),
        *([sa.Column("agency_scope", sa.String(), nullable=False)] if with_scope else []),
        sa.Column("indicator_code", sa.String(), nullable=False),
        sa.Column("numerator", sa.Double()),
        sa.Column("denominator", sa.Double()),
        sa.Column("value", sa.Double()),
        sa.PrimaryKeyConstraint(*key, name=f"{name}_pkey"),
        schema="mart",
    )
    if _postgresql():
        op.create_index(f"ix_{name}_agency_period", name, ["agency_code", "period_type", "period_start"], schema="mart")


def _comment_everything() -> None:
    from warehouse import bi_views, schema

    for table in (*schema.DIMENSION_TABLES, *schema.MART_TABLES):
        op.execute(f"COMMENT ON TABLE {table.fullname} IS {_literal(table.comment)}")
        for column in table.columns:
            op.execute(f"COMMENT ON COLUMN {table.fullname}.{column.name} IS {_literal(column.comment)}")
    for view, table in schema.MART_VIEWS.items():
        for column in table.columns:
            if column.name in _OLD or view != "indicator":
                op.execute(f"COMMENT ON COLUMN mart.{view}.{column.name} IS {_literal(column.comment)}")
    for v in bi_views.BI_VIEWS:
        op.execute(f"COMMENT ON VIEW mart.{v.name} IS {_literal(v.comment)}")
        for c in v.columns:
            op.execute(f"COMMENT ON COLUMN mart.{v.name}.{c.name} IS {_literal(c.comment)}")


def upgrade() -> None:
    from warehouse import bi_views

    op.create_table(
        "dim_indicator",
        sa.Column("indicator_code", sa.String(), nullable=False),
        sa.Column("name_vi", sa.String(), nullable=False),
        sa.Column("name_en", sa.String(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("numerator_vi", sa.String()),
        sa.Column("denominator_vi", sa.String()),
        sa.Column("additive", sa.Boolean(), nullable=False),
        sa.Column("legal_source", sa.String()),
        sa.PrimaryKeyConstraint("indicator_code", name="dim_indicator_pkey"),
        schema="core",
    )
    _indicator_table("indicator_v2", with_scope=True)
    if op.get_bind().exec_driver_sql("SELECT count(*) FROM mart.indicator_v1").scalar():
        op.execute("INSERT INTO mart.indicator_v2 (period_type, period_start, period_end, agency_code, agency_scope, "
                   "indicator_code, numerator, denominator, value) SELECT period_type, period_start, period_end, "
                   "agency_code, 'rollup', indicator_code, numerator, denominator, value FROM mart.indicator_v1")
    op.execute("DROP VIEW mart.indicator")
    op.execute(_INDICATOR_VIEW.format(table="indicator_v2", where=" WHERE agency_scope = 'rollup'"))
    op.execute("COMMENT ON VIEW mart.indicator IS "
               + _literal("Chỉ số cải cách hành chính (tử số, mẫu số, giá trị). One row per (period_type, "
                          "period_start, agency_code, indicator_code): each agency with every agency under it "
                          "(never sum across agencies). Stable view over mart.indicator_v2 (agency_scope = 'rollup')."))
    op.drop_table("indicator_v1", schema="mart")
    for v in bi_views.BI_VIEWS:
        op.execute(f"CREATE VIEW mart.{v.name} AS {v.sql}")
    _comment_everything()


def downgrade() -> None:
    from warehouse import bi_views

    for v in reversed(bi_views.BI_VIEWS):
        op.execute(f"DROP VIEW mart.{v.name}")
    _indicator_table("indicator_v1", with_scope=False)
    if op.get_bind().exec_driver_sql("SELECT count(*) FROM mart.indicator_v2").scalar():
        op.execute("INSERT INTO mart.indicator_v1 (" + ", ".join(_OLD) + ") SELECT " + ", ".join(_OLD)
                   + " FROM mart.indicator_v2 WHERE agency_scope = 'rollup'")
    op.execute("DROP VIEW mart.indicator")
    op.execute(_INDICATOR_VIEW.format(table="indicator_v1", where=""))
    op.execute("COMMENT ON VIEW mart.indicator IS "
               + _literal("Chỉ số cải cách hành chính (tử số, mẫu số, giá trị). One row per (period_type, "
                          "period_start, agency_code, indicator_code). Stable view over mart.indicator_v1: "
                          "BI tools read this."))
    op.drop_table("indicator_v2", schema="mart")
    op.drop_table("dim_indicator", schema="core")
