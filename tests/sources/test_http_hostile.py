"""Trust boundary, HTTP source: pages a server should never send, fed through
:class:`HttpSource` and the pipeline's real stages from a real server on 127.0.0.1
(:mod:`helpers.hostile_api`). Each one either stops the extraction with one clear
line naming the page, or reaches the quarantine with its reason; the records read are
always the records loaded plus those quarantined. How a page is split into items
(``motcua.sources.jsonpage``) is tested in ``test_jsonpage.py``."""

from __future__ import annotations

import gzip
import json
import logging

import pytest
from helpers.bundle import (
    agency,
    assert_balanced,
    dossier,
    procedure,
    run_and_read,
)
from helpers.hostile_api import HostileApi, page_body

from motcua.sources.http import HttpSource, HttpSourceError
from motcua.sources.limits import Limits

GOOD = [dossier("H1", 9, "20190308100000", intake="20190304090000", due="20190311170000",
                resolved="20190308100000", history=[(2, "20190304090000"), (9, "20190308100000")]),
        dossier("H2", 4, "20190308120000", intake="20190305090000", due="20190312170000",
                history=[(2, "20190305090000")])]
GOOD_TEXT = [json.dumps(d, ensure_ascii=False) for d in GOOD]
DEEP = 5000  # far beyond json's recursion limit (about 1000) and orjson's depth limit (1024)
FAST = {"backoff_base": 0.001, "backoff_max": 0.01}


def _api(page_fn) -> HostileApi:
    return HostileApi(page_fn, [procedure("1.000001")], [agency("A1")])


def _one_page(items: list[str], extra: str = ""):
    return lambda page: (page_body(items if page == 1 else [], page, 1, extra), {})


def test_an_item_too_deep_to_parse_is_quarantined_not_a_crash(tmp_path):
    """Before: json.loads of the page raised RecursionError (not caught) and the run died."""
    deep_bare = "[" * DEEP + "]" * DEEP
    deep_dossier = ('{"MaHoSo": "HDEEP", "NgayCapNhat": "20190308110000", "X": '
                    + "[" * DEEP + "]" * DEEP + "}")
    with _api(_one_page([GOOD_TEXT[0], deep_bare, deep_dossier, GOOD_TEXT[1]])) as api:
        source = HttpSource(api.url, **FAST)
        batches = list(source.iter_records())
        out = run_and_read(api.url, tmp_path)
    assert source.stats["unparsed_items"] == 2 and source.stats["retries"] == 0
    errors = [e for b in batches for e in b.column("error").to_pylist()]
    assert errors[0] is None and errors[3] is None
    assert errors[1].startswith("invalid_json: RecursionError") and errors[2] == errors[1]
    assert_balanced(out["staged"], 4)
    assert out["staged"]["records_quarantined"] == 2
    q = out["quarantine"].sort_values("locator")
    assert q["locator"].tolist() == ["page 1 item 2", "page 1 item 3"]
    assert q["reason"].str.startswith("invalid_json: RecursionError: nested too deeply").all(), q["reason"].tolist()
    assert q["record"].tolist() == [deep_bare, deep_dossier]  # the item as served
    assert sorted(out["fct"]["dossier_code"]) == ["H1", "H2"]


def test_a_page_too_deep_outside_its_items_stops_naming_the_page(tmp_path):
    extra = ', "meta": ' + "[" * DEEP + "]" * DEEP
    with _api(_one_page(GOOD_TEXT, extra)) as api:
        with pytest.raises(HttpSourceError) as caught:
            run_and_read(api.url, tmp_path)
        assert api.requests["/dossiers"] == 1  # not retried: the same page would come back
    message = str(caught.value)
    assert "\n" not in message and "/dossiers?page=1" in message and "nested too deeply" in message
    assert not list((tmp_path / "var").glob("raw/**/*records*.parquet"))


