"""What a computed due date needs (``transforms.due_dates``): every row gets exactly one
working-day calendar, its agency's own where it has overrides, else the default."""

from __future__ import annotations

import numpy as np

from transforms.due_dates import calendar_groups


def test_calendar_groups_cover_every_row_once():
    from transforms.workdays import WorkCalendar

    default, a1, blank = WorkCalendar(), WorkCalendar(), WorkCalendar()
    codes = np.array(["A1", "A2", "", "A1", "A3", ""], dtype=object)
    groups = calendar_groups(codes, default, {"A1": a1, "": blank, "A9": WorkCalendar()})
    seen = np.zeros(len(codes), dtype=int)
    for cal, rows in groups:
        seen += rows
        expected = {"A1": a1, "": blank}
        assert all(expected.get(c, default) is cal for c in codes[rows])
    assert (seen == 1).all()
    assert calendar_groups(codes, default, None)[0][0] is default
