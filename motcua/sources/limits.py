"""Limits on what a source can make the pipeline hold or follow (a trust boundary).

A source's files and responses are outside our control. These limits keep a hostile
or broken one from stopping every night or exhausting memory, without losing a
record silently:

* ``max_record_bytes`` -- one record (a line, a sheet row, an API item, a database
  row) larger than this is not held whole: it is passed on with ``error``
  ``record_too_large: N bytes ...`` and only its first bytes as ``record``, so staging
  quarantines it with that reason (it is still counted as read);
* ``max_file_bytes`` -- a file or HTTP response the source must read whole (a CSV,
  a legacy-encoded JSONL file, an XLSX part, an API page) larger than this stops the
  run with :class:`SourceLimitError` naming it;
* ``max_compression_ratio`` -- a compressed file (``.jsonl.gz``, an XLSX part) that
  expands to more than this many times its compressed size (at least this many MiB)
  stops the run with :class:`SourceLimitError`: a gzip bomb is refused after reading
  that much, never read to its end;
* ``max_empty_pages`` -- the HTTP source ends a pass after this many consecutive empty
  pages before the last page the server announced (a warning, counted).

The values come from :class:`motcua.settings.Settings` (``MOTCUA_MAX_RECORD_BYTES`` …).
"""

from __future__ import annotations

import csv
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

MIB = 1 << 20
#: bytes of an over-large record that are kept (for the quarantine), at most
SAMPLE_BYTES = 4096
#: consecutive bytes read at a time while skipping an over-large line
_SKIP_CHUNK = 1 << 20
# The errors set here (``record_too_large: …``, ``invalid_json: …``) are reasons staging
# keeps as they are (transforms.stg_dossier_snapshot.SOURCE_ERROR_KINDS); any other
# source error becomes ``source_error: …``.


class SourceLimitError(ValueError):
    """A file or response is over one of the :class:`Limits`: the run stops with this
    one-line message (naming the file or page and the setting)."""


@dataclass(frozen=True)
class Limits:
    """See the module docstring. ``max_compression_ratio`` 0 means no ratio limit."""

    max_record_bytes: int = MIB
    max_file_bytes: int = 1 << 30
    max_compression_ratio: int = 100
    max_empty_pages: int = 3

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        return cls(max_record_bytes=settings.max_record_bytes, max_file_bytes=settings.max_file_bytes,
                   max_compression_ratio=settings.max_compression_ratio,
                   max_empty_pages=settings.http_max_empty_pages)

    @classmethod
    def from_env(cls) -> Limits:
        from motcua.settings import Settings

        return cls.from_settings(Settings.from_env())

    def inflate_allowance(self, compressed_bytes: int) -> int | None:
        """The most bytes a compressed file of ``compressed_bytes`` may expand to (None:
        no limit)."""
        if self.max_compression_ratio <= 0:
            return None
        return self.max_compression_ratio * max(compressed_bytes, MIB)

    def too_large(self, size: int, kept: int) -> str:
        """The ``error`` of a record of ``size`` bytes over ``max_record_bytes``."""
        return (f"record_too_large: {size} bytes (MOTCUA_MAX_RECORD_BYTES = {self.max_record_bytes}); "
                f"the record kept is its first {kept} bytes")

    def check_file_size(self, size: int, what: str) -> None:
        """Stop when a file (or response) read whole would be over ``max_file_bytes``."""
        if size > self.max_file_bytes:
            raise SourceLimitError(f"{what}: {size} bytes, over MOTCUA_MAX_FILE_BYTES = {self.max_file_bytes} "
                                   "(the most a file or response read whole may hold)")

    def inflated(self, what: str, compressed_bytes: int) -> SourceLimitError:
        ratio = self.max_compression_ratio
        return SourceLimitError(
            f"{what}: expands beyond {self.inflate_allowance(compressed_bytes)} bytes, more than "
            f"MOTCUA_MAX_COMPRESSION_RATIO = {ratio} times its {compressed_bytes} compressed bytes (or {ratio} MiB "
            "for a smaller file): refused as a possible decompression bomb")


# --------------------------------------------------------------------------- text


