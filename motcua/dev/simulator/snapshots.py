"""The snapshots a simulator serves: an export bundle's servable lines in serving
order, ``(NgayCapNhat, MaHoSo, read order)``, the pages of them, and the snapshots
added while a client pages.

Lines are served as they are in the bundle (not re-serialised). Lines that an API could
not serve are skipped (and listed in :attr:`SnapshotLog.skipped`): lines that are not
valid JSON or not a JSON object, and snapshots without a readable ``NgayCapNhat`` (it
cannot be filtered or ordered). A :class:`SnapshotLog` is not thread-safe: the
simulator (:class:`motcua.dev.simulator.server.Simulator`) holds its lock around every
call.
"""

from __future__ import annotations

import bisect
import json
import logging
import math
import random
from pathlib import Path
from typing import Any

from motcua.sources.bundle import BundleSource
from motcua.sources.stamps import contract_stamp, shift_stamp

log = logging.getLogger(__name__)


class SnapshotLog:
    """The servable snapshots of the bundle at ``bundle``, its procedures and agencies."""

    def __init__(self, bundle: Path) -> None:
        #: (locator, reason) of bundle lines that cannot be served
        self.skipped: list[tuple[str, str]] = []
        #: (MaHoSo, NgayCapNhat) of the snapshots added while paging
        self.added: list[tuple[Any, str]] = []
        #: the late ones among :attr:`added`
        self.added_late: list[tuple[Any, str]] = []
        source = BundleSource(bundle)
        entries: list[tuple[str, str, int, str]] = []  # (stamp, MaHoSo text, seq, raw line)
        self._newest: dict[Any, tuple[str, str]] = {}  # MaHoSo -> (stamp, raw) of its newest snapshot
        seq = 0
        for batch in source.iter_records():
            for loc, line in zip(batch.column("locator").to_pylist(), batch.column("record").to_pylist(), strict=True):
                try:
                    item = json.loads(line)
                except (ValueError, RecursionError):
                    self.skipped.append((loc, "not valid JSON"))
                    continue
                if not isinstance(item, dict):
                    self.skipped.append((loc, "not a JSON object"))
                    continue
                stamp = contract_stamp(item.get("NgayCapNhat"))
                if stamp is None:
                    self.skipped.append((loc, "no readable NgayCapNhat"))
                    continue
                code = item.get("MaHoSo")
                entries.append((stamp, "" if code is None else str(code), seq, line.strip()))
                seq += 1
                if isinstance(code, (str, int)) and (code not in self._newest or stamp > self._newest[code][0]):
                    self._newest[code] = (stamp, line)
        entries.sort()
        self._keys = [(e[0], e[1], e[2]) for e in entries]
        self._lines = [e[3] for e in entries]
        self._seq = seq
        #: the bundle's procedures.csv and agencies.csv rows (empty when a file is absent)
        self.procedures = _frame_items(source.read_procedures)
        self.agencies = _frame_items(source.read_agencies)
        if self.skipped:
            log.info("simulator: %d bundle line(s) cannot be served and are skipped", len(self.skipped))

    def served(self) -> list[tuple[str, str]]:
        """(MaHoSo, NgayCapNhat as served) of every servable snapshot, in serving order."""
        out = []
        for line in self._lines:
            item = json.loads(line)
            out.append((item.get("MaHoSo"), item.get("NgayCapNhat")))
        return out

    def newest_stamp(self) -> str | None:
        """The greatest ``NgayCapNhat`` served (None when nothing is)."""
        return self._keys[-1][0] if self._keys else None

    def add(self, stamps: list[str], *, late: bool, rng: random.Random) -> None:
        """Add snapshots with these NgayCapNhat: each a copy of a dossier's newest snapshot
        (the dossier drawn with ``rng``), or of a new one when the bundle has none."""
        codes = sorted(self._newest, key=str)
        taken = {(k[0], k[1]) for k in self._keys} if late else set()
        for i, stamp in enumerate(stamps):
            if codes:
                code = codes[rng.randrange(len(codes))]
                item = json.loads(self._newest[code][1])
            else:
                code = f"SIM-{len(self.added) + i + 1:06d}"
                item = {"MaHoSo": code}
            while (stamp, str(code)) in taken:  # never two snapshots with one (MaHoSo, NgayCapNhat)
                stamp = shift_stamp(stamp, -1)
            taken.add((stamp, str(code)))
            item["NgayCapNhat"] = stamp
            line = json.dumps(item, ensure_ascii=False)
            key = (stamp, str(code), self._seq)
            self._seq += 1
            pos = bisect.bisect_right(self._keys, key)
            self._keys.insert(pos, key)
            self._lines.insert(pos, line)
            if code not in self._newest or stamp > self._newest[code][0]:
                self._newest[code] = (stamp, line)
            self.added.append((code, stamp))
            if late:
                self.added_late.append((code, stamp))
        log.info("simulator: %d %s snapshot(s) added while paging", len(stamps), "late" if late else "new")

    def page(self, since: str | None, page: int, size: int) -> tuple[bytes, int]:
        """The ``/dossiers`` body of page ``page`` (from 1) of ``size`` snapshots with
        ``NgayCapNhat >= since``, and the number of pages."""
        first = 0 if since is None else bisect.bisect_left(self._keys, (since,))
        total = len(self._keys) - first
        pages = math.ceil(total / size)
        start = first + (page - 1) * size
        lines = self._lines[start:min(start + size, len(self._lines))] if page <= pages else []
        body = '{"items": [' + ",".join(lines) + f'], "page": {page}, "total_pages": {pages}}}'
        return body.encode("utf-8"), pages


def _frame_items(read: Any) -> list[dict[str, Any]]:
    try:
        frame = read()
    except FileNotFoundError:
        return []
    return [{k: (None if v is None or v != v else v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
