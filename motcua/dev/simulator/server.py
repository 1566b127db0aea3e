"""A one-stop system simulator: serves an export bundle through the HTTP API.

The API of domain.md section 2, on the standard library's threading HTTP server:

* ``GET /procedures``, ``GET /agencies`` -> ``{"items": [...]}`` (the bundle's CSV rows);
* ``GET /dossiers?updated_since=yyyyMMddHHmmss&page=N&page_size=M`` ->
  ``{"items": [snapshot...], "page": N, "total_pages": T}``: the snapshots with
  ``NgayCapNhat >= updated_since`` (compared as local instants), ordered by
  ``(NgayCapNhat, MaHoSo)``, pages from 1 (``updated_since`` optional: everything;
  ``page_size`` default 100, at most ``max_page_size``);
* ``Authorization: Bearer <token>`` is required when a token is set (401 otherwise).

Items are the bundle's raw lines, served as they are (not re-serialised). Lines that
an API could not serve are **skipped** (and listed in :attr:`Simulator.skipped`): lines
that are not valid JSON or not a JSON object, and snapshots without a readable
``NgayCapNhat`` (it cannot be filtered or ordered). A real API never shows those. The
snapshots served, their pages and the ones added while paging are kept by
:class:`motcua.dev.simulator.snapshots.SnapshotLog`; this module is the HTTP side (the
server, its faults and the request handler).

Faults, all decided by one random generator seeded with ``seed`` (so a client that
makes the same requests meets the same faults), one draw per request after the token
check: ``fail_rate_429`` (429 with ``Retry-After``), ``fail_rate_5xx`` (500 or 503),
``drop_rate`` (the connection is closed without a response), ``truncate_rate`` (the
body is cut off mid-JSON: half the time with a ``Content-Length`` matching the cut
body -- a 200 with invalid JSON --, half the time with the full length and the
connection closed early), ``stall_rate`` (the response waits ``stall_ms``, to make
clients time out); ``latency_ms`` delays every response.

``mid_paging_changes`` = K: after the first ``/dossiers`` page is served, K new
snapshots are added, each a copy of an existing dossier's newest snapshot with
``NgayCapNhat`` = now (local time), or one second past the newest snapshot when that
is later, so newer than anything. They land after the client's position: a client
that trusts the first ``total_pages`` (or stops after one pass) misses those that
spill past it. ``late_changes`` = L: when the last page of a listing is first served,
L snapshots are added with ``NgayCapNhat`` up to ``late_window_s`` seconds *older* than
the newest one (late writes, as replication lag or long transactions produce): they
land behind the client and shift the following pages, so only a client that queries
again from its watermark minus an overlap window finds them. All additions are listed
in :attr:`Simulator.added` (the late ones also in :attr:`Simulator.added_late`).

Use from tests as a context manager (a free port, a background thread)::

    with Simulator(bundle_path, fail_rate_429=0.1, seed=1) as sim:
        HttpSource(sim.url).iter_records()

or from the command line: ``motcua serve --source BUNDLE --port 8080``.
"""

from __future__ import annotations

import collections
import datetime as dt
import hmac
import json
import logging
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from motcua.dev.simulator.snapshots import SnapshotLog
from motcua.sources.stamps import LOCAL_TZ, STAMP_FORMAT, contract_stamp, shift_stamp

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 100


