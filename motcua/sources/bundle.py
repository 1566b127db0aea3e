"""Export bundle source: ``procedures.csv``, ``agencies.csv``, ``dossiers/*.jsonl[.gz]``."""

from __future__ import annotations

import gzip
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from motcua.sources.base import (
    AGENCY_COLUMNS,
    PROCEDURE_COLUMNS,
    RAW_SCHEMA,
    RawBatch,
    conform_catalogue,
    make_batch,
)
from motcua.sources.limits import (
    Limits,
    decode_utf16,
    line_batches,
    read_bounded,
    safe_text,
    source_fault,
)

BATCH_LINES = 50_000
#: a batch also ends once its lines hold this many bytes (memory stays bounded by one batch)
BATCH_BYTES = 64 << 20


def decode_text(data: bytes) -> tuple[str, str | None]:
    """Decode a file's bytes: UTF-8 (BOM stripped), else legacy Windows-1258.

    Returns the text and a note when a fallback was used.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return decode_utf16(data), None
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return data.decode("cp1258", errors="replace"), "decoded as Windows-1258"


class UnreadableFile(FileNotFoundError):
    """A listed file of the bundle that cannot be opened (vanished, no permission)."""


def refuse_link(path: Path, bundle: Path) -> None:
    """Raise (one line, naming the link) when ``path`` is a symbolic link: a bundle's
    files and folders must be its own, never a link to a file elsewhere (``~/.env``)."""
    if path.is_symlink():
        rel = path.relative_to(bundle).as_posix() if path.is_relative_to(bundle) else str(path)
        raise FileNotFoundError(f"export bundle {bundle}: {rel} is a symbolic link; a bundle holds regular "
                                "files only (links are refused)")


def open_regular(path: Path, bundle: Path) -> io.BufferedReader:
    """``path`` opened for reading without following a symbolic link (``O_NOFOLLOW``, so
    a file swapped for a link after it was listed is refused too); only a regular file."""
    refuse_link(path, bundle)
    try:
        # O_NONBLOCK: a FIFO planted in the bundle must not hang the run (refused below)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        refuse_link(path, bundle)  # swapped for a link since it was checked
        raise UnreadableFile(f"export bundle {bundle}: cannot open {path.name}: {exc.strerror}") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise FileNotFoundError(f"export bundle {bundle}: {path.name} is not a regular file")
    return os.fdopen(fd, "rb")


def read_csv_text(path: Path, bundle: Path | None = None, limits: Limits | None = None) -> pd.DataFrame:
    """A CSV file as strings (see :func:`decode_text`); inside a ``bundle``, a symbolic
    link is refused; a file over ``limits.max_file_bytes`` stops the run."""
    with open_regular(path, bundle if bundle is not None else path.parent) as fh:
        data = read_bounded(fh, limits or Limits(), f"{bundle or path.parent}: {path.name}")
    text, _ = decode_text(data)
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


class BundleSource:
    """A folder laid out as domain.md section 2 describes."""

    def __init__(self, path: Path | str, limits: Limits | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise FileNotFoundError(f"export bundle {self.path} is not a folder")
        self.name = "bundle"
        self.limits = limits if limits is not None else Limits.from_env()
        #: what could not be read (a file cut off, vanished or unreadable mid-run), as
        #: :func:`~motcua.sources.limits.source_fault` dicts: the run records and reports them
        self.faults: list[dict] = []
        self._refuse_links()

    def _refuse_links(self) -> None:
        """Stop at once (before anything is read or written) when any file or folder
        inside the bundle is a symbolic link; each file is opened without following
        links as well (:func:`open_regular`)."""
        for top, dirs, files in os.walk(self.path, followlinks=False):
            for name in sorted(dirs) + sorted(files):
                refuse_link(Path(top) / name, self.path)

    def read_procedures(self) -> pd.DataFrame:
        f = self.path / "procedures.csv"
        refuse_link(f, self.path)
        if not f.exists():
            raise FileNotFoundError(f"export bundle {self.path} has no procedures.csv")
        return conform_catalogue(read_csv_text(f, self.path, self.limits), PROCEDURE_COLUMNS, str(f))

    def read_agencies(self) -> pd.DataFrame:
        f = self.path / "agencies.csv"
        refuse_link(f, self.path)
        if not f.exists():
            raise FileNotFoundError(f"export bundle {self.path} has no agencies.csv")
        return conform_catalogue(read_csv_text(f, self.path, self.limits), AGENCY_COLUMNS, str(f))

    def dossier_files(self) -> list[Path]:
        """The dossier files, sorted; a symbolic link (the folder, or any entry in it) is
        refused before anything is read."""
        folder = self.path / "dossiers"
        refuse_link(folder, self.path)
        entries = sorted(folder.glob("*"))
        for p in entries:
            refuse_link(p, self.path)
        return [p for p in entries if p.name.endswith((".jsonl", ".jsonl.gz"))]

    def iter_records(self, since: str | None = None) -> Iterator[RawBatch]:
        """Every line of every dossier file, as read, in batches of ``BATCH_LINES`` lines
        (or ``BATCH_BYTES`` bytes). ``since`` is ignored: a bundle is read whole and the
        pipeline keeps the newest snapshot per dossier.

        UTF-8 files are streamed (memory holds one batch, whatever the file's size).
        A file that is UTF-16 (by its BOM), or whose first batch is not UTF-8, is
        decoded whole (:func:`decode_text`: UTF-16, else Windows-1258; at most
        ``max_file_bytes``); a batch that is not UTF-8 after UTF-8 ones is read as
        Windows-1258 from there on, noted in the locator.

        Limits (:mod:`motcua.sources.limits`): a line over ``max_record_bytes`` is
        passed on as its first bytes with a ``record_too_large`` error (it is never held
        whole); a ``.gz`` file that expands beyond ``max_compression_ratio`` times its
        size stops the run with :class:`~motcua.sources.limits.SourceLimitError`."""
        files = self.dossier_files()  # every link refused before the first record is read
        for f in files:
            yield from self._iter_file(f)

    def partitions(self) -> list[Path]:
        """The parts :meth:`iter_partition` reads one by one (the dossier files): in
        order, they give what :meth:`iter_records` gives, so they may be extracted in
        parallel."""
        return self.dossier_files()

    def iter_partition(self, index: int) -> Iterator[RawBatch]:
        """The records of one dossier file (see :meth:`partitions`)."""
        yield from self._iter_file(self.dossier_files()[index])

    def _iter_file(self, f: Path) -> Iterator[RawBatch]:
        """One dossier file's batches; a file listed but no longer openable (vanished,
        unreadable) is a source fault, and the run goes on with the other files."""
        try:
            yield from self._read_file(f)
        except UnreadableFile as exc:
            self.faults.append(source_fault(f"export bundle {self.path}: {safe_text(f.name)}", exc, 0))

    def _read_file(self, f: Path) -> Iterator[RawBatch]:
        rel = safe_text(f.relative_to(self.path).as_posix())
        first = True
        note: str | None = None
        line_no = 0
        for raw_lines, too_large in _raw_line_batches(f, self.path, self.limits, self.faults):
            if first and raw_lines and raw_lines[0].startswith((b"\xff\xfe", b"\xfe\xff")):
                yield from self._iter_whole(f)
                return
            if first and raw_lines and raw_lines[0].startswith(b"\xef\xbb\xbf"):
                raw_lines[0] = raw_lines[0][3:]
            if note is None:
                text = _utf8_array(raw_lines)
                if text is None:
                    if first:
                        yield from self._iter_whole(f)
                        return
                    note = "decoded as Windows-1258"
            first = False
            if note is not None:
                lines = b"\n".join(raw_lines).decode("cp1258", errors="replace").split("\n")
                yield from _batches(rel, lines, line_no, note, self.limits, too_large)
            else:
                yield _arrow_batch(rel, text, line_no, too_large)
            line_no += len(raw_lines)
            raw_lines = text = None  # type: ignore[assignment]  # free them before the next batch is read

    def _iter_whole(self, f: Path) -> Iterator[RawBatch]:
        rel = safe_text(f.relative_to(self.path).as_posix())
        what = f"export bundle {self.path}: {rel}"
        with open_regular(f, self.path) as plain:
            if f.name.endswith(".gz"):
                with gzip.open(plain, "rb") as fh:
                    raw = read_bounded(fh, self.limits, what, os.fstat(plain.fileno()).st_size, self.faults)
            else:
                raw = read_bounded(plain, self.limits, what)
        text, note = decode_text(raw)
        raw = b""  # the bytes are not needed beside their text
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        yield from _batches(rel, lines, 0, note, self.limits)


def _raw_line_batches(f: Path, bundle: Path, limits: Limits,
                      faults: list[dict] | None = None) -> Iterator[tuple[list[bytes], dict[int, str]]]:
    """The file's lines as bytes (without the newline), ``BATCH_LINES`` (or
    ``BATCH_BYTES``) at a time, with the ``record_too_large`` errors of the lines over
    the limit (which stand as their first bytes; :func:`~motcua.sources.limits.line_batches`);
    a gzip cut off mid-stream gives the lines read before the cut (the last one
    partial), noted in ``faults``; a gzip expanding beyond the ratio limit stops. A symbolic link is refused
    (:func:`open_regular`)."""
    what = f"export bundle {bundle}: {safe_text(f.relative_to(bundle).as_posix())}"
    with open_regular(f, bundle) as plain:
        gz = f.name.endswith(".gz")
        compressed = os.fstat(plain.fileno()).st_size if gz else None
        with (gzip.open(plain, "rb") if gz else plain) as fh:
            yield from line_batches(fh, limits, what, BATCH_LINES, BATCH_BYTES, compressed, faults)


def _utf8_array(raw_lines: list[bytes]) -> pa.Array | None:
    """The lines as an Arrow string array (UTF-8 checked in C, no Python strings), or
    None when they are not all UTF-8."""
    try:
        return pa.array(raw_lines, pa.binary()).cast(pa.string())
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None


def _arrow_batch(rel: str, text: pa.Array, offset: int, too_large: dict[int, str] | None = None) -> RawBatch:
    """A raw batch of the non-blank lines of ``text`` (line numbers from ``offset`` + 1),
    built with Arrow compute: the same rows as :func:`_batches`. ``too_large``: the
    errors of the lines that stand as their first bytes (kept even when those are blank)."""
    recs = pc.utf8_rtrim(text, characters="\r")
    numbers = pa.array(np.arange(offset + 1, offset + 1 + len(text), dtype="int64")).cast(pa.string())
    locs = pc.binary_join_element_wise(pa.scalar(f"{rel}:"), numbers, "")
    keep = pc.not_equal(pc.utf8_trim_whitespace(recs), "")
    if too_large:
        errors = pa.array([too_large.get(i) for i in range(len(text))], pa.string())
        keep = pc.or_(keep, pc.is_valid(errors))
    else:
        errors = pa.nulls(len(text), pa.string())
    table = pa.table({"locator": locs, "record": recs, "error": errors})
    return table.filter(keep).cast(RAW_SCHEMA)


def _batches(rel: str, lines: list[str], offset: int, note: str | None, limits: Limits,
             too_large: dict[int, str] | None = None) -> Iterator[RawBatch]:
    """Raw batches of non-blank ``lines`` (line numbers from ``offset`` + 1); a line over
    ``max_record_bytes`` is cut with a ``record_too_large`` error (:func:`make_batch`);
    ``too_large``: errors of lines already cut, by index in ``lines``."""
    too_large = too_large or {}
    for start in range(0, len(lines), BATCH_LINES):
        chunk = lines[start:start + BATCH_LINES]
        locs = [f"{rel}:{offset + start + i + 1}" for i in range(len(chunk))]
        recs = [ln.rstrip("\r") for ln in chunk]
        errors = [too_large.get(start + i) for i in range(len(chunk))]
        if note:
            locs = [f"{loc} ({note})" for loc in locs]
        keep = [i for i, r in enumerate(recs) if r.strip() != "" or errors[i] is not None]
        yield make_batch([locs[i] for i in keep], [recs[i] for i in keep], [errors[i] for i in keep], limits)
