"""The one-stop simulator: the API of domain.md section 2, served from a bundle, with faults."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from motcua.dev.simulator.server import Simulator


def _all_pages(client: httpx.Client, since: str | None = None, size: int = 10) -> list[dict]:
    items, page = [], 1
    while True:
        params = {"page": page, "page_size": size}
        if since:
            params["updated_since"] = since
        body = client.get("/dossiers", params=params).json()
        items += body["items"]
        if page >= body["total_pages"]:
            return items
        page += 1


def test_serves_bundle_in_order_and_skips_unservable_lines(bundle):
    with Simulator(bundle.path) as sim, httpx.Client(base_url=sim.url) as client:
        items = _all_pages(client)
        assert len(items) == len(bundle.snapshots)  # the duplicate line is served twice, as written
        assert {(i["MaHoSo"], i["NgayCapNhat"]) for i in items} == bundle.keys
        order = [(bundle.stamps[(i["MaHoSo"], i["NgayCapNhat"])], i["MaHoSo"]) for i in items]
        assert order == sorted(order)
        reasons = sorted(r for _, r in sim.skipped)
        assert reasons == ["no readable NgayCapNhat", "not valid JSON"]
        first = client.get("/dossiers", params={"page": 1, "page_size": 10}).json()
        assert first["page"] == 1 and first["total_pages"] == -(-len(items) // 10)
        assert client.get("/dossiers", params={"page": 999, "page_size": 10}).json()["items"] == []
        procedures = client.get("/procedures").json()["items"]
        assert [p["MaTTHC"] for p in procedures] == ["1.004512", "2.000120", "1.000321"]
        assert client.get("/agencies").json()["items"][0]["TenDonVi"] == "Sở Khoa học và Công nghệ"
        assert client.get("/nowhere").status_code == 404
        assert client.get("/dossiers", params={"updated_since": "yesterday"}).status_code == 400


def test_updated_since_filters_by_local_instant(bundle):
    stamps = sorted(bundle.stamps.values())
    since = stamps[len(stamps) // 2]
    with Simulator(bundle.path) as sim, httpx.Client(base_url=sim.url) as client:
        items = _all_pages(client, since=since, size=7)
    got = {(i["MaHoSo"], i["NgayCapNhat"]) for i in items}
    assert got == {k for k, s in bundle.stamps.items() if s >= since}


def test_token_is_required(bundle):
    with Simulator(bundle.path, token="sim-token-123") as sim, httpx.Client(base_url=sim.url) as client:
        assert client.get("/dossiers").status_code == 401
        assert client.get("/dossiers", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = client.get("/dossiers", headers={"Authorization": "Bearer sim-token-123"})
        assert ok.status_code == 200


def _statuses(bundle, seed: int) -> list[object]:
    out: list[object] = []
    with Simulator(bundle.path, fail_rate_429=0.2, fail_rate_5xx=0.2, truncate_rate=0.2, drop_rate=0.2,
                   retry_after=0, seed=seed) as sim, httpx.Client(base_url=sim.url) as client:
        for _ in range(30):
            try:
                # a fresh connection each time: what the client observes of a fault on a
                # reused connection depends on timing, the server's decisions do not
                r = client.get("/dossiers", params={"page": 1, "page_size": 5}, headers={"Connection": "close"})
                try:
                    json.loads(r.content)
                    out.append(r.status_code)
                except ValueError:
                    out.append("cut")
            except httpx.TransportError as exc:
                out.append(type(exc).__name__)
        stats = sim.stats.copy()
    assert stats["429"] and stats["truncate"] and stats["drop"] and stats["500"] + stats["503"]
    return out, stats


def test_faults_are_deterministic_with_a_seed(bundle):
    first, first_stats = _statuses(bundle, seed=3)
    again, again_stats = _statuses(bundle, seed=3)
    other, other_stats = _statuses(bundle, seed=4)
    assert first_stats == again_stats
    assert first_stats != other_stats
    assert 429 in first and "cut" in first and "RemoteProtocolError" in first


def test_429_carries_retry_after(bundle):
    with Simulator(bundle.path, fail_rate_429=1.0, retry_after=0) as sim:
        r = httpx.get(sim.url + "/dossiers")
    assert r.status_code == 429 and r.headers["Retry-After"] == "0"


def _naive(client: httpx.Client, size: int) -> set[tuple[str, str]]:
    """Page 1..total_pages as read from page 1, once."""
    first = client.get("/dossiers", params={"page": 1, "page_size": size}).json()
    items = list(first["items"])
    for page in range(2, first["total_pages"] + 1):
        items += client.get("/dossiers", params={"page": page, "page_size": size}).json()["items"]
    return {(i["MaHoSo"], i["NgayCapNhat"]) for i in items}


def _settled(sim: Simulator, attr: str, n: int, seconds: float = 10.0) -> list:
    """The server adds its changes after it has sent a page: wait (bounded) until the
    handler thread has added ``n`` of them, instead of racing it."""
    deadline = time.monotonic() + seconds
    while len(getattr(sim, attr)) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    return getattr(sim, attr)


def test_mid_paging_changes_defeat_a_naive_client(bundle):
    """New snapshots added after page 1 spill past the total_pages a naive client read first."""
    with Simulator(bundle.path, mid_paging_changes=25, seed=1) as sim, httpx.Client(base_url=sim.url) as client:
        naive = _naive(client, size=10)
        assert len(sim.added) == 25 and not sim.added_late
        newest = max(bundle.stamps.values())
        assert all(stamp > newest for _, stamp in sim.added)
        assert bundle.keys <= naive
        assert set(sim.added) - naive  # some were missed
        everything = {(i["MaHoSo"], i["NgayCapNhat"]) for i in _all_pages(client)}
        assert everything == bundle.keys | set(sim.added)


def test_late_changes_land_behind_the_client(bundle):
    """Late writes, added once the last page is served, are older than the newest snapshot."""
    with Simulator(bundle.path, late_changes=3, late_window_s=900, seed=2) as sim, \
            httpx.Client(base_url=sim.url) as client:
        naive = _naive(client, size=10)
        assert len(_settled(sim, "added_late", 3)) == 3 and naive == bundle.keys
        newest = max(bundle.stamps.values())
        assert all(newest > stamp >= shift(newest, -900) for _, stamp in sim.added_late)
        everything = {(i["MaHoSo"], i["NgayCapNhat"]) for i in _all_pages(client)}
        assert everything == bundle.keys | set(sim.added_late)


def shift(stamp: str, seconds: int) -> str:
    import datetime as dt

    t = dt.datetime.strptime(stamp, "%Y%m%d%H%M%S") + dt.timedelta(seconds=seconds)
    return t.strftime("%Y%m%d%H%M%S")


def test_serve_command(bundle, tmp_path):
    result = CliRunner().invoke(__import__("motcua.cli", fromlist=["main"]).main, ["serve", "--help"])
    assert result.exit_code == 0 and "--mid-paging-changes" in result.output
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from motcua.cli import main; main()", "serve", "--source", str(bundle.path),
         "--port", str(port), "--token", "t0k"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/agencies", headers={"Authorization": "Bearer t0k"})
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("motcua serve did not start: " + (proc.stdout.read() if proc.stdout else ""))
                time.sleep(0.05)
        assert r.status_code == 200 and len(r.json()["items"]) == 2
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert f"listening on http://127.0.0.1:{port}" in out
    assert "2 line(s) skipped" in out
