"""fct_dossier: one row per dossier, the accumulating snapshot of its current state.

The current record of a dossier is, among its records that are not quarantined, the
one with the greatest ``NgayCapNhat`` (compared as instants); ties are broken by the
record's hash so the choice never depends on the order files and lines arrive in. An
older record arriving later (in the same run or a later one) never replaces a newer
one: :func:`build` merges new records with the rows already in the warehouse.

Personal identifiers become keyed pseudonyms (HMAC-SHA256); names and addresses were
dropped at staging.
"""

from __future__ import annotations

import hashlib
import hmac
import re

import pandas as pd

COLUMNS = [
    "dossier_code", "procedure_code", "procedure_name_recorded", "field_code", "agency_code",
    "channel_code", "status_code", "applicant_type", "is_received", "submitted_at", "intake_at",
    "due_date", "due_source", "resolved_at", "withdrawn_at", "ended_at", "returned_at",
    "refused_at", "resolution_class", "processing_working_days", "rating", "paid_online",
    "digitised", "supplement_rounds", "applicant_pseudonym", "phone_pseudonym",
    "email_pseudonym", "procedure_known", "agency_known", "updated_at", "record_hash",
    "source", "run_id",
]


def _normalise_id(value: str) -> str:
    return re.sub(r"\s+", "", value).upper()


def _normalise_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if digits.startswith("84") and len(digits) >= 11:
        digits = "0" + digits[2:]
    return digits


def _normalise_email(value: str) -> str:
    return value.strip().lower()


def pseudonymise(values: pd.Series, key: bytes, normalise=_normalise_id) -> pd.Series:
    """Keyed pseudonyms: HMAC-SHA256(key, normalised value), hex; null stays null.

    The keyed hash state is set up once and copied per value, and each distinct value
    is hashed once (the same result as ``hmac.new(key, value, sha256)`` per value)."""
    if not key:
        raise ValueError("pseudonymisation key is empty: set MOTCUA_PSEUDONYM_KEY")
    base = hmac.new(key, digestmod=hashlib.sha256)
    present = values.notna()
    out = pd.Series(pd.NA, index=values.index, dtype="string")
    if not present.any():
        return out
    uniques = pd.unique(values[present].astype(str).to_numpy())
    digests: dict[str, str | None] = {}
    for v in uniques:
        n = normalise(v)
        if n:
            h = base.copy()
            h.update(n.encode("utf-8"))
            digests[v] = h.hexdigest()
        else:
            digests[v] = None
    out[present] = values[present].astype(str).map(digests).astype("string")
    return out


def from_records(records: pd.DataFrame, key: bytes, source: str, run_id: str) -> pd.DataFrame:
    """Turn valid ``int_dossier_record`` rows into fct rows (one per record, not yet
    reduced to one per dossier)."""
    r = records
    out = pd.DataFrame(
        {
            "dossier_code": r["dossier_code"],
            "procedure_code": r["procedure_code"].fillna(""),
            "procedure_name_recorded": r["procedure_name"],
            "field_code": r["field_code"],
            "agency_code": r["agency_code"].fillna(""),
            "channel_code": r["channel_code"],
            "status_code": r["status_code"],
            "applicant_type": r["applicant_type"],
            "is_received": r["is_received"],
            "submitted_at": r["submitted_at"],
            "intake_at": r["intake_at"],
            "due_date": r["due_date"],
            "due_source": r["due_source"],
            "resolved_at": r["resolved_at"],
            "withdrawn_at": r["withdrawn_at"],
            "ended_at": r["ended_at"],
            "returned_at": r["returned_at"],
            "refused_at": r["refused_at"],
            "resolution_class": r["resolution_class"],
            "processing_working_days": r["processing_working_days"],
            "rating": r["rating"],
            "paid_online": r["paid_online"],
            "digitised": r["digitised"],
            "supplement_rounds": r["supplement_rounds"],
            "applicant_pseudonym": pseudonymise(r["applicant_id"], key, _normalise_id),
            "phone_pseudonym": pseudonymise(r["phone"], key, _normalise_phone),
            "email_pseudonym": pseudonymise(r["email"], key, _normalise_email),
            "procedure_known": r["procedure_known"],
            "agency_known": r["agency_known"],
            "updated_at": r["updated_at"],
            "record_hash": r["record_hash"],
            "source": source,
            "run_id": run_id,
        }
    )
    return out[COLUMNS]


def newest_per_dossier(rows: pd.DataFrame) -> pd.DataFrame:
    """Keep, per dossier, the row with the greatest ``updated_at`` (tie: greatest hash)."""
    if rows.empty:
        return rows
    ordered = rows.sort_values(["dossier_code", "updated_at", "record_hash"], kind="mergesort")
    return ordered.drop_duplicates("dossier_code", keep="last").reset_index(drop=True)


def build(candidates: pd.DataFrame, existing: pd.DataFrame) -> pd.DataFrame:
    """The fct rows that must be written: for each dossier among ``candidates``, the
    newest of its candidate rows and its ``existing`` warehouse row, where that newest
    row is a candidate (i.e. new or newer than what the warehouse holds)."""
    best = newest_per_dossier(candidates)
    if existing is None or existing.empty or best.empty:
        return best
    cur = existing.set_index("dossier_code")[["updated_at", "record_hash"]]
    joined = best.join(cur, on="dossier_code", rsuffix="_existing")
    newer = (
        joined["updated_at_existing"].isna()
        | (joined["updated_at"] > joined["updated_at_existing"])
        | ((joined["updated_at"] == joined["updated_at_existing"])
           & (joined["record_hash"] > joined["record_hash_existing"]))
    )
    return best[newer.to_numpy()].reset_index(drop=True)