def test_a_lone_surrogate_in_an_item_reaches_the_quarantine(tmp_path):
    r"""``"\ud800"`` is valid JSON text, but json.loads makes it a lone surrogate, which
    Arrow cannot hold: before, the batch (and the run) failed with UnicodeEncodeError."""
    bad = json.dumps(dossier("HSUR", 4, "20190308110000", intake="20190305090000", due="20190312170000"))
    bad = bad[:-1] + ', "TenTTHC": "Th\\u1ee7 t\\u1ee5c \\ud800 l\\u1ed7i"}'  # a lone high surrogate
    with _api(_one_page([GOOD_TEXT[0], bad, GOOD_TEXT[1]])) as api:
        batches = list(HttpSource(api.url, **FAST).iter_records())
        out = run_and_read(api.url, tmp_path)
    records = [r for b in batches for r in b.column("record").to_pylist()]
    assert "\\ud800" in records[1] and "\ud800" not in records[1]  # kept as its escape, as served
    assert_balanced(out["staged"], 3)
    q = out["quarantine"]
    assert q["locator"].tolist() == ["page 1 item 2"]
    assert q["reason"].iloc[0].startswith("invalid_json:"), q["reason"].iloc[0]
    assert sorted(out["fct"]["dossier_code"]) == ["H1", "H2"]


def test_endless_empty_pages_end_the_pass_with_a_warning(tmp_path, caplog):
    """``total_pages=10**9`` and nothing after page 1: before, the source asked for a
    billion pages."""
    def pages(page: int):
        return page_body(GOOD_TEXT if page == 1 else [], page, 10**9), {}

    caplog.set_level(logging.WARNING)
    with _api(pages) as api:
        source = HttpSource(api.url, limits=Limits(max_empty_pages=3), **FAST)
        got = [r for b in source.iter_records() for r in b.column("record").to_pylist()]
        asked = api.requests["/dossiers"]
        out = run_and_read(api.url, tmp_path, http_max_empty_pages=2)
        asked_by_run = api.requests["/dossiers"] - asked
    assert len(got) == 2
    # two passes (the second finds nothing new), each: page 1, then 3 empty pages
    assert source.stats["passes"] == 2 and asked == 8 and source.stats["empty_pages"] == 6
    assert "were empty; ending pass 1" in caplog.text and "of the 1000000000 announced" in caplog.text
    # the server ignores updated_since: the re-query pass skips what is older than it asked for
    assert source.stats["outside_window"] == 1 and "does the server filter by updated_since" in caplog.text
    assert asked_by_run == 6  # MOTCUA_HTTP_MAX_EMPTY_PAGES = 2 through the settings
    assert_balanced(out["staged"], 2)
    assert sorted(out["fct"]["dossier_code"]) == ["H1", "H2"]


def test_an_empty_page_before_more_items_is_not_the_end(tmp_path):
    """Fewer consecutive empty pages than the limit: paging goes on."""
    def pages(page: int):
        items = {1: [GOOD_TEXT[0]], 2: [], 3: [], 4: [GOOD_TEXT[1]]}.get(page, [])
        return page_body(items, page, 4), {}

    with _api(pages) as api:
        source = HttpSource(api.url, limits=Limits(max_empty_pages=3), **FAST)
        got = [json.loads(r)["MaHoSo"] for b in source.iter_records() for r in b.column("record").to_pylist()]
    assert got == ["H1", "H2"]


def test_a_compressed_response_beyond_the_size_limit_stops(tmp_path):
    """A gzip bomb over HTTP (``Content-Encoding: gzip``, 64 KiB that inflate to 64 MiB):
    the body is counted as it is decompressed and refused at the limit."""
    bomb = gzip.compress(b" " * (64 << 20), compresslevel=9)
    assert len(bomb) < 256 << 10
    with _api(lambda page: (bomb, {"Content-Encoding": "gzip"})) as api:
        with pytest.raises(HttpSourceError) as caught:
            run_and_read(api.url, tmp_path, max_file_bytes=4 << 20)
        assert api.requests["/dossiers"] == 1
    message = str(caught.value)
    assert "/dossiers?page=1" in message and "MOTCUA_MAX_FILE_BYTES = 4194304" in message


def test_an_item_over_the_record_limit_is_quarantined(tmp_path):
    big = dossier("HBIG", 4, "20190308110000", intake="20190305090000", due="20190312170000",
                  NoiDung="đ" * 20_000)
    with _api(_one_page([GOOD_TEXT[0], json.dumps(big, ensure_ascii=False), GOOD_TEXT[1]])) as api:
        out = run_and_read(api.url, tmp_path, max_record_bytes=16_384)
    assert_balanced(out["staged"], 3)
    q = out["quarantine"]
    assert q["locator"].tolist() == ["page 1 item 2"]
    reason = q["reason"].iloc[0]
    assert reason.startswith("record_too_large: ") and "MOTCUA_MAX_RECORD_BYTES = 16384" in reason, reason
    assert len(q["record"].iloc[0].encode()) <= 4096
    assert sorted(out["fct"]["dossier_code"]) == ["H1", "H2"]
