"""``audit.publication_dossier``: the dossiers of a publication as rows, not inside its
figures.

Revision 0003 kept every cell's dossier codes in ``audit.publication.figures`` (one
JSON value): at 10M dossiers that value was 824 MB and DuckDB could not store it under
a 1 GB memory limit. From here a publication's figures hold only each cell's value, and
each published dossier is one row (``publication_id, dossier_code, procedure_code,
cells``: bit ``i`` of ``cells`` set when it counts in column ``FIGURE_COLUMNS[i]``,
frozen below). The table has its primary key on PostgreSQL only: on DuckDB its index
would be held in memory while the rows go in (as for the facts, 0004).

Existing publications are converted both ways (their figures rewritten, their dossiers
moved to rows and back).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

FIGURE_COLUMNS = ("received_total", "carried_over", "received_new", "resolved_total", "resolved_on_time",
                  "resolved_late", "pending_total", "pending_not_due", "pending_overdue", "withdrawn",
                  "received_online", "received_offline")
OLD_COMMENT = "JSON: per (table, procedure_code, column) the value and the dossier codes behind it"
NEW_COMMENT = "JSON: per procedure_code|column of tables 1-2, the cell's value (non-zero cells)"
TABLE_COMMENT = ("One row per (publication_id, dossier_code): the cells of tables 1-2 a published dossier counts in; "
                 "kept for the latest publication of each report only (the next one is compared with it).")

_publication = sa.table("publication", sa.column("publication_id", sa.String), sa.column("figures", sa.Text),
                        schema="audit")
_rows = sa.table("publication_dossier", sa.column("publication_id", sa.String),
                 sa.column("dossier_code", sa.String), sa.column("procedure_code", sa.String),
                 sa.column("cells", sa.Integer), schema="audit")


def _comment_figures(text: str) -> None:
    op.execute("COMMENT ON COLUMN audit.publication.figures IS '" + text.replace("'", "''") + "'")


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "publication_dossier",
        sa.Column("publication_id", sa.String(), nullable=False, primary_key=postgresql),
        sa.Column("dossier_code", sa.String(), nullable=False, primary_key=postgresql, comment="Mã hồ sơ"),
        sa.Column("procedure_code", sa.String(), nullable=False, comment="the table row the dossier counts in"),
        sa.Column("cells", sa.Integer(), nullable=False,
                  comment="bit i set: the dossier counts in column i of motcua.publication.FIGURE_COLUMNS"),
        schema="audit",
        comment=TABLE_COMMENT,
    )
    bind = op.get_bind()
    for pid, text in bind.execute(sa.select(_publication.c.publication_id, _publication.c.figures)).all():
        old = json.loads(text)
        cells: dict[str, tuple[str, int]] = {}
        values: dict[str, int] = {}
        for key, cell in old.items():
            procedure, column = key.split("|", 1)
            values[key] = int(cell["value"])
            for code in cell.get("dossiers", []):
                _, mask = cells.get(code, (procedure, 0))
                cells[code] = (procedure, mask | 1 << FIGURE_COLUMNS.index(column))
        if cells:
            bind.execute(_rows.insert(), [{"publication_id": pid, "dossier_code": code, "procedure_code": p,
                                           "cells": mask} for code, (p, mask) in cells.items()])
        bind.execute(_publication.update().where(_publication.c.publication_id == pid)
                     .values(figures=json.dumps(values, ensure_ascii=False)))
    _comment_figures(NEW_COMMENT)


def downgrade() -> None:
    bind = op.get_bind()
    for pid, text in bind.execute(sa.select(_publication.c.publication_id, _publication.c.figures)).all():
        values = json.loads(text)
        old = {key: {"value": int(v), "dossiers": []} for key, v in values.items()}
        for code, procedure, mask in bind.execute(
                sa.select(_rows.c.dossier_code, _rows.c.procedure_code, _rows.c.cells)
                .where(_rows.c.publication_id == pid)).all():
            for i, column in enumerate(FIGURE_COLUMNS):
                if int(mask) >> i & 1:
                    old.setdefault(f"{procedure}|{column}", {"value": 0, "dossiers": []})["dossiers"].append(code)
        for cell in old.values():
            cell["dossiers"].sort()
        bind.execute(_publication.update().where(_publication.c.publication_id == pid)
                     .values(figures=json.dumps(old, ensure_ascii=False)))
    op.drop_table("publication_dossier", schema="audit")
    _comment_figures(OLD_COMMENT)
