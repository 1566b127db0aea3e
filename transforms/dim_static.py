"""Static dimensions: dim_channel (one row per intake channel), dim_status (one row per
status code), dim_field (one row per field code) and dim_date (one row per date).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from transforms.workdays import WorkCalendar

CHANNELS = pd.DataFrame(
    {
        "channel_code": [1, 2, 3],
        "name_vi": ["Trực tiếp", "Trực tuyến", "Bưu chính công ích"],
        "name_en": ["In person", "Online", "Public postal service"],
        "is_online": [False, True, False],
    }
)

STATUSES = pd.DataFrame(
    {
        "status_code": list(range(1, 11)),
        "name_vi": [
            "Nộp trực tuyến, chưa tiếp nhận", "Đã tiếp nhận", "Từ chối tiếp nhận", "Đang xử lý",
            "Yêu cầu bổ sung hồ sơ", "Yêu cầu thực hiện nghĩa vụ tài chính", "Rút hồ sơ",
            "Dừng xử lý", "Đã giải quyết, có kết quả", "Đã trả kết quả",
        ],
        "name_en": [
            "submitted online, not yet accepted", "received", "refused at intake", "in processing",
            "more documents requested", "payment requested", "withdrawn", "processing stopped",
            "resolved", "result returned",
        ],
        "clock": ["not started", "runs", "-", "runs", "paused", "paused", "ends", "ends", "ends", "ends"],
    }
)


def dim_field(dim_procedure: pd.DataFrame) -> pd.DataFrame:
    """One row per field code, named by its latest catalogue version."""
    f = dim_procedure.sort_values("valid_from")[["field_code", "field_name"]].dropna(subset=["field_code"])
    return f.drop_duplicates("field_code", keep="last").sort_values("field_code").reset_index(drop=True)


def dim_date(first: dt.date, last: dt.date, calendar: WorkCalendar | None = None) -> pd.DataFrame:
    """One row per date from ``first`` to ``last``."""
    cal = calendar or WorkCalendar()
    days = pd.date_range(first, last, freq="D")
    return pd.DataFrame(
        {
            "date": days.astype("datetime64[us]"),
            "year": days.year.astype("int64"),
            "quarter": days.quarter.astype("int64"),
            "month": days.month.astype("int64"),
            "day_of_week": (days.dayofweek + 1).astype("int64"),
            "is_working_day": cal.is_working_day(np.asarray(days.values, dtype="datetime64[D]")),
        }
    )
