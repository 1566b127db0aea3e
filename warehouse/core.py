"""The core's writes a load makes: the facts and events of the dossiers a bucket changed,
and the dimensions. They run in the caller's transaction (the core load commits one
step a bucket: :func:`warehouse.locks.write_step`); what to write (the newest record per
dossier, the facts that changed, the dimensions' rows) is computed by :mod:`transforms`.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from warehouse import load, schema


def replace_dossiers(conn: sa.Connection, facts: pd.DataFrame, events: pd.DataFrame, *,
                     delete_first: bool) -> None:
    """Write the changed dossiers: ``core.fct_dossier`` (one row per ``dossier_code``) and
    ``core.fct_dossier_event`` (one row per ``dossier_code, seq``). With
    ``delete_first`` the dossiers' rows already there go first, from both tables (a
    dossier's events are replaced whole)."""
    codes = facts["dossier_code"].tolist()
    if delete_first:
        load.delete_keys(conn, schema.fct_dossier, "dossier_code", codes)
        load.delete_keys(conn, schema.fct_dossier_event, "dossier_code", codes)
    load.insert(conn, schema.fct_dossier, facts)
    load.insert(conn, schema.fct_dossier_event, events)


def replace_dimensions(conn: sa.Connection, *, procedures: pd.DataFrame, agencies: pd.DataFrame,
                       fields: pd.DataFrame, channels: pd.DataFrame, statuses: pd.DataFrame,
                       indicators: pd.DataFrame) -> None:
    """Replace every row of the dimensions, in this order: ``core.dim_procedure`` (one row
    per ``procedure_code, valid_from``), ``core.dim_agency`` (one per ``agency_code,
    valid_from``), ``core.dim_field``, ``core.dim_channel``, ``core.dim_status`` and
    ``core.dim_indicator`` (one per code)."""
    load.replace_all(conn, schema.dim_procedure, procedures)
    load.replace_all(conn, schema.dim_agency, agencies)
    load.replace_all(conn, schema.dim_field, fields)
    load.replace_all(conn, schema.dim_channel, channels)
    load.replace_all(conn, schema.dim_status, statuses)
    load.replace_all(conn, schema.dim_indicator, indicators)
