"""The sources' size limits (``motcua.sources.limits``): lines are read with a bound, a
line over the record limit is cut and flagged, never held whole; the limits are
settings (``MOTCUA_MAX_*``), checked when the settings are read."""

from __future__ import annotations

import io

import pytest
from helpers.hostile_files import MIB

from motcua.settings import Settings, SettingsError
from motcua.sources.limits import Limits, line_batches


class _Spy(io.BufferedReader):
    """A reader that remembers the longest piece it handed out."""

    longest = 0

    def readline(self, size: int | None = -1) -> bytes:  # type: ignore[override]
        line = super().readline(size)
        _Spy.longest = max(_Spy.longest, len(line))
        return line

    def __iter__(self):  # a whole-line iteration would read any line whole
        raise AssertionError("lines must be read with a size limit")


def test_a_long_line_is_never_held_whole():
    limits = Limits(max_record_bytes=1000)
    data = b'{"a": 1}\n' + b"x" * (5 * MIB) + b"\n" + b" " * 5000 + b"\n" + b'{"b": 2}' + b"y" * 2000
    _Spy.longest = 0
    batches = list(line_batches(_Spy(io.BytesIO(data)), limits, "test", 10, 1 << 30))
    assert _Spy.longest <= MIB  # at most one chunk of the skip loop
    lines, errors = batches[0]
    assert lines[0] == b'{"a": 1}' and lines[2] == b""  # a blank line stays blank, however long
    assert lines[1] == b"x" * 1000 and errors[1].startswith(f"record_too_large: {5 * MIB} bytes")
    assert lines[3] == b'{"b": 2}' + b"y" * 992 and errors[3].startswith("record_too_large: 2008 bytes")
    assert set(errors) == {1, 3}
    exact = list(line_batches(io.BytesIO(b"z" * 1000 + b"\n" + b"w" * 1000), limits, "test", 10, 1 << 30))
    assert exact == [([b"z" * 1000, b"w" * 1000], {})]  # at the limit: whole


def test_the_limits_are_settings(monkeypatch):
    monkeypatch.setenv("MOTCUA_MAX_RECORD_BYTES", "2048")
    monkeypatch.setenv("MOTCUA_MAX_FILE_BYTES", "1000000")
    monkeypatch.setenv("MOTCUA_MAX_COMPRESSION_RATIO", "0")
    monkeypatch.setenv("MOTCUA_HTTP_MAX_EMPTY_PAGES", "7")
    assert Limits.from_env() == Limits(2048, 1_000_000, 0, 7)
    assert Limits.from_env().inflate_allowance(10**9) is None  # 0: no ratio limit
    assert Limits().inflate_allowance(10) == 100 * MIB and Limits().inflate_allowance(10 * MIB) == 1000 * MIB
    for name, value in (("MOTCUA_MAX_RECORD_BYTES", "0"), ("MOTCUA_MAX_COMPRESSION_RATIO", "-1"),
                        ("MOTCUA_MAX_FILE_BYTES", "1GB"), ("MOTCUA_HTTP_MAX_EMPTY_PAGES", "0")):
        monkeypatch.setenv(name, value)
        with pytest.raises(SettingsError, match=name):
            Settings.from_env()
        monkeypatch.delenv(name)
