"""The sample's dossiers: their lifecycles (events day by day) for 2018, 2019 and 2020,
generated deterministically from a seed."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from motcua.dev.sample.catalogue import (
    SEED_NEW_2019,
    SEED_PROCEDURES,
    UNKNOWN_PROCEDURE,
    CatalogueRow,
    SeedProcedure,
    catalogue,
)
from motcua.dev.sample.people import make_applicant
from motcua.dev.sample.workdays import workdays

#: The bundle is exported at the end of 2020: no snapshot is newer.
EXPORT_END = dt.datetime(2020, 12, 31, 23, 59, 59)


@dataclass
class Event:
    """One step of a dossier's lifecycle: its day, the status it sets, its kind and
    (once stamped) its time."""

    day: dt.date
    status: int
    kind: str
    at: dt.datetime | None = None


@dataclass
class Dossier:
    """One made-up dossier: its procedure, channel, applicant and events, the due first
    given (``due0``), its supplement rounds (request, supplied, old due, new due) and
    the flags its snapshots carry."""

    code: str
    year: int
    proc: CatalogueRow
    channel: int
    applicant: dict[str, Any]
    events: list[Event]
    due0: dt.date | None = None
    rounds: list[tuple[dt.date, dt.date, dt.date, dt.date]] = field(default_factory=list)
    legacy: bool = False
    paid_online: bool = False
    digitised: bool = False
    rating: int | None = None


class Generator:
    """Builds the dossiers of one sample, deterministically from a seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.cal = workdays()
        self.catalogue = catalogue()
        self.seq: Counter[str] = Counter()

    def rng(self, part: str) -> random.Random:
        return random.Random(f"motcua-sample:{self.seed}:{part}")

    # -- helpers
    def code(self, proc_agency: str, day: dt.date) -> str:
        prefix = "TDC" if proc_agency == "CCTDC-BRVT" else "KHCN"
        key = f"{prefix}-{day:%y%m%d}"
        self.seq[key] += 1
        return f"{key}-{self.seq[key]:04d}"

    def proc_on(self, code: str, day: dt.date) -> CatalogueRow:
        for p in self.catalogue:
            if p.code == code and p.valid_on(day):
                return p
        raise LookupError(f"no catalogue row for {code} on {day}")

    def procs_on(self, day: dt.date) -> list[CatalogueRow]:
        return [p for p in self.catalogue if p.valid_on(day)]

    def random_day(self, rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
        return rng.choice(self.cal.span(first, last))

    def weighted_proc(self, rng: random.Random, day: dt.date) -> CatalogueRow:
        procs = self.procs_on(day)
        weights = [max(1, sum(SEED_NEW_2019[p.seed_row - 1])) if p.seed_row else 3
                   for p in procs]
        return rng.choices(procs, weights=weights)[0]

    # -- lifecycles
    def received(
        self, rng: random.Random, *, year: int, proc: CatalogueRow, channel: int, intake: dt.date,
        outcome: str = "on_time", cap: dt.date | None = None, rounds: int = 0,
        past_first_due: bool = False,
    ) -> Dossier:
        """A received dossier. ``outcome``: on_time, late, open, withdrawn or stopped.
        ``cap``: no event after this day. ``past_first_due``: an on-time resolution after
        the due first given (possible thanks to the supplement pause)."""
        cal = self.cal
        events: list[Event] = []
        first_day = intake
        if channel == 2:
            back = rng.choice([0, 0, 1, 1, 2])
            submit = cal.before(intake, back) if back else intake
            if submit.year != intake.year:
                submit = intake
            first_day = submit
            events.append(Event(submit, 1, "submit"))
        due0 = cal.after(intake, proc.days)
        events.append(Event(intake, 2, "intake"))
        process = intake if rng.random() < 0.5 else cal.after(intake, 1)
        if cap is not None and process > cap:
            process = intake
        events.append(Event(process, 4, "process"))
        cursor, due = process, due0
        dossier_rounds = []
        for _ in range(rounds):
            request = cal.after(cursor, rng.randint(1, 2))
            paused = rng.randint(2, 4)
            supplied = cal.after(request, paused)
            new_due = cal.after(due, paused)
            dossier_rounds.append((request, supplied, due, new_due))
            events.append(Event(request, 5, "request"))
            events.append(Event(supplied, 4, "resume"))
            cursor, due = supplied, new_due
        end: dt.date | None = None
        if outcome == "on_time":
            last = due if cap is None else min(due, cap)
            first = cursor
            if past_first_due and dossier_rounds and cal.after(due0, 1) <= last:
                first = max(first, cal.after(due0, 1))
            end = rng.choice(cal.span(first, last))
        elif outcome == "late":
            end = cal.after(due, rng.randint(1, 6))
            if cap is not None and end > cap:
                raise ValueError(f"late dossier received {intake} cannot end by {cap}")
        elif outcome in ("withdrawn", "stopped"):
            end = rng.choice(cal.span(cal.after(cursor, 1), max(due, cal.after(cursor, 1))))
        if end is not None and outcome in ("on_time", "late"):
            events.append(Event(end, 9, "resolve"))
            back_in = rng.choice([0, 0, 1, 1, 2, 3])
            returned = cal.after(end, back_in)
            if cap is not None and returned > cap:
                returned = end
            events.append(Event(returned, 10, "return"))
        elif end is not None:
            events.append(Event(end, 7 if outcome == "withdrawn" else 8,
                                 "withdraw" if outcome == "withdrawn" else "stop"))
        online_paid = channel == 2 and (proc.level == "4" or (year >= 2020 and rng.random() < 0.3))
        digitised = rng.random() < {2018: 0.05, 2019: 0.15}.get(year, 0.45)
        rating = None
        if any(e.status == 10 for e in events) and rng.random() < 0.35:
            rating = rng.choice([1, 1, 1, 1, 1, 1, 2, 2, 2, 3])
        return Dossier(self.code(proc.agency, first_day), year, proc, channel, make_applicant(rng),
                       events, due0, dossier_rounds, paid_online=online_paid,
                       digitised=digitised, rating=rating)

    def not_received(self, rng: random.Random, *, year: int, proc: CatalogueRow, day: dt.date,
                     refused: bool) -> Dossier:
        """Refused at intake (status 3) or an online submission never accepted (status 1)."""
        if refused:
            channel = rng.choice([1, 1, 2])
            events = []
            if channel == 2:
                events.append(Event(day, 1, "submit"))
                refuse_day = self.cal.after(day, rng.randint(0, 2))
                if refuse_day.year != year:
                    refuse_day = day
                events.append(Event(refuse_day, 3, "refuse"))
            else:
                events.append(Event(day, 3, "refuse"))
        else:
            channel = 2
            events = [Event(day, 1, "submit")]
        return Dossier(self.code(proc.agency, day), year, proc, channel, make_applicant(rng), events)

    # -- years
    def year_2018(self) -> list[Dossier]:
        rng = self.rng("2018")
        cal = self.cal
        cap = cal.last_on_or_before(dt.date(2018, 12, 31))
        first = dt.date(2018, 1, 2)
        out: list[Dossier] = []
        specials = ["late"] * 6 + ["withdrawn"] + ["supplement"] * 3 + ["legacy"] * 15
        plain = 280 - len(specials)
        for kind in specials + ["plain"] * plain:
            last_intake = {"late": dt.date(2018, 11, 15), "supplement": dt.date(2018, 10, 31),
                           "withdrawn": dt.date(2018, 10, 31)}.get(kind, dt.date(2018, 12, 14))
            intake = self.random_day(rng, first, last_intake)
            proc = self.weighted_proc(rng, intake)
            channel = self._channel(rng, proc, 2018)
            outcome = {"late": "late", "withdrawn": "withdrawn"}.get(kind, "on_time")
            if kind == "legacy" and rng.random() < 0.2:
                outcome = "late" if intake <= dt.date(2018, 11, 15) else "on_time"
            d = self.received(rng, year=2018, proc=proc, channel=channel, intake=intake,
                              outcome=outcome, cap=cap, rounds=1 if kind == "supplement" else 0)
            d.legacy = kind == "legacy"
            out.append(d)
        out += self._not_received(rng, 2018, refused=4, unaccepted=2)
        return out

    def year_2019(self) -> list[Dossier]:
        rng = self.rng("2019")
        cal = self.cal
        cap = dt.date(2019, 12, 31)
        first = dt.date(2019, 1, 2)
        plans: list[tuple[SeedProcedure, int]] = []
        for sp, (online, offline) in zip(SEED_PROCEDURES, SEED_NEW_2019, strict=True):
            plans += [(sp, 2)] * online + [(sp, 1)] * offline
        offline_at = [i for i, (_, ch) in enumerate(plans) if ch == 1]
        postal = set(rng.sample(offline_at, 12))
        supplement = set(rng.sample(offline_at, 4))
        year_end = [i for i in rng.sample(offline_at, 8) if i not in supplement][:5]
        year_end_days = cal.span(dt.date(2019, 12, 23), cap)
        out: list[Dossier] = []
        for i, (sp, channel) in enumerate(plans):
            if i in supplement:
                intake = self.random_day(rng, first, dt.date(2019, 10, 31))
            elif i in year_end:
                intake = year_end_days[year_end.index(i) % len(year_end_days)]
            else:
                intake = self.random_day(rng, first, cap)
            proc = self.proc_on(sp.code, intake)
            out.append(self.received(
                rng, year=2019, proc=proc, channel=3 if i in postal else channel, intake=intake,
                outcome="on_time", cap=cap, rounds=1 if i in supplement else 0,
                past_first_due=True))
        out += self._not_received(rng, 2019, refused=5, unaccepted=4, seed_only=True)
        return out

    def year_2020(self) -> list[Dossier]:
        rng = self.rng("2020")
        first = dt.date(2020, 1, 2)
        last = dt.date(2020, 12, 31)
        specials = (["late"] * 10 + ["stalled"] * 5 + ["withdrawn", "stopped"]
                    + ["supplement"] * 2 + ["supplement2"] + ["year_end"] * 8)
        out: list[Dossier] = []
        for kind in specials + ["plain"] * (330 - len(specials)):
            if kind == "stalled":
                intake = self.random_day(rng, dt.date(2020, 9, 1), dt.date(2020, 11, 20))
            elif kind == "year_end":  # still open, not yet due, at the end of 2020
                intake = self.random_day(rng, dt.date(2020, 12, 24), last)
            elif kind in ("late", "supplement", "supplement2", "withdrawn", "stopped"):
                intake = self.random_day(rng, first, dt.date(2020, 10, 30))
            else:
                intake = self.random_day(rng, first, last)
            proc = self.weighted_proc(rng, intake)
            channel = self._channel(rng, proc, 2020)
            outcome = {"late": "late", "stalled": "open", "year_end": "open", "withdrawn": "withdrawn",
                       "stopped": "stopped"}.get(kind, "on_time")
            rounds = {"supplement": 1, "supplement2": 2}.get(kind, 0)
            out.append(self.received(rng, year=2020, proc=proc, channel=channel, intake=intake,
                                     outcome=outcome, rounds=rounds))
        # a procedure code missing from the catalogue, with its due recorded: it counts
        intake = dt.date(2020, 6, 16)
        known = self.proc_on(SEED_PROCEDURES[4].code, intake)
        stray = CatalogueRow(UNKNOWN_PROCEDURE, "Thủ tục chưa có trong danh mục (minh họa)",
                             known.field_code, known.agency, 10, "3", "", intake, None)
        d = self.received(rng, year=2020, proc=stray, channel=1, intake=intake)
        out.append(d)
        out += self._not_received(rng, 2020, refused=5, unaccepted=3)
        for d in out:  # the export ends with 2020: later changes are not in it
            d.events = [e for e in d.events if e.day <= EXPORT_END.date()]
        return out

    def _channel(self, rng: random.Random, proc: CatalogueRow, year: int) -> int:
        online = {2018: 0.03, 2020: 0.15}[year]
        if proc.level == "4":
            online = 0.6
        r = rng.random()
        return 2 if r < online else 3 if r < online + 0.03 else 1

    def _not_received(self, rng: random.Random, year: int, *, refused: int, unaccepted: int,
                      seed_only: bool = False) -> list[Dossier]:
        out = []
        first = dt.date(year, 1, 2)
        last = self.cal.last_on_or_before(dt.date(year, 12, 20))
        for k in range(refused + unaccepted):
            day = self.random_day(rng, first, last)
            if seed_only:
                proc = self.proc_on(rng.choice(SEED_PROCEDURES[5:9]).code, day)
            else:
                proc = self.weighted_proc(rng, day)
            out.append(self.not_received(rng, year=year, proc=proc, day=day, refused=k < refused))
        return out
