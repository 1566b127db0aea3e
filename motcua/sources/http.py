"""HTTP source: the one-stop system's API (domain.md section 2).

``GET {base}/procedures`` and ``GET {base}/agencies`` return ``{"items": [...]}``;
``GET {base}/dossiers?updated_since=yyyyMMddHHmmss&page=N&page_size=M`` returns
``{"items": [snapshot...], "page": N, "total_pages": T}``, ordered by
``(NgayCapNhat, MaHoSo)``, pages from 1.

Real servers are slow, rate-limit, fail and change while you page. This client:

* sends ``Authorization: Bearer <token>`` (``token`` or the ``MOTCUA_SOURCE_TOKEN``
  environment variable) and never logs or shows the token;
* retries each request with exponential back-off and jitter on 429 (honouring
  ``Retry-After``), 408, 5xx, time-outs, dropped connections and bodies that are not
  the expected JSON (a truncated body: the same page is requested again), at most
  ``max_retries`` times, then raises :class:`HttpSourceError`;
* pages from ``since`` minus ``overlap_seconds``; after the last page it queries
  again from the greatest ``NgayCapNhat`` seen (minus the overlap) until a pass brings
  nothing new, so that changes arriving while paging (pages shifting, new last pages)
  are not missed; records are de-duplicated by ``(MaHoSo, NgayCapNhat)`` within one
  extraction;
* yields one batch per page: ``record`` is the item re-serialised with
  ``json.dumps(item, ensure_ascii=False)``, ``locator`` is ``page N item K`` (with
  ``(pass P)`` from the second pass on).

Limits (:mod:`motcua.sources.limits`; the source is not trusted): a response is read
at most ``max_file_bytes`` (decompressed) and a larger one stops the extraction with
:class:`HttpSourceError` naming the page; an item nested too deeply to parse is passed
on as its text with an ``invalid_json`` error (:mod:`motcua.sources.jsonpage`), and a
page too deep outside its items stops the extraction, naming it; an item over
``max_record_bytes`` is cut with a ``record_too_large`` error; a lone surrogate in an
item is kept as its escape; after ``max_empty_pages`` consecutive empty pages before
the announced ``total_pages`` the pass ends, with a warning (``stats["empty_pages"]``);
in a re-query pass, items older than the ``updated_since`` asked for (a server that
does not filter) are skipped and counted (``stats["outside_window"]``), so such a
server does not make every pass read everything again.

Progress / resuming: :attr:`HttpSource.max_updated` is the greatest ``NgayCapNhat``
(local ``yyyyMMddHHmmss``) of the pages the consumer has taken *and come back from*
(it advances when the next batch is requested, and at the end). Pages arrive in
``NgayCapNhat`` order, so everything older than it has been handed over: storing it as
the watermark after committing the batches, and passing it as the next run's
``since``, resumes without loss (the overlap window also covers late writes). The
optional ``on_progress`` callback is called with each new value.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pandas as pd
import tenacity

from motcua.settings import secret
from motcua.sources.base import (
    AGENCY_COLUMNS,
    PROCEDURE_COLUMNS,
    RawBatch,
    conform_catalogue,
    make_batch,
)
from motcua.sources.jsonpage import PageTooDeep, Unparsed, parse_page
from motcua.sources.limits import Limits
from motcua.sources.stamps import contract_stamp, shift_stamp

log = logging.getLogger(__name__)

TOKEN_ENV = "MOTCUA_SOURCE_TOKEN"
"""Where the bearer token is read (by :func:`motcua.settings.secret`)."""
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class HttpSourceError(RuntimeError):
    """The API could not be read (after retries, or a response that retrying cannot fix)."""


class _Retry(Exception):
    """A response worth retrying: reason and an optional server-requested delay."""

    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class HttpSource:
    """The one-stop system's HTTP API (see the module docstring).

    ``url`` is the API base (``http://host:port/api``); ``page_size`` items per page;
    ``timeout`` seconds per request; ``max_retries`` retries per request;
    ``overlap_seconds`` how far before a watermark to start again;
    ``backoff_base``/``backoff_max`` the exponential back-off (seconds);
    ``max_retry_after`` caps a server's ``Retry-After``; ``max_passes`` caps the
    re-query passes of one extraction; ``on_progress`` gets each new :attr:`max_updated`;
    ``limits`` (default: from the settings) bound responses, items and empty pages.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        page_size: int = 500,
        timeout: float = 30.0,
        max_retries: int = 8,
        overlap_seconds: float = 3600,
        *,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_retry_after: float = 120.0,
        max_passes: int = 50,
        on_progress: Callable[[str], None] | None = None,
        seed: int | None = None,
        limits: Limits | None = None,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.url = url.rstrip("/")
        self._token = token if token is not None else secret("source_token")
        self.page_size = page_size
        self.timeout = timeout
        self.max_retries = max_retries
        self.overlap_seconds = overlap_seconds
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.max_passes = max_passes
        self.on_progress = on_progress
        self.name = "http"
        self.max_updated: str | None = None
        self.limits = limits if limits is not None else Limits.from_env()
        self.stats: dict[str, int] = {"requests": 0, "retries": 0, "passes": 0, "duplicates": 0,
                                      "empty_pages": 0, "unparsed_items": 0, "outside_window": 0}
        self._rng = random.Random(seed)

    def __repr__(self) -> str:
        auth = "with token" if self._token else "no token"
        from motcua.redact import redact_url

        return f"HttpSource({redact_url(self.url)!r}, {auth})"

    # -- transport ----------------------------------------------------------

    def _client(self) -> httpx.Client:
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=self.timeout, follow_redirects=False)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        """Seconds before the next attempt: a server's ``Retry-After`` (capped, with a
        little jitter) or exponential back-off with jitter."""
        retry = state.outcome.exception() if state.outcome else None
        delay = retry.delay if isinstance(retry, _Retry) else None
        if delay is not None:
            return min(delay, self.max_retry_after) + self._rng.random() * min(self.backoff_base, 1.0)
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** (state.attempt_number - 1)))
        return ceiling * (0.5 + 0.5 * self._rng.random())

    def _once(self, client: httpx.Client, path: str, params: dict[str, Any] | None, what: str) -> dict[str, Any]:
        """One attempt; what is worth retrying raised as :class:`_Retry`."""
        self.stats["requests"] += 1
        try:
            return self._attempt(client, path, params, what)
        except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:
            raise HttpSourceError(f"GET {what}: {exc}") from None
        except httpx.TimeoutException as exc:
            raise _Retry(f"time-out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise _Retry(f"connection error ({type(exc).__name__}: {exc})") from None
        except httpx.DecodingError as exc:  # a body its Content-Encoding does not decode
            raise _Retry(f"undecodable body ({exc})") from None

    def _get_json(self, client: httpx.Client, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET ``path`` and return its JSON object (with an ``items`` list), retried by
        tenacity: at most ``max_retries`` more attempts, waits from :meth:`_wait`."""
        what = path + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")

        def before_sleep(state: tenacity.RetryCallState) -> None:
            self.stats["retries"] += 1
            log.warning("GET %s: %s; retry %d/%d in %.2fs", what, state.outcome.exception().reason,
                        state.attempt_number, self.max_retries, state.next_action.sleep)

        def gave_up(state: tenacity.RetryCallState) -> dict[str, Any]:
            raise HttpSourceError(f"GET {what}: gave up after {state.attempt_number} attempts; "
                                  f"last: {state.outcome.exception().reason}")

        retrying = tenacity.Retrying(retry=tenacity.retry_if_exception_type(_Retry),
                                     stop=tenacity.stop_after_attempt(self.max_retries + 1), wait=self._wait,
                                     before_sleep=before_sleep, retry_error_callback=gave_up, sleep=time.sleep)
        return retrying(self._once, client, path, params, what)

    def _attempt(self, client: httpx.Client, path: str, params: dict[str, Any] | None, what: str) -> dict[str, Any]:
        with client.stream("GET", path, params=params) as resp:
            status = resp.status_code
            if status in RETRY_STATUSES or status >= 500:
                delay = _retry_after(resp.headers.get("Retry-After")) if status in (429, 503) else None
                raise _Retry(f"HTTP {status}", delay)
            if status in (401, 403):
                hint = "no token given (set MOTCUA_SOURCE_TOKEN)" if not self._token else "the token was refused"
                raise HttpSourceError(f"GET {path}: HTTP {status} unauthorised: {hint}")
            if status >= 400:
                raise HttpSourceError(f"GET {path}: HTTP {status}: {self._read(resp, what, 200).decode(errors='replace')}")
            body = self._read(resp, what)
        try:
            data = parse_page(body)
        except PageTooDeep as exc:
            raise HttpSourceError(f"GET {what}: {exc}; stopping (a response that retrying cannot fix)") from None
        except ValueError as exc:
            raise _Retry(f"invalid JSON body ({len(body)} bytes; {getattr(exc, 'msg', exc)})") from None
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise _Retry("unexpected JSON body (no 'items' list)")
        return data

    def _read(self, resp: httpx.Response, what: str, at_most: int | None = None) -> bytes:
        """The body (decompressed), at most ``max_file_bytes`` (else HttpSourceError, naming
        the page), or only its first ``at_most`` bytes."""
        cap = self.limits.max_file_bytes
        body = bytearray()
        for chunk in resp.iter_bytes():
            body += chunk
            if at_most is not None and len(body) >= at_most:
                return bytes(body[:at_most])
            if len(body) > cap:
                raise HttpSourceError(f"GET {what}: response over MOTCUA_MAX_FILE_BYTES = {cap} bytes "
                                      "(decompressed); stopping")
        return bytes(body)

    # -- catalogue ----------------------------------------------------------

    def read_procedures(self) -> pd.DataFrame:
        """``GET /procedures`` as the contract's procedure columns (strings)."""
        return self._catalogue("/procedures", PROCEDURE_COLUMNS)

    def read_agencies(self) -> pd.DataFrame:
        """``GET /agencies`` as the contract's agency columns (strings)."""
        return self._catalogue("/agencies", AGENCY_COLUMNS)

    def _catalogue(self, path: str, columns: list[str]) -> pd.DataFrame:
        with self._client() as client:
            items = self._get_json(client, path)["items"]
        if any(isinstance(item, Unparsed) for item in items):
            raise HttpSourceError(f"GET {path}: a catalogue item is nested too deeply to parse")
        rows = [
            {k: (None if v is None else str(v)) for k, v in item.items()} for item in items if isinstance(item, dict)
        ]
        df = pd.DataFrame(rows) if rows else pd.DataFrame(columns=columns)
        return conform_catalogue(df, columns, f"{self.url}{path}")

    # -- records ------------------------------------------------------------

    def _advance(self, stamp: str | None) -> None:
        if stamp is not None and (self.max_updated is None or stamp > self.max_updated):
            self.max_updated = stamp
            if self.on_progress is not None:
                self.on_progress(stamp)

    def iter_records(self, since: str | None = None) -> Iterator[RawBatch]:
        """Snapshots changed since ``since`` (minus the overlap window); all when None."""
        lower: str | None = None
        if since is not None:
            stamp = contract_stamp(since)
            if stamp is None:
                raise ValueError(f"since: not a timestamp: {since!r}")
            lower = shift_stamp(stamp, -self.overlap_seconds)
        seen: dict[tuple[Any, Any], str] = {}  # (MaHoSo, NgayCapNhat) -> stamp
        unstamped: set[bytes] = set()  # items without a readable NgayCapNhat, by their text's hash
        greatest: str | None = None  # greatest NgayCapNhat received (not necessarily handed over)
        with self._client() as client:
            for pass_no in range(1, self.max_passes + 1):
                self.stats["passes"] += 1
                added = 0
                page = 1
                empty_run = 0  # consecutive empty pages
                log.info("%r: pass %d from %s", self, pass_no, lower or "the beginning")
                while True:
                    params: dict[str, Any] = {"page": page, "page_size": self.page_size}
                    if lower is not None:
                        params = {"updated_since": lower, **params}
                    data = self._get_json(client, "/dossiers", params)
                    locs: list[str] = []
                    recs: list[str] = []
                    errs: list[str | None] = []
                    page_max: str | None = None
                    suffix = f" (pass {pass_no})" if pass_no > 1 else ""
                    for k, item in enumerate(data["items"], start=1):
                        if isinstance(item, Unparsed):  # too deep to parse: staging quarantines it
                            text, error = item.text, item.reason
                        else:
                            text = json.dumps(item, ensure_ascii=False)
                            error = None if isinstance(item, dict) else "API item is not a JSON object"
                        raw_stamp = item.get("NgayCapNhat") if error is None else None
                        stamp = contract_stamp(raw_stamp)
                        if stamp is not None and pass_no > 1 and lower is not None and stamp < lower:
                            # older than this pass asked for: a filtering server never sends it,
                            # and the passes before took everything from further back
                            self.stats["outside_window"] += 1
                            continue
                        if stamp is not None:
                            key = (_hashable(item.get("MaHoSo")), _hashable(raw_stamp))
                            if key in seen:
                                self.stats["duplicates"] += 1
                                continue
                            seen[key] = stamp
                            if page_max is None or stamp > page_max:
                                page_max = stamp
                        else:  # no usable NgayCapNhat: the pipeline quarantines it; once only
                            digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
                            if digest in unstamped:
                                self.stats["duplicates"] += 1
                                continue
                            unstamped.add(digest)
                        if isinstance(item, Unparsed):
                            self.stats["unparsed_items"] += 1
                        locs.append(f"page {page} item {k}{suffix}")
                        recs.append(text)
                        errs.append(error)
                    added += len(recs)
                    if page_max is not None and (greatest is None or page_max > greatest):
                        greatest = page_max
                    if recs:
                        yield make_batch(locs, recs, errs, self.limits)
                    # the consumer came back: everything up to this page is handed over
                    self._advance(page_max)
                    total = data.get("total_pages")
                    if not isinstance(total, int) or page >= total:
                        break
                    empty_run = 0 if data["items"] else empty_run + 1
                    self.stats["empty_pages"] += int(empty_run > 0)
                    if empty_run >= self.limits.max_empty_pages:
                        log.warning("%r: pages %d-%d of the %d announced were empty; ending pass %d there "
                                    "(MOTCUA_HTTP_MAX_EMPTY_PAGES = %d; %d empty page(s) so far)", self,
                                    page - empty_run + 1, page, total, pass_no, self.limits.max_empty_pages,
                                    self.stats["empty_pages"])
                        break
                    page += 1
                if added == 0 or greatest is None:
                    break
                lower = shift_stamp(greatest, -self.overlap_seconds)
                # keys older than the next pass's lower bound cannot come back
                seen = {key: s for key, s in seen.items() if s >= lower}
            else:
                log.warning("%r: still receiving changes after %d passes; stopping", self, self.max_passes)
        if self.stats["outside_window"]:
            log.warning("%r: %d item(s) older than the updated_since asked for were skipped in the re-query "
                        "passes (does the server filter by updated_since?)", self, self.stats["outside_window"])
        self._advance(greatest)


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return value
