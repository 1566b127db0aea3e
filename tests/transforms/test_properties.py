"""Property-based tests (hypothesis) over random valid logs, across the models (staging,
records, fct_dossier, period counts): the report identities on every period and group,
carried over = open at the end of the previous period, incremental loading in any split
= one full load, and shuffling changes nothing. The current-record choice of
fct_dossier by hand is in ``test_fct_dossier.py``."""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
from helpers.bundle import dossier, procedure
from helpers.pure import merge, procedures_frame, records, with_end_kind
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms import period_counts, periods

PROCS = procedures_frame([procedure("1.000001", 5), procedure("1.000002", 10, agency="A2")])
BASE = dt.datetime(2019, 1, 1, 8)


def _ts(d: dt.datetime) -> str:
    return d.strftime("%Y%m%d%H%M%S")


@st.composite
def dossier_history(draw, code: str):
    """All snapshots of one dossier's life: received, maybe resolved or withdrawn."""
    start = BASE + dt.timedelta(days=draw(st.integers(0, 700)), hours=draw(st.integers(0, 9)))
    proc, ag = draw(st.sampled_from([("1.000001", "A1"), ("1.000002", "A2")]))
    channel = draw(st.sampled_from([1, 2, 3]))
    recorded_due = draw(st.booleans())
    due = start + dt.timedelta(days=draw(st.integers(0, 30)))
    kind = draw(st.sampled_from(["open", "resolved", "withdrawn", "refused", "unaccepted"]))
    if kind == "refused":
        return [dossier(code, 3, _ts(start), proc, ag, channel)]
    if kind == "unaccepted":
        return [dossier(code, 1, _ts(start), proc, ag, 2)]
    extra = {"NgayHenTra": _ts(due)} if recorded_due else {}
    snaps = [dossier(code, 2, _ts(start), proc, ag, channel, intake=_ts(start), history=[(2, _ts(start))], **extra)]
    if kind == "open":
        return snaps
    end = start + dt.timedelta(days=draw(st.integers(0, 60)), hours=draw(st.integers(0, 5)))
    if kind == "resolved":
        snaps.append(dossier(code, 9, _ts(end), proc, ag, channel, intake=_ts(start), resolved=_ts(end),
                             history=[(2, _ts(start)), (9, _ts(end))], **extra))
    else:
        snaps.append(dossier(code, 7, _ts(end), proc, ag, channel, intake=_ts(start),
                             history=[(2, _ts(start)), (7, _ts(end))], **extra))
    return snaps


@st.composite
def logs(draw):
    n = draw(st.integers(1, 25))
    lines = []
    for i in range(n):
        lines.extend(draw(dossier_history(f"H{i:03d}")))
    return lines


def _counts(fct: pd.DataFrame, kind: str) -> pd.DataFrame:
    f = with_end_kind(fct)
    received = f[f["is_received"]]
    first = received["intake_at"].min().date()
    last = max(received["intake_at"].max(), received["ended_at"].max() if received["ended_at"].notna().any()
               else received["intake_at"].max()).date()
    grid = periods.grid(first, last, kind)
    return period_counts.add_totals(period_counts.count(f, grid, ["agency_code", "procedure_code"])), grid


def _full(lines) -> pd.DataFrame:
    return merge(pd.DataFrame(), records(lines, PROCS))


SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(logs())
def test_identities_on_every_period_and_group(lines):
    fct = _full(lines)
    if not fct["is_received"].any():
        return
    for kind in ("month", "year"):
        c, _ = _counts(fct, kind)
        assert (c["received_total"] == c["carried_over"] + c["received_new"]).all()
        assert (c["resolved_total"] == c["resolved_on_time"] + c["resolved_late"]).all()
        assert (c["pending_total"] == c["pending_not_due"] + c["pending_overdue"]).all()
        assert (c["received_total"] == c["resolved_total"] + c["pending_total"] + c["withdrawn"]).all()
        assert (c["resolved_early"] <= c["resolved_on_time"]).all()
        assert (c[period_counts.MEASURES] >= 0).all().all()


@SETTINGS
@given(logs())
def test_carried_over_equals_open_at_end_of_previous_period(lines):
    fct = _full(lines)
    if not fct["is_received"].any():
        return
    c, grid = _counts(fct, "month")
    keys = ["agency_code", "procedure_code"]
    full = c.set_index([*keys, "period_start"])
    for key, _ in c.groupby(keys):
        for i in range(1, len(grid)):
            cur = full.get("carried_over").get((*key, grid["period_start"].iloc[i]), 0)
            prev = full.get("pending_total").get((*key, grid["period_start"].iloc[i - 1]), 0)
            assert cur == prev, (key, grid["period_start"].iloc[i])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs(), st.integers(0, 2**32 - 1), st.integers(1, 4))
def test_incremental_in_any_split_equals_full_and_order_does_not_matter(lines, seed, parts):
    full = _full(lines)
    rng = random.Random(seed)
    shuffled = list(lines)
    rng.shuffle(shuffled)
    cuts = sorted(rng.sample(range(len(shuffled) + 1), k=min(parts, len(shuffled) + 1)))
    bounds = [0, *cuts, len(shuffled)]
    fct = pd.DataFrame()
    first_id = 0
    for a, b in zip(bounds, bounds[1:], strict=False):
        if a == b:
            continue
        fct = merge(fct, records(shuffled[a:b], PROCS, first_id))
        first_id += b - a
    cols = [c for c in full.columns if c not in ("run_id",)]
    pd.testing.assert_frame_equal(fct[cols].reset_index(drop=True), full[cols].reset_index(drop=True))
