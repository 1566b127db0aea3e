"""A real HTTP server on 127.0.0.1 that serves the one-stop API's routes with whatever
bodies a test gives it -- pages a real server should never send (too deep, endless,
huge, compressed beyond reason), to feed them through :class:`HttpSource`."""

from __future__ import annotations

import collections
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

#: page number -> (body, extra headers)
PageFn = Callable[[int], tuple[bytes, dict[str, str]]]


def page_body(items: list[str], page: int, total_pages: int, extra: str = "") -> bytes:
    """A ``/dossiers`` page from the items' raw JSON texts (served as they are)."""
    return ('{"items": [' + ",".join(items) + f'], "page": {page}, "total_pages": {total_pages}{extra}}}').encode()


class HostileApi:
    """``/procedures`` and ``/agencies`` as ``{"items": [...]}``; ``/dossiers?page=N`` is
    ``dossier_page(N)``. :attr:`requests` counts the requests by route."""

    def __init__(self, dossier_page: PageFn, procedures: list[dict[str, Any]], agencies: list[dict[str, Any]]):
        self.dossier_page = dossier_page
        self.catalogue = {"/procedures": procedures, "/agencies": agencies}
        self.requests: collections.Counter[str] = collections.Counter()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> HostileApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                pass

            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                parts = urlsplit(self.path)
                route = parts.path.rstrip("/")
                api.requests[route] += 1
                headers: dict[str, str] = {}
                if route in api.catalogue:
                    body = json.dumps({"items": api.catalogue[route]}, ensure_ascii=False).encode()
                elif route == "/dossiers":
                    page = int(parse_qs(parts.query).get("page", ["1"])[-1])
                    body, headers = api.dossier_page(page)
                else:
                    body = b'{"error": "no route"}'
                    self.send_response(404)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
