"""What the hostile-file tests of ``tests/sources`` share: a mebibyte, and the two good
dossiers (F1 resolved, F2 open) every hostile input is mixed with, which must still load."""

from __future__ import annotations

from helpers.bundle import dossier

MIB = 1 << 20
GOOD = [dossier("F1", 9, "20190308100000", intake="20190304090000", due="20190311170000",
                resolved="20190308100000", history=[(2, "20190304090000"), (9, "20190308100000")]),
        dossier("F2", 4, "20190308120000", intake="20190305090000", due="20190312170000",
                history=[(2, "20190305090000")])]
