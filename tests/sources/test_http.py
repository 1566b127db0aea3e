"""HttpSource against the simulator, a real server on 127.0.0.1 (no mocked transport)."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pyarrow as pa
import pytest

from motcua.dev.simulator.server import Simulator
from motcua.sources.base import RAW_SCHEMA
from motcua.sources.http import HttpSource, HttpSourceError

FAST = {"backoff_base": 0.001, "backoff_max": 0.01}


def extract(source: HttpSource, since: str | None = None) -> tuple[list[dict], list[str]]:
    items, locators = [], []
    for batch in source.iter_records(since):
        assert isinstance(batch, pa.Table) and batch.schema.equals(RAW_SCHEMA)
        assert batch.column("error").null_count == batch.num_rows
        items += [json.loads(r) for r in batch.column("record").to_pylist()]
        locators += batch.column("locator").to_pylist()
    return items, locators


def keys(items: list[dict]) -> list[tuple[str, str]]:
    return [(i["MaHoSo"], i["NgayCapNhat"]) for i in items]


def test_clean_extraction_returns_every_servable_snapshot_once(bundle):
    with Simulator(bundle.path) as sim:
        source = HttpSource(sim.url, page_size=7, **FAST)
        items, locators = extract(source)
        procedures = source.read_procedures()
        agencies = source.read_agencies()
    got = keys(items)
    assert len(got) == len(set(got))  # exactly once, the bundle's duplicate line included
    assert set(got) == bundle.keys
    assert locators[0] == "page 1 item 1" and locators[7] == "page 2 item 1"
    by_key = {(s["MaHoSo"], s["NgayCapNhat"]): s for s in bundle.snapshots}
    assert all(item == by_key[k] for item, k in zip(items, got, strict=True))  # content as served
    assert source.max_updated == max(bundle.stamps.values())
    assert source.stats["retries"] == 0 and source.stats["passes"] == 2
    assert list(procedures["MaTTHC"]) == ["1.004512", "2.000120", "1.000321"]
    assert agencies.loc[1, "MaDonViCha"] == "SKHCN" and agencies["HieuLucTu"].isna().all()


@pytest.mark.parametrize("seed", [11, 12])
def test_faults_and_mid_paging_changes_lose_and_double_nothing(bundle, seed):
    faults = dict(fail_rate_429=0.12, fail_rate_5xx=0.12, truncate_rate=0.12, drop_rate=0.08, latency_ms=2,
                  mid_paging_changes=12, late_changes=4, late_window_s=1800, retry_after=0, seed=seed)
    with Simulator(bundle.path, **faults) as sim:
        source = HttpSource(sim.url, page_size=10, max_retries=12, **FAST)
        items, _ = extract(source)
        stats = sim.stats.copy()
    got = keys(items)
    assert len(got) == len(set(got)), "a snapshot came twice"
    expected = bundle.keys | set(sim.added)
    assert len(sim.added) == 16 and len(sim.added_late) == 4
    assert set(got) == expected, f"missing {expected - set(got)}"
    assert stats["429"] and stats["truncate"] and stats["drop"] and stats["500"] + stats["503"]
    assert source.stats["retries"] >= stats["429"] + stats["truncate"] + stats["drop"]
    assert source.max_updated == max(s for _, s in sim.added)


def test_time_outs_are_retried(bundle):
    with Simulator(bundle.path, stall_rate=0.25, stall_ms=2000, seed=5) as sim:
        source = HttpSource(sim.url, page_size=25, timeout=0.3, **FAST)
        items, _ = extract(source)
        assert sim.stats["stall"] >= 1
    assert set(keys(items)) == bundle.keys and len(items) == len(bundle.keys)


def test_gives_up_after_max_retries(bundle):
    with Simulator(bundle.path, fail_rate_5xx=1.0) as sim:
        source = HttpSource(sim.url, max_retries=2, **FAST)
        with pytest.raises(HttpSourceError, match="gave up after 3 attempts"):
            extract(source)
        assert sum(sim.stats[s] for s in ("500", "503")) == 3


def test_token_required_and_never_logged(bundle, monkeypatch, caplog):
    token = "Tok-9f8e7d6c5b4a-secret"
    caplog.set_level(logging.DEBUG)
    with Simulator(bundle.path, token=token, fail_rate_429=0.2, truncate_rate=0.2, retry_after=0, seed=3) as sim:
        monkeypatch.delenv("MOTCUA_SOURCE_TOKEN", raising=False)
        with pytest.raises(HttpSourceError, match="401") as no_token:
            extract(HttpSource(sim.url, **FAST))
        with pytest.raises(HttpSourceError, match="refused") as bad_token:
            extract(HttpSource(sim.url, token="wrong", **FAST))
        monkeypatch.setenv("MOTCUA_SOURCE_TOKEN", token)
        source = HttpSource(sim.url, page_size=20, **FAST)
        items, _ = extract(source)
        assert set(keys(items)) == bundle.keys
        assert source.stats["retries"] > 0  # retries were logged
    assert "retry" in caplog.text
    for text in (caplog.text, repr(source), str(no_token.value), str(bad_token.value)):
        assert token not in text


def test_since_filters_with_the_overlap_window(bundle):
    stamps = sorted(bundle.stamps.values())
    since = stamps[len(stamps) * 2 // 3]
    with Simulator(bundle.path) as sim:
        exact, _ = extract(HttpSource(sim.url, page_size=9, overlap_seconds=0, **FAST), since)
        overlapped, _ = extract(HttpSource(sim.url, page_size=9, overlap_seconds=86400, **FAST), since)
    assert set(keys(exact)) == {k for k, s in bundle.stamps.items() if s >= since}
    day_before = (dt.datetime.strptime(since, "%Y%m%d%H%M%S") - dt.timedelta(days=1)).strftime("%Y%m%d%H%M%S")
    assert set(keys(overlapped)) == {k for k, s in bundle.stamps.items() if s >= day_before}
    assert len(overlapped) > len(exact)


def test_an_interrupted_extraction_resumes_from_max_updated(bundle):
    """max_updated only covers pages the consumer came back from; resuming from it loses nothing."""
    progress: list[str] = []
    with Simulator(bundle.path) as sim:
        source = HttpSource(sim.url, page_size=10, on_progress=progress.append, **FAST)
        batches = source.iter_records()
        first = [json.loads(r) for r in next(batches).column("record").to_pylist()]
        assert source.max_updated is None  # the first page is not acknowledged yet
        next(batches)  # the consumer came back: page 1 is handed over
        batches.close()  # the process "dies" here
        watermark = source.max_updated
        assert watermark == max(bundle.stamps[k] for k in keys(first)) and progress == [watermark]
        rest, _ = extract(HttpSource(sim.url, page_size=10, **FAST), since=watermark)
    assert set(keys(first)) | set(keys(rest)) == bundle.keys