class Simulator:
    """Serve an export bundle through the one-stop HTTP API, with faults on demand."""

    def __init__(
        self,
        bundle: Path | str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        latency_ms: float = 0,
        fail_rate_429: float = 0.0,
        fail_rate_5xx: float = 0.0,
        truncate_rate: float = 0.0,
        drop_rate: float = 0.0,
        stall_rate: float = 0.0,
        stall_ms: float = 5000,
        mid_paging_changes: int = 0,
        late_changes: int = 0,
        late_window_s: int = 600,
        retry_after: int = 1,
        seed: int | None = 0,
        max_page_size: int = 1000,
    ) -> None:
        rates = [fail_rate_429, fail_rate_5xx, truncate_rate, drop_rate, stall_rate]
        if any(r < 0 for r in rates) or sum(rates) > 1:
            raise ValueError("fault rates must be >= 0 and add up to at most 1")
        self.bundle = Path(bundle)
        self.host = host
        self.requested_port = port
        self.token = token
        self.latency_ms = latency_ms
        self.fail_rate_429 = fail_rate_429
        self.fail_rate_5xx = fail_rate_5xx
        self.truncate_rate = truncate_rate
        self.drop_rate = drop_rate
        self.stall_rate = stall_rate
        self.stall_ms = stall_ms
        self.mid_paging_changes = mid_paging_changes
        self.late_changes = late_changes
        self.late_window_s = late_window_s
        self.retry_after = retry_after
        self.max_page_size = max_page_size
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._changes_done = False
        self._late_done = False
        #: fault or outcome -> count ("ok", "429", "500", "503", "drop", "truncate", "stall", "401", ...)
        self.stats: collections.Counter[str] = collections.Counter()
        self._log = SnapshotLog(self.bundle)
        #: (locator, reason) of bundle lines that cannot be served
        self.skipped: list[tuple[str, str]] = self._log.skipped
        #: (MaHoSo, NgayCapNhat) of the snapshots added while paging
        self.added: list[tuple[Any, str]] = self._log.added
        #: the late ones among :attr:`added`
        self.added_late: list[tuple[Any, str]] = self._log.added_late
        #: the bundle's procedures.csv and agencies.csv rows
        self.procedures: list[dict[str, Any]] = self._log.procedures
        self.agencies: list[dict[str, Any]] = self._log.agencies

    # -- data ---------------------------------------------------------------

    @property
    def snapshots(self) -> list[tuple[str, str]]:
        """(MaHoSo, NgayCapNhat as served) of every servable snapshot, in serving order."""
        with self._lock:
            return self._log.served()

    def _after_page(self, page: int, total_pages: int) -> None:
        """Mid-paging changes, once each: new ones after a first page, late ones after a last page."""
        with self._lock:
            newest = self._log.newest_stamp()
            if self.mid_paging_changes and not self._changes_done:
                self._changes_done = True
                now = dt.datetime.now(LOCAL_TZ).strftime(STAMP_FORMAT)
                start = now if newest is None or now > newest else shift_stamp(newest, 1)
                self._log.add([shift_stamp(start, i) for i in range(self.mid_paging_changes)], late=False,
                              rng=self._rng)
            elif self.late_changes and not self._late_done and page >= total_pages and newest is not None:
                self._late_done = True
                offsets = sorted(self._rng.randint(1, self.late_window_s) for _ in range(self.late_changes))
                self._log.add([shift_stamp(newest, -o) for o in offsets], late=True, rng=self._rng)

    def _dossier_page(self, since: str | None, page: int, size: int) -> tuple[bytes, int]:
        with self._lock:
            return self._log.page(since, page, size)

    def _count(self, what: str) -> None:
        with self._lock:
            self.stats[what] += 1

    # -- faults -------------------------------------------------------------

    def _draw_fault(self) -> tuple[str | None, float, float]:
        """(fault, cut fraction, extra draw) for one request, from the seeded generator."""
        with self._lock:
            r = self._rng.random()
            cut = self._rng.random()
            extra = self._rng.random()
        for name, rate in (
            ("429", self.fail_rate_429),
            ("5xx", self.fail_rate_5xx),
            ("truncate", self.truncate_rate),
            ("drop", self.drop_rate),
            ("stall", self.stall_rate),
        ):
            if r < rate:
                return name, cut, extra
            r -= rate
        return None, cut, extra

    # -- server -------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port listened on (after :meth:`start`)."""
        if self._server is None:
            raise RuntimeError("simulator not started")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """Base URL of the API (after :meth:`start`)."""
        return f"http://{self.host}:{self.port}"

    def _make_server(self) -> ThreadingHTTPServer:
        handler = type("Handler", (_Handler,), {"sim": self})
        server = ThreadingHTTPServer((self.host, self.requested_port), handler)
        server.daemon_threads = True
        return server

    def start(self) -> Simulator:
        """Listen and serve in a background thread."""
        if self._server is not None:
            return self
        self._stop.clear()
        self._server = self._make_server()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="motcua-simulator", daemon=True
        )
        self._thread.start()
        log.info("simulator serving %s on %s", self.bundle, self.url)
        return self

    def serve_forever(self) -> None:
        """Listen and serve in this thread until interrupted."""
        self._stop.clear()
        self._server = self._make_server()
        try:
            self._server.serve_forever()
        finally:
            self._stop.set()
            self._server.server_close()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    sim: Simulator
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stalls
    server_version = "motcua-simulator/1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("simulator: %s - %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps({"error": message}).encode(), headers)

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        sim = self.sim
        try:
            self._handle(sim)
        except (BrokenPipeError, ConnectionResetError):
            sim._count("client gone")
            self.close_connection = True

    def _handle(self, sim: Simulator) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        route = parts.path.rstrip("/")
        if sim.token is not None:
            given = self.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {sim.token}".encode()):
                sim._count("401")
                self._error(401, "unauthorised", {"WWW-Authenticate": "Bearer"})
                return
        if sim.latency_ms:
            sim._stop.wait(sim.latency_ms / 1000)
        fault, cut, extra = sim._draw_fault()
        if fault == "429":
            sim._count("429")
            self._error(429, "too many requests", {"Retry-After": str(sim.retry_after)})
            return
        if fault == "5xx":
            status = 500 if extra < 0.5 else 503
            sim._count(str(status))
            self._error(status, "server error")
            return
        if fault == "drop":
            sim._count("drop")
            self.close_connection = True
            return
        if fault == "stall":
            sim._count("stall")
            sim._stop.wait(sim.stall_ms / 1000)

        if route == "/procedures":
            body = json.dumps({"items": sim.procedures}, ensure_ascii=False).encode()
        elif route == "/agencies":
            body = json.dumps({"items": sim.agencies}, ensure_ascii=False).encode()
        elif route == "/dossiers":
            try:
                page = int(query.get("page", "1"))
                size = min(int(query.get("page_size", str(DEFAULT_PAGE_SIZE))), sim.max_page_size)
            except ValueError:
                self._error(400, "page and page_size must be integers")
                return
            since_raw = query.get("updated_since")
            since = contract_stamp(since_raw) if since_raw else None
            if page < 1 or size < 1 or (since_raw and since is None):
                self._error(400, "bad page, page_size or updated_since (yyyyMMddHHmmss)")
                return
            body, total_pages = sim._dossier_page(since, page, size)
        else:
            self._error(404, f"no route {route!r}")
            return

        if fault == "truncate":
            sim._count("truncate")
            cut_at = max(1, min(len(body) - 1, int(len(body) * cut)))
            short = body[:cut_at]
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            declared = len(short) if extra < 0.5 else len(body)
            self.send_header("Content-Length", str(declared))
            self.end_headers()
            self.wfile.write(short)
            self.wfile.flush()
            self.close_connection = True
            return
        self._send(200, body)
        sim._count("ok")
        if route == "/dossiers" and (sim.mid_paging_changes or sim.late_changes):
            sim._after_page(page, total_pages)
