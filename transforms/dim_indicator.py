"""core.dim_indicator: one row per indicator code of ``mart.indicator``, what a BI tool
joins for a name (Vietnamese and English), a unit, what the numerator and denominator
count, whether the indicator may be summed, and its legal source. Static: the pipeline
loads it with the other dimensions; the report prints the names from the warehouse.

``additive``: whether ``value`` itself may be summed across agencies (rows of
``agency_scope = 'own'``) and periods. Only ``overdue_open`` is a count, and it is a
stock (the open overdue dossiers at the period's end): it adds across agencies, never
across periods, so it is marked not additive too. Ratios and percentiles never add;
their numerators and denominators do (over ``agency_scope = 'own'`` rows), except the
processing days' denominators (dossiers resolved: they add; the percentile does not).
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields

import pandas as pd

DECREE_61 = "Nghị định 61/2018/NĐ-CP; Nghị định 107/2021/NĐ-CP"
CIRCULAR_01 = "Thông tư 01/2018/TT-VPCP"
DECISION_766 = "Quyết định 766/QĐ-TTg ngày 23/6/2022 (Bộ chỉ số phục vụ người dân, doanh nghiệp)"
DECREE_45 = "Nghị định 45/2020/NĐ-CP; Nghị định 42/2022/NĐ-CP"


@dataclass(frozen=True)
class Indicator:
    """One indicator: its code in ``mart.indicator`` and what it means."""

    indicator_code: str
    name_vi: str
    name_en: str
    unit: str
    numerator_vi: str | None
    denominator_vi: str | None
    additive: bool
    legal_source: str


INDICATORS: tuple[Indicator, ...] = (
    Indicator("on_time_rate", "Tỷ lệ hồ sơ giải quyết đúng hạn", "Share of dossiers resolved on time",
              "ratio", "(8) Số hồ sơ trả đúng thời hạn (gồm trước hạn)", "(7) Tổng số hồ sơ đã giải quyết",
              False, f"{DECREE_61}; {CIRCULAR_01}; {DECISION_766}"),
    Indicator("early_rate", "Tỷ lệ hồ sơ giải quyết trước hạn", "Share of dossiers resolved before the due day",
              "ratio", "Số hồ sơ trả trước hạn", "(7) Tổng số hồ sơ đã giải quyết", False, f"{DECREE_61}; {CIRCULAR_01}"),
    Indicator("online_intake_rate", "Tỷ lệ hồ sơ tiếp nhận trực tuyến", "Share of new dossiers received online",
              "ratio", "Số hồ sơ mới tiếp nhận trực tuyến", "(6) Số hồ sơ mới tiếp nhận", False,
              f"{DECREE_45}; {DECISION_766}"),
    Indicator("online_procedures_used_rate", "Tỷ lệ TTHC trực tuyến có phát sinh hồ sơ trực tuyến",
              "Share of online procedures (level 3-4, full or partial) with at least one online dossier",
              "ratio", "Số TTHC trực tuyến có ít nhất một hồ sơ trực tuyến", "Số TTHC trực tuyến (mức 3, 4 / toàn trình, một phần)",
              False, f"{DECREE_45}; {DECISION_766}"),
    Indicator("overdue_open", "Số hồ sơ đang giải quyết quá hạn", "Open dossiers past their due day at the period's end",
              "dossiers", "(12) Số hồ sơ đang giải quyết quá hạn", None, False, f"{DECREE_61}; {CIRCULAR_01}"),
    Indicator("processing_days_median", "Thời gian giải quyết, trung vị (ngày làm việc)",
              "Processing time, median (working days from intake to resolution)",
              "working days", None, "Số hồ sơ đã giải quyết trong kỳ", False, DECISION_766),
    Indicator("processing_days_p90", "Thời gian giải quyết, phân vị 90 (ngày làm việc)",
              "Processing time, 90th percentile (working days from intake to resolution)",
              "working days", None, "Số hồ sơ đã giải quyết trong kỳ", False, DECISION_766),
    Indicator("published_rate", "Tỷ lệ TTHC công khai", "Share of procedures published", "ratio",
              "Số TTHC được công khai", "Số TTHC còn hiệu lực trong kỳ", False, f"{DECREE_61}; {DECISION_766}"),
    Indicator("one_stop_rate", "Tỷ lệ TTHC thực hiện theo cơ chế một cửa", "Share of procedures handled one-stop",
              "ratio", "Số TTHC theo cơ chế một cửa", "Số TTHC còn hiệu lực trong kỳ", False, DECREE_61),
    Indicator("inter_agency_rate", "Tỷ lệ TTHC thực hiện theo cơ chế một cửa liên thông",
              "Share of procedures handled inter-agency one-stop", "ratio", "Số TTHC theo cơ chế một cửa liên thông",
              "Số TTHC còn hiệu lực trong kỳ", False, DECREE_61),
    Indicator("satisfaction_rate", "Tỷ lệ hài lòng", "Share of ratings that are satisfied (1 or 2)", "ratio",
              "Số đánh giá hài lòng (mức 1, 2)", "Số đánh giá", False, f"{DECREE_61}; {DECISION_766}"),
    Indicator("online_payment_rate", "Tỷ lệ thanh toán trực tuyến", "Share of new dossiers paid online", "ratio",
              "Số hồ sơ thanh toán trực tuyến", "(6) Số hồ sơ mới tiếp nhận", False, DECISION_766),
    Indicator("digitised_rate", "Tỷ lệ hồ sơ số hóa", "Share of new dossiers with digitised components", "ratio",
              "Số hồ sơ có thành phần số hóa", "(6) Số hồ sơ mới tiếp nhận", False, f"{DECREE_45}; {DECISION_766}"),
    Indicator("plan_completion_rate", "Tỷ lệ nhiệm vụ kế hoạch hoàn thành", "Share of planned reform tasks done",
              "ratio", "Số nhiệm vụ đã hoàn thành", "Số nhiệm vụ theo kế hoạch", False, "Kế hoạch CCHC hằng năm"),
)

COLUMNS = [f.name for f in fields(Indicator)]


def build() -> pd.DataFrame:
    """The dimension's rows, one per indicator code."""
    return pd.DataFrame([astuple(i) for i in INDICATORS], columns=COLUMNS)


def names_vi(dim: pd.DataFrame) -> dict[str, str]:
    """``indicator_code -> name_vi`` from the dimension as read from the warehouse."""
    return dict(zip(dim["indicator_code"].astype(str), dim["name_vi"].astype(str), strict=True))
