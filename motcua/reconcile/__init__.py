"""``motcua check-report``: checking a published appendix table against itself and
against the warehouse.

A published report's table 1 (*Kết quả tiếp nhận, giải quyết hồ sơ TTHC, DVC*) or table
2 (*Tổng hợp số lượng hồ sơ giải quyết*), laid out in print, is read by
:mod:`motcua.reconcile.published`; :mod:`motcua.reconcile.faults` finds what it gets
wrong by itself, :mod:`motcua.reconcile.compare` every cell that differs from the
warehouse's figures; :mod:`motcua.reconcile.check` reads the file and the warehouse (the
I/O) and :mod:`motcua.reconcile.findings` holds what was found. The columns, their labels
("(4)" …) and the identities checked are those of :mod:`transforms.report_tables`.
"""
