"""The current record of a dossier (``transforms.fct_dossier``): an older snapshot
arriving later never replaces a newer one, and snapshots with the same ``NgayCapNhat``
pick the same record whatever their order (the tie is broken by the record's hash)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from helpers.bundle import dossier, procedure
from helpers.pure import merge, procedures_frame, records

PROCS = procedures_frame([procedure("1.000001", 5), procedure("1.000002", 10, agency="A2")])


def test_older_snapshot_arriving_later_never_overwrites_newer():
    newer = dossier("X", 9, "20190310090000", intake="20190301090000", due="20190308170000",
                    resolved="20190310090000")
    older = dossier("X", 4, "20190305090000", intake="20190301090000", due="20190308170000")
    fct = merge(pd.DataFrame(), records([newer], PROCS))
    fct = merge(fct, records([older], PROCS, first_id=10))
    assert fct.loc[0, "status_code"] == 9
    assert fct.loc[0, "resolution_class"] == "late"


def test_identical_timestamps_pick_the_same_record_whatever_the_order():
    a = dossier("Y", 4, "20190305090000", intake="20190301090000", due="20190308170000")
    b = dossier("Y", 9, "20190305090000", intake="20190301090000", due="20190308170000", resolved="20190305090000")
    one = merge(pd.DataFrame(), records([a, b], PROCS))
    two = merge(pd.DataFrame(), records([b, a], PROCS))
    assert one.loc[0, "record_hash"] == two.loc[0, "record_hash"]
    assert np.array_equal(one["status_code"].to_numpy(), two["status_code"].to_numpy())