def safe_text(text: str) -> str:
    """``text`` as Arrow can hold it: a lone surrogate (``"\\ud800"``, which no UTF-8
    can carry) becomes its escape ``\\ud800`` -- in a JSON string, the same escape the
    JSON had, so staging reads (and rejects) the record as the source sent it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def decode_utf16(data: bytes, codec: str = "utf-16") -> str:
    """UTF-16 text that a lone surrogate (or an odd last byte) does not fail: the
    surrogate is kept (``surrogatepass``; the batch escapes it, staging rejects the
    record), else undecodable bytes are replaced."""
    try:
        return data.decode(codec, errors="surrogatepass")
    except UnicodeDecodeError:
        return data.decode(codec, errors="replace")


def utf8_sample(data: bytes, limit: int = SAMPLE_BYTES) -> bytes:
    """The first ``limit`` bytes of ``data``, without a UTF-8 sequence cut in its middle
    (so a UTF-8 line's sample is still UTF-8)."""
    head = data[:limit]
    for cut in range(4):
        part = head[:len(head) - cut]
        try:
            part.decode("utf-8")
        except UnicodeDecodeError:
            continue
        return part
    return head  # not UTF-8 anyway


def bound_records(records: list[str], errors: list[str | None], limits: Limits) -> None:
    """In place: each record over ``max_record_bytes`` (UTF-8) becomes its first bytes,
    with a ``record_too_large`` error (before any error it had)."""
    cheap = limits.max_record_bytes // 4  # a text this long or shorter cannot be over
    for i, text in enumerate(records):
        if text is None or len(text) <= cheap or (errors[i] or "").startswith("record_too_large"):
            continue
        data = text.encode("utf-8", "surrogatepass")
        if len(data) <= limits.max_record_bytes:
            continue
        sample = utf8_sample(data, min(SAMPLE_BYTES, limits.max_record_bytes))
        records[i] = sample.decode("utf-8", "replace")
        reason = limits.too_large(len(data), len(sample))
        errors[i] = reason if errors[i] is None else f"{reason}; {errors[i]}"


# --------------------------------------------------------------------------- bytes


def source_fault(where: str, exc: BaseException, records_before: int, unit: str = "lines") -> dict:
    """A source fault as ``audit.run`` and the run summary record it: where reading
    stopped, why, and how much was read before (the records before it are kept)."""
    kind = "cut off" if isinstance(exc, EOFError) else "unreadable"
    detail = str(exc).strip() or type(exc).__name__
    return {"where": where, "kind": kind, "detail": detail[:300], "read_before": records_before, "unit": unit}


def describe_fault(fault: dict) -> str:
    """One line for a source fault (:func:`source_fault`)."""
    return (f"{fault['where']}: {fault['kind']} after {fault['read_before']} {fault.get('unit', 'lines')} "
            f"({fault['detail']}); what follows is not read")


def line_batches(fh: IO[bytes], limits: Limits, what: str, batch_lines: int, batch_bytes: int,
                 compressed_bytes: int | None = None,
                 faults: list[dict] | None = None) -> Iterator[tuple[list[bytes], dict[int, str]]]:
    """The lines of ``fh`` (without their newline) in batches of at most ``batch_lines``
    lines and about ``batch_bytes`` bytes, with the errors of the over-large ones by
    index in the batch.

    A line over ``max_record_bytes`` is never held whole: it is read on in chunks to its
    end, and stands in the batch as its first bytes (:func:`utf8_sample`) with a
    ``record_too_large`` error -- or as an empty line when it was blank throughout.
    With ``compressed_bytes`` (a compressed file), reading more than
    :meth:`Limits.inflate_allowance` bytes raises :class:`SourceLimitError`. A gzip cut
    off mid-stream (or a read error) ends the lines there (the last one partial) and is
    appended to ``faults`` (:func:`source_fault`): kept, never silent."""
    limit = limits.max_record_bytes
    allowance = limits.inflate_allowance(compressed_bytes) if compressed_bytes is not None else None
    readline = fh.readline
    batch: list[bytes] = []
    errors: dict[int, str] = {}
    size = 0
    total = 0
    lines = 0
    try:
        while True:
            line = readline(limit + 1)
            if not line:
                break
            n = len(line)
            total += n
            if line[-1:] == b"\n":
                line = line[:-1]
            elif n > limit:  # longer than the limit and not ended: read on to its end
                line, error, skipped = _skip_long_line(fh, line, limits, allowance, total, what, compressed_bytes)
                total += skipped
                if error is not None:
                    errors[len(batch)] = error
            if allowance is not None and total > allowance:
                raise limits.inflated(what, compressed_bytes or 0)
            batch.append(line)
            lines += 1
            size += len(line)
            if len(batch) >= batch_lines or size >= batch_bytes:
                yield batch, errors
                batch, errors, size = [], {}, 0
    except (OSError, EOFError) as exc:  # cut off mid-stream: keep what was read, and say so
        if faults is not None:
            faults.append(source_fault(what, exc, lines))
    if batch:
        yield batch, errors


def _skip_long_line(fh: IO[bytes], head: bytes, limits: Limits, allowance: int | None, total: int,
                    what: str, compressed_bytes: int | None) -> tuple[bytes, str | None, int]:
    """(sample or b"", error or None, bytes read) for a line that began with ``head``."""
    size = len(head)
    blank = not head.strip()
    skipped = 0
    ended = False
    while True:
        try:
            chunk = fh.readline(_SKIP_CHUNK)
        except (OSError, EOFError):  # cut off mid-stream: the line ends there
            break
        if not chunk:
            break
        skipped += len(chunk)
        if allowance is not None and total + skipped > allowance:
            raise limits.inflated(what, compressed_bytes or 0)
        if chunk[-1:] == b"\n":
            chunk = chunk[:-1]
            ended = True
        size += len(chunk)
        blank = blank and not chunk.strip()
        if ended:
            break
    if blank:
        return b"", None, skipped
    sample = utf8_sample(head, min(SAMPLE_BYTES, limits.max_record_bytes))
    return sample, limits.too_large(size, len(sample)), skipped


def read_bounded(fh: IO[bytes], limits: Limits, what: str, compressed_bytes: int | None = None,
                 faults: list[dict] | None = None) -> bytes:
    """All of ``fh``, read whole: at most ``max_file_bytes`` (and, for a compressed
    file of ``compressed_bytes``, at most its inflate allowance), else
    :class:`SourceLimitError`. A compressed stream cut off mid-way gives what was read,
    and is appended to ``faults`` (:func:`source_fault`, counted in bytes)."""
    if compressed_bytes is None:
        size = os.fstat(fh.fileno()).st_size
        limits.check_file_size(size, what)
        return fh.read()
    allowance = limits.inflate_allowance(compressed_bytes)
    cap = limits.max_file_bytes if allowance is None else min(limits.max_file_bytes, allowance)
    out = bytearray()
    try:
        while True:
            block = fh.read(min(1 << 16, cap + 1 - len(out)))  # 64 KiB: a cut stream loses at most that
            if not block:
                break
            out += block
            if len(out) > cap:
                if cap == limits.max_file_bytes:
                    limits.check_file_size(len(out), f"{what} (decompressed, at least)")
                raise limits.inflated(what, compressed_bytes)
    except (OSError, EOFError) as exc:  # cut off mid-stream: keep what can be read, and say so
        if faults is not None:
            faults.append(source_fault(what, exc, len(out), "bytes"))
    return bytes(out)


def read_file(path: Path, limits: Limits) -> bytes:
    """A whole (uncompressed) file, at most ``max_file_bytes``."""
    with open(path, "rb") as fh:
        return read_bounded(fh, limits, path.name)


def check_zip(path: Path, limits: Limits) -> None:
    """Stop before an XLSX (a zip) is opened when one of its parts is over
    ``max_file_bytes`` or expands beyond the ratio limit (the sizes a zip declares are
    the most it gives: Python's zipfile stops there and checks the CRC)."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return  # not a zip: the reader says so
    with zf:
        for info in zf.infolist():
            what = f"{path.name}: part {info.filename}"
            limits.check_file_size(info.file_size, what)
            allowance = limits.inflate_allowance(info.compress_size)
            if allowance is not None and info.file_size > allowance:
                raise limits.inflated(what, info.compress_size)


def widen_csv_fields(limits: Limits) -> None:
    """Let the csv module read a field as long as a whole file may be (its default,
    128 KiB, stops the file at the first longer cell); an over-large row is then
    quarantined by its record's size."""
    if csv.field_size_limit() < limits.max_file_bytes:
        csv.field_size_limit(limits.max_file_bytes)
