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

BATCH_LINES = 50_000


def decode_text(data: bytes) -> tuple[str, str | None]:
    """Decode a file's bytes: UTF-8 (BOM stripped), else legacy Windows-1258.

    Returns the text and a note when a fallback was used.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), None
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return data.decode("cp1258", errors="replace"), "decoded as Windows-1258"


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
        raise FileNotFoundError(f"export bundle {bundle}: cannot open {path.name}: {exc.strerror}") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise FileNotFoundError(f"export bundle {bundle}: {path.name} is not a regular file")
    return os.fdopen(fd, "rb")


def read_csv_text(path: Path, bundle: Path | None = None) -> pd.DataFrame:
    """A CSV file as strings (see :func:`decode_text`); inside a ``bundle``, a symbolic
    link is refused."""
    with open_regular(path, bundle if bundle is not None else path.parent) as fh:
        data = fh.read()
    text, _ = decode_text(data)
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


class BundleSource:
    """A folder laid out as domain.md section 2 describes."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise FileNotFoundError(f"export bundle {self.path} is not a folder")
        self.name = "bundle"
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
        return conform_catalogue(read_csv_text(f, self.path), PROCEDURE_COLUMNS, str(f))

    def read_agencies(self) -> pd.DataFrame:
        f = self.path / "agencies.csv"
        refuse_link(f, self.path)
        if not f.exists():
            raise FileNotFoundError(f"export bundle {self.path} has no agencies.csv")
        return conform_catalogue(read_csv_text(f, self.path), AGENCY_COLUMNS, str(f))

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
        """Every line of every dossier file, as read, in batches of ``BATCH_LINES`` lines.
        ``since`` is ignored: a bundle is read whole and the pipeline keeps the newest
        snapshot per dossier.

        UTF-8 files are streamed (memory holds one batch, whatever the file's size).
        A file that is UTF-16 (by its BOM), or whose first batch is not UTF-8, is
        decoded whole (:func:`decode_text`: UTF-16, else Windows-1258); a batch that is
        not UTF-8 after UTF-8 ones is read as Windows-1258 from there on, noted in the
        locator."""
        files = self.dossier_files()  # every link refused before the first record is read
        for f in files:
            yield from self._iter_file(f)

    def _iter_file(self, f: Path) -> Iterator[RawBatch]:
        rel = f.relative_to(self.path).as_posix()
        first = True
        note: str | None = None
        line_no = 0
        for raw_lines in _raw_line_batches(f, self.path):
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
                yield from _batches(rel, lines, line_no, note)
            else:
                yield _arrow_batch(rel, text, line_no)
            line_no += len(raw_lines)
            raw_lines = text = None  # type: ignore[assignment]  # free them before the next batch is read

    def _iter_whole(self, f: Path) -> Iterator[RawBatch]:
        with open_regular(f, self.path) as fh:
            raw = fh.read()
        if f.name.endswith(".gz"):
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError):
                # a gzip cut off mid-stream: keep what can be read
                raw = _partial_gunzip(raw)
        text, note = decode_text(raw)
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        yield from _batches(f.relative_to(self.path).as_posix(), lines, 0, note)


def _raw_line_batches(f: Path, bundle: Path) -> Iterator[list[bytes]]:
    """The file's lines as bytes (without the newline), ``BATCH_LINES`` at a time; a gzip
    cut off mid-stream gives the lines read before the cut (the last one partial). A
    symbolic link is refused (:func:`open_regular`)."""
    batch: list[bytes] = []
    with open_regular(f, bundle) as plain, (gzip.open(plain, "rb") if f.name.endswith(".gz") else plain) as fh:
        try:
            for line in fh:
                batch.append(line[:-1] if line.endswith(b"\n") else line)
                if len(batch) >= BATCH_LINES:
                    yield batch
                    batch = []
        except (OSError, EOFError):
            pass  # cut off mid-stream: keep what was read
    if batch:
        yield batch


def _utf8_array(raw_lines: list[bytes]) -> pa.Array | None:
    """The lines as an Arrow string array (UTF-8 checked in C, no Python strings), or
    None when they are not all UTF-8."""
    try:
        return pa.array(raw_lines, pa.binary()).cast(pa.string())
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None


def _arrow_batch(rel: str, text: pa.Array, offset: int) -> RawBatch:
    """A raw batch of the non-blank lines of ``text`` (line numbers from ``offset`` + 1),
    built with Arrow compute: the same rows as :func:`_batches`."""
    recs = pc.utf8_rtrim(text, characters="\r")
    numbers = pa.array(np.arange(offset + 1, offset + 1 + len(text), dtype="int64")).cast(pa.string())
    locs = pc.binary_join_element_wise(pa.scalar(f"{rel}:"), numbers, "")
    keep = pc.not_equal(pc.utf8_trim_whitespace(recs), "")
    table = pa.table({"locator": locs, "record": recs, "error": pa.nulls(len(text), pa.string())})
    return table.filter(keep).cast(RAW_SCHEMA)


def _batches(rel: str, lines: list[str], offset: int, note: str | None) -> Iterator[RawBatch]:
    """Raw batches of non-blank ``lines`` (line numbers from ``offset`` + 1)."""
    for start in range(0, len(lines), BATCH_LINES):
        chunk = lines[start:start + BATCH_LINES]
        locs = [f"{rel}:{offset + start + i + 1}" for i in range(len(chunk))]
        recs = [ln.rstrip("\r") for ln in chunk]
        errors = [None] * len(recs)
        if note:
            locs = [f"{loc} ({note})" for loc in locs]
        keep = [i for i, r in enumerate(recs) if r.strip() != ""]
        yield make_batch([locs[i] for i in keep], [recs[i] for i in keep], [errors[i] for i in keep])


def _partial_gunzip(data: bytes) -> bytes:
    out = bytearray()
    with gzip.open(io.BytesIO(data), "rb") as fh:
        try:
            while True:
                block = fh.read(1 << 16)
                if not block:
                    break
                out.extend(block)
        except (OSError, EOFError):
            pass
    return bytes(out)
