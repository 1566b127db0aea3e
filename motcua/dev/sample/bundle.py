"""The sample export bundle's files: :func:`write_sample` spreads the sample's lines
over the dossier files and writes them with the catalogue CSVs.

The output is byte-identical for a given seed (``random.Random``, gzip ``mtime=0``,
fixed key order). The sample is generated, never committed.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from motcua.dev.sample.bad_records import quarantine_records
from motcua.dev.sample.catalogue import AGENCIES, agency_rows, procedure_rows
from motcua.dev.sample.contract import AGENCY_COLUMNS, PERSONAL_FIELDS, PROCEDURE_COLUMNS
from motcua.dev.sample.generator import Dossier, Generator
from motcua.dev.sample.people import STAFF
from motcua.dev.sample.render import render_line
from motcua.dev.sample.snapshots import snapshots, stamp
from motcua.settings.environment import SAMPLE_MARKER

#: Dossier files: (name, share of the lines). One uses Windows line ends.
DOSSIER_FILES: list[tuple[str, int]] = [
    ("export-01.jsonl", 3), ("export-02.jsonl.gz", 3), ("export-03.jsonl", 2),
    ("export-04.jsonl.gz", 2), ("export-05.jsonl", 2), ("legacy-export.jsonl", 1),
]
CRLF_FILE = "legacy-export.jsonl"
TRUNCATED_FILE = "export-05.jsonl"


@dataclass
class _Sample:
    dossiers: list[Dossier]
    lines: list[tuple[int, str]]  # (year, JSON line), in generation order
    bad: list[tuple[str, str, dict[str, Any]]]  # (case, text, applicant)
    duplicates: int


def _build(seed: int) -> tuple[Generator, _Sample]:
    gen = Generator(seed)
    dossiers = gen.year_2018() + gen.year_2019() + gen.year_2020()
    rng = gen.rng("render")
    lines: list[tuple[int, str]] = []
    duplicates = 0
    for d in dossiers:
        stamp(rng, d)
        for snap in snapshots(d):
            text = render_line(snap, rng, legacy=d.legacy)
            lines.append((d.year, text))
            if rng.random() < 0.03:
                lines.append((d.year, text))
                duplicates += 1
    return gen, _Sample(dossiers, lines, quarantine_records(gen), duplicates)


def sample_personal_values(seed: int = 2019) -> frozenset[str]:
    """Every personal value written in the sample of ``seed`` (applicants' ``ChuHoSo``,
    ``SoGiayToChuHoSo``, ``SoDienThoai``, ``Email``, ``DiaChi`` and staff ``NguoiXuLy``),
    so that a test can check none of them reaches the warehouse."""
    _, sample = _build(seed)
    applicants = [d.applicant for d in sample.dossiers] + [a for _, _, a in sample.bad]
    values = {str(a[k]) for a in applicants for k in PERSONAL_FIELDS}
    for staff in STAFF.values():
        values.update(staff)
    values.discard("")
    return frozenset(values)


def _csv_bytes(columns: list[str], rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _gzip_bytes(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=6) as gz:
        gz.write(data)
    return buf.getvalue()


def write_sample(out: Path, seed: int = 2019) -> dict[str, Any]:
    """Write the sample export bundle into ``out`` and return a small summary.

    Replaces the files of a previous sample in ``out`` (``procedures.csv``,
    ``agencies.csv`` and ``dossiers/*.jsonl[.gz]``); leaves anything else alone. The bytes
    written depend only on ``seed``.

    The summary: ``out``, ``seed``, ``files`` (paths relative to ``out``), ``procedures``
    (distinct codes), ``catalogue_rows``, ``agencies``, ``dossiers`` and ``lines`` per year
    (of intake, else of submission or refusal), ``lines_total``, ``duplicate_lines``,
    ``received_2019`` / ``received_2019_online``, ``quarantine_records`` (lines that must be
    quarantined) and ``quarantined_dossiers`` (their non-empty dossier codes).
    """
    out = Path(out)
    gen, sample = _build(seed)
    folder = out / "dossiers"
    folder.mkdir(parents=True, exist_ok=True)
    for old in sorted(folder.iterdir()):
        if old.is_file() and old.name.endswith((".jsonl", ".jsonl.gz")):
            old.unlink()

    rng = gen.rng("files")
    names = [n for n, _ in DOSSIER_FILES]
    weights = [w for _, w in DOSSIER_FILES]
    per_file: dict[str, list[str]] = {n: [] for n in names}
    targets = rng.choices(names, weights=weights, k=len(sample.lines))
    for (_, text), target in zip(sample.lines, targets, strict=True):
        per_file[target].append(text)
    truncated = ""
    for case, text, _ in sample.bad:
        if case == "truncated":
            truncated = text
        else:
            per_file[rng.choice(names)].append(text)
    for n in names:
        rng.shuffle(per_file[n])

    written: list[str] = []
    # the marker that lets the Makefile's demonstration key be used on this bundle only
    (out / SAMPLE_MARKER).write_text("Written by `motcua sample`: synthetic demonstration data, no real "
                                     "applicant.\n", encoding="utf-8")
    written.append(SAMPLE_MARKER)
    cat = procedure_rows()
    (out / "procedures.csv").write_bytes(_csv_bytes(PROCEDURE_COLUMNS, cat))
    (out / "agencies.csv").write_bytes(_csv_bytes(AGENCY_COLUMNS, agency_rows()))
    written += ["procedures.csv", "agencies.csv"]
    for n in names:
        eol = "\r\n" if n == CRLF_FILE else "\n"
        body = "".join(line + eol for line in per_file[n])
        if n == TRUNCATED_FILE:
            body += truncated  # cut off: no line end either
        data = body.encode("utf-8")
        (folder / n).write_bytes(_gzip_bytes(data) if n.endswith(".gz") else data)
        written.append(f"dossiers/{n}")

    dossiers_per_year = Counter(d.year for d in sample.dossiers)
    lines_per_year = Counter(year for year, _ in sample.lines)
    received_2019 = [d for d in sample.dossiers
                     if d.year == 2019 and any(e.status == 2 for e in d.events)]
    quarantined_codes = []
    for _, text, _ in sample.bad:
        try:
            code = json.loads(text).get("MaHoSo")
        except ValueError:
            code = None
        if code:
            quarantined_codes.append(code)
    return {
        "out": str(out),
        "seed": seed,
        "files": written,
        "procedures": len({r["MaTTHC"] for r in cat}),
        "catalogue_rows": len(cat),
        "agencies": len(AGENCIES),
        "dossiers": dict(sorted(dossiers_per_year.items())),
        "lines": dict(sorted(lines_per_year.items())),
        "lines_total": len(sample.lines) + len(sample.bad),
        "duplicate_lines": sample.duplicates,
        "received_2019": len(received_2019),
        "received_2019_online": sum(d.channel == 2 for d in received_2019),
        "quarantine_records": len(sample.bad),
        "quarantined_dossiers": sorted(quarantined_codes),
    }
