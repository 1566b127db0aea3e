"""audit.publication: each publication of an annual report and its figures, so the next
report can say which cells changed since (restatements).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "publication",
        sa.Column("publication_id", sa.String(), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("convention", sa.String(), nullable=False, comment="calendar | decree09"),
        sa.Column("agency_scope", sa.String(), nullable=False, comment="agency code, or * for all"),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False,
                  comment="JSON: per (table, procedure_code, column) the value and the dossier codes behind it"),
        schema="audit",
        comment="One row per publication of an annual report: what period, when, the figures.",
    )


def downgrade() -> None:
    op.drop_table("publication", schema="audit")
