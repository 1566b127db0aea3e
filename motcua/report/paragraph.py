"""The drafted paragraph of section II.2 ("Kết quả tiếp nhận, xử lý TTHC, DVC").

Worded from the numbers, in the seed report's style, e.g.::

    - Kết quả tiếp nhận, xử lý TTHC, DVC (từ ngày 01/01/2019 đến ngày 31/12/2019):
    Tiếp nhận 477 hồ sơ (11 hồ sơ nộp trực tuyến, 466 hồ sơ nộp trực tiếp, qua dịch vụ
    bưu chính công ích). Đã giải quyết 477 hồ sơ, trong đó 477 hồ sơ đúng hạn (35 hồ sơ
    trước hạn), 0 hồ sơ quá hạn, không có trường hợp trễ hẹn; tỷ lệ giải quyết đúng hạn
    đạt 100%. …
"""

from __future__ import annotations

import pandas as pd

from motcua.report.layout import fmt_date
from motcua.report.model import COUNT_COLUMNS, ReportTables


def fmt_int(n: int) -> str:
    """A count the Vietnamese way: 1234567 → "1.234.567"."""
    return f"{int(n):,}".replace(",", ".")


def fmt_pct(num: float, den: float) -> str:
    """num/den as a Vietnamese percentage: "100%", "98,5%", "99,99%" (never rounded up to 100%)."""
    if not den:
        return "—"
    if num == den:
        return "100%"
    pct = 100.0 * num / den
    s = f"{pct:.2f}".rstrip("0").rstrip(".")
    if s == "100":
        s = "99.99"
    return s.replace(".", ",") + "%"


def _sum(df: pd.DataFrame, col: str) -> int:
    return int(df[col].fillna(0).sum()) if len(df) else 0


def hs(n: int) -> str:
    """"12 hồ sơ"."""
    return f"{fmt_int(n)} hồ sơ"


def paragraph_numbers(t: ReportTables) -> dict[str, int]:
    """The totals the paragraph states, from table 2 (and table 1 / Biểu 06 for channels)."""
    t1, t2, f6 = t.frame("table1"), t.frame("table2"), t.frame("form06")
    n = {c: _sum(t2, c) for c in COUNT_COLUMNS["table2"]}
    src = t1 if len(t1) else f6
    n["received_online"] = _sum(src, "received_online")
    n["received_offline"] = _sum(src, "received_offline")
    n["channels_known"] = int(len(src) > 0)
    return n


def draft_section_ii2(t: ReportTables) -> str:
    """The Vietnamese paragraph for section II.2 of the report, from the tables."""
    n = paragraph_numbers(t)
    period = f"từ ngày {fmt_date(t.period_start)} đến ngày {fmt_date(t.period_end)}"
    out: list[str] = [f"- Kết quả tiếp nhận, xử lý TTHC, DVC ({period}):"]

    # Intake
    new = n["received_new"]
    if new == 0:
        out.append("Trong kỳ không tiếp nhận hồ sơ mới.")
    else:
        on, off = n["received_online"], n["received_offline"]
        if not n["channels_known"]:
            out.append(f"Tiếp nhận {hs(new)}.")
        elif on and off:
            out.append(f"Tiếp nhận {hs(new)} ({hs(on)} nộp trực tuyến, {hs(off)} nộp trực tiếp, "
                       "qua dịch vụ bưu chính công ích).")
        elif on:
            out.append(f"Tiếp nhận {hs(new)}, tất cả đều nộp trực tuyến.")
        else:
            out.append(f"Tiếp nhận {hs(new)}, tất cả đều nộp trực tiếp, qua dịch vụ bưu chính công ích; "
                       "không có hồ sơ nộp trực tuyến.")
    if n["carried_over"]:
        out.append(f"Ngoài ra, kỳ trước chuyển qua {hs(n['carried_over'])}; tổng số hồ sơ phải giải "
                   f"quyết trong kỳ là {hs(n['received_total'])}.")

    # Results
    done, ontime, late, early = (n["resolved_total"], n["resolved_on_time"], n["resolved_late"],
                                 n["resolved_early"])
    if done == 0:
        if n["received_total"]:
            out.append("Trong kỳ chưa có hồ sơ nào được giải quyết xong.")
    else:
        early_txt = f" ({hs(early)} trước hạn)" if early else ""
        if late == 0:
            out.append(f"Đã giải quyết {hs(done)}, trong đó {hs(ontime)} đúng hạn{early_txt}, "
                       "0 hồ sơ quá hạn, không có trường hợp trễ hẹn; tỷ lệ giải quyết đúng hạn "
                       "đạt 100%.")
        else:
            out.append(f"Đã giải quyết {hs(done)}, trong đó {hs(ontime)} đúng hạn{early_txt}, "
                       f"{hs(late)} quá hạn; tỷ lệ giải quyết đúng hạn đạt {fmt_pct(ontime, done)}.")

    # Still open at period end
    pend, overdue = n["pending_total"], n["pending_overdue"]
    end = fmt_date(t.period_end)
    if pend == 0:
        if n["received_total"]:
            out.append(f"Đến ngày {end}, không còn hồ sơ đang giải quyết.")
    elif overdue == 0:
        out.append(f"Đến ngày {end}, đang giải quyết {hs(pend)}, tất cả đều chưa đến hạn trả kết quả.")
    else:
        out.append(f"Đến ngày {end}, đang giải quyết {hs(pend)} ({hs(n['pending_not_due'])} chưa "
                   f"đến hạn, {hs(overdue)} đã quá hạn).")
    if n["withdrawn"]:
        out.append(f"Có {hs(n['withdrawn'])} được rút hoặc dừng xử lý theo quy định.")
    out.append("(Xem chi tiết tại Phụ lục đính kèm báo cáo này).")
    return " ".join(out)
