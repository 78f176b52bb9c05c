"""The ThreatFox client: every network call foxhunt makes lives here (httpx, async).

Usable from a Textual async worker (`await client.malwareinfo("win.pure_rat")`) and from the CLI
through `asyncio.run`. Answers are parsed by `tui.sources.files`, the same code that reads saved
files, so an API answer and the same answer saved to disk give the same Dataset.

Retries use httpx-retries' `RetryTransport` (status codes, Retry-After, exponential backoff with
jitter); httpx's own `retries=` covers only connection failures.

The Auth-Key travels only in the `Auth-Key` header. No message this module produces contains it:
messages are built from our own words and the server's status, and are scrubbed once more before
they leave (`_scrub`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, TextIO
from urllib.parse import urlsplit

import httpx
from httpx_retries import Retry, RetryTransport

from .. import __version__
from ..core.config import DEFAULT_API_URL, ThreatFoxSettings
from ..core.dataset import DatasetBuilder
from ..core.kql import comment_text
from ..core.model import Dataset
from .files import SourceError, read_bytes

AUTH_HELP = ("get a free Auth-Key at https://auth.abuse.ch/ and set THREATFOX_AUTH_KEY "
             "(or auth_key under [threatfox] in the config file)")
ENV_API_URL = "THREATFOX_API_URL"
ENV_AUTH_KEY = "THREATFOX_AUTH_KEY"
ENV_EXPORT_URL = "THREATFOX_EXPORT_URL"
#: Base of the exponential backoff in seconds (tests shrink it; slow links may raise it).
ENV_BACKOFF = "FOXHUNT_RETRY_BACKOFF"

MAX_ATTEMPTS = 3  # first try + 2 retries
DEFAULT_BACKOFF = 0.5  # seconds; waits are ~1 s then ~2 s, each with full jitter
MAX_WAIT = 60.0  # cap on one wait, Retry-After included
MAX_TOTAL_WAIT = 120.0  # cap on all waits of one request
RETRY_STATUSES = (429, 500, 502, 503, 504)
# Failures where the request surely did not reach ThreatFox's application, or the connection
# died before an answer: safe to repeat. A read timeout is not retried: the user chose the
# timeout, and three of them would triple the wait.
RETRY_EXCEPTIONS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError,
                    httpx.ReadError, httpx.WriteError)
MAX_API_BYTES = 256 * 1024 * 1024
MAX_EXPORT_BYTES = 1024 * 1024 * 1024

AUTH_STATUSES = frozenset({"unknown_auth_key", "no_api_key", "unauthorized", "auth_key_required",
                           "user_blacklisted"})

Progress = Callable[[int, int | None], None]
"""Called with (bytes received, total bytes or None when the server does not say)."""


class ThreatFoxError(Exception):
    """Any failure talking to ThreatFox; the message is one sentence saying what to do."""


class ThreatFoxAuthError(ThreatFoxError):
    """No key, or ThreatFox refused it (HTTP 401/403 or an auth query_status)."""


class ThreatFoxQueryError(ThreatFoxError):
    """ThreatFox understood the request and rejected it (`illegal_*` and similar statuses)."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


class ThreatFoxNetworkError(ThreatFoxError):
    """No usable answer: connection failure, timeout, HTTP error after the retries."""


class ThreatFoxResponseError(ThreatFoxError):
    """An answer arrived but cannot be used: malformed JSON, cut off, unexpected shape."""


# -- settings --------------------------------------------------------------------------------


def resolve_settings(base: ThreatFoxSettings, *, api_url: str | None = None,
                     timeout: float | None = None,
                     environ: Mapping[str, str] | None = None) -> ThreatFoxSettings:
    """Apply the precedence: CLI > environment > config file > default."""
    env = os.environ if environ is None else environ
    return ThreatFoxSettings(
        api_url=api_url or env.get(ENV_API_URL, "").strip() or base.api_url or DEFAULT_API_URL,
        auth_key=env.get(ENV_AUTH_KEY, "").strip() or base.auth_key.strip(),
        timeout=timeout if timeout is not None else base.timeout,
    )


def check_url(url: str, what: str) -> str:
    """`url` if it is an absolute http(s) URL, else a ThreatFoxError naming `what`."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ThreatFoxError(f"{what} {comment_text(url)!r} is not an http:// or https:// URL")
    return url


def export_base_for(api_url: str) -> str:
    """Where the bulk exports live for an API URL: abuse.ch serves the API on
    threatfox-api.abuse.ch and the exports on threatfox.abuse.ch; any other server (a mirror,
    a test server) is expected to serve `/export/...` from its own root."""
    parts = urlsplit(api_url)
    if parts.hostname == "threatfox-api.abuse.ch":
        return "https://threatfox.abuse.ch/"
    return f"{parts.scheme}://{parts.netloc}/"


def _backoff_from_env(environ: Mapping[str, str]) -> float:
    text = environ.get(ENV_BACKOFF, "").strip()
    try:
        value = float(text) if text else DEFAULT_BACKOFF
    except ValueError:
        return DEFAULT_BACKOFF
    return value if 0 <= value <= MAX_WAIT else DEFAULT_BACKOFF


def _valid_key(key: str) -> bool:
    return bool(key) and key.isascii() and key.isprintable() and " " not in key


@dataclass(frozen=True, slots=True)
class _Answer:
    body: bytes
    status: int
    reason: str
    location: str = ""


class ThreatFoxClient:
    """Async ThreatFox client. Use `async with ThreatFoxClient(settings) as tf:`, or call
    `aclose()` when done. Each query returns a Dataset (empty for `no_result`)."""

    def __init__(
        self,
        settings: ThreatFoxSettings | None = None,
        *,
        export_url: str | None = None,
        backoff: float | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        environ: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self.settings = settings or resolve_settings(ThreatFoxSettings(), environ=env)
        self.api_url = check_url(self.settings.api_url, "the ThreatFox API URL")
        export = export_url or env.get(ENV_EXPORT_URL, "").strip()
        self.export_url = (check_url(export, "the ThreatFox export URL") if export
                           else export_base_for(self.api_url))
        self._key = self.settings.auth_key.strip()
        retry = Retry(
            total=max(0, max_attempts - 1),
            allowed_methods=["GET", "POST"],  # ThreatFox queries are read-only POSTs
            status_forcelist=RETRY_STATUSES,
            retry_on_exceptions=RETRY_EXCEPTIONS,
            backoff_factor=_backoff_from_env(env) if backoff is None else backoff,
            backoff_jitter=1.0,
            respect_retry_after_header=True,
            max_backoff_wait=MAX_WAIT,
            total_timeout=MAX_TOTAL_WAIT,
        )
        self._attempts = max(1, max_attempts)
        inner = transport or httpx.AsyncHTTPTransport()
        self._http = httpx.AsyncClient(
            transport=RetryTransport(transport=inner, retry=retry),
            timeout=httpx.Timeout(self.settings.timeout),
            headers={"User-Agent": f"foxhunt/{__version__}", "Accept": "*/*"},
            follow_redirects=False,  # a redirect could carry the Auth-Key header elsewhere
        )

    async def __aenter__(self) -> ThreatFoxClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def has_key(self) -> bool:
        return bool(self._key)

    # -- queries ---------------------------------------------------------------------------

    async def malware_list(self, progress: Progress | None = None) -> Dataset:
        """Every family ThreatFox knows (families only, no IOCs)."""
        return await self._query({"query": "malware_list"}, "malware_list", progress)

    async def malwareinfo(self, malware: str, limit: int = 1000,
                          progress: Progress | None = None) -> Dataset:
        """The newest `limit` (1-1000) IOCs of one family; `malware` is best a Malpedia id."""
        _check_range("limit", limit, 1, 1000)
        return await self._query({"query": "malwareinfo", "malware": malware, "limit": limit},
                                 f"malwareinfo {malware}", progress, subject=malware)

    async def get_iocs(self, days: int = 1, progress: Progress | None = None) -> Dataset:
        """IOCs first seen in the last `days` (1-7) days."""
        _check_range("days", days, 1, 7)
        return await self._query({"query": "get_iocs", "days": days}, f"get_iocs {days}d",
                                 progress)

    async def search_ioc(self, term: str, exact_match: bool = True,
                         progress: Progress | None = None) -> Dataset:
        """IOCs matching `term`; without `exact_match` ThreatFox matches substrings."""
        return await self._query(
            {"query": "search_ioc", "search_term": term, "exact_match": exact_match},
            f"search_ioc {term}", progress, subject=term)

    async def taginfo(self, tag: str, limit: int = 100,
                      progress: Progress | None = None) -> Dataset:
        _check_range("limit", limit, 1, 1000)
        return await self._query({"query": "taginfo", "tag": tag, "limit": limit},
                                 f"taginfo {tag}", progress, subject=tag)

    async def ioc(self, ioc_id: int, progress: Progress | None = None) -> Dataset:
        """One IOC by ThreatFox id (ThreatFox answers with a bare object; both shapes work)."""
        return await self._query({"query": "ioc", "id": int(ioc_id)}, f"ioc {ioc_id}",
                                 progress, subject=str(ioc_id))

    async def resolve_family(self, name: str) -> str | None:
        """The Malpedia id ThreatFox uses for `name` (id, printable name or alias), or None."""
        families = await self.malware_list()
        found = families.find_family(name)
        return found.key if found else None

    async def export_csv(self, which: Literal["recent", "full"],
                         progress: Progress | None = None) -> Dataset:
        """The bulk CSV export: `recent` is plain CSV, `full` a ZIP holding full.csv."""
        if which not in ("recent", "full"):
            raise ValueError(f"unknown export {which!r}")
        url = f"{self.export_url.rstrip('/')}/export/csv/{which}/"
        label = f"ThreatFox export csv/{which}"
        # The exports have been seen to work without a key; send it when there is one.
        answer = await self._send("GET", url, label, None, progress, MAX_EXPORT_BYTES)
        self._check_redirect(answer, label, ENV_EXPORT_URL)
        if answer.status in (401, 403):
            raise self._auth_error(f"HTTP {answer.status}", label)
        if answer.status >= 400:
            raise self._http_error(answer, label)
        body = answer.body
        if not (body[:4] == b"PK\x03\x04" or b"first_seen_utc" in body[:4096]):
            raise ThreatFoxResponseError(self._scrub(
                f"the {label} download from {url} is not a ThreatFox CSV export "
                f"(got {len(body):,} bytes that look like something else)"))
        return self._parse(body, label)

    # -- plumbing --------------------------------------------------------------------------

    async def _query(self, payload: dict[str, object], label: str,
                     progress: Progress | None, subject: str = "") -> Dataset:
        if not self._key:
            raise ThreatFoxAuthError(f"no ThreatFox Auth-Key is set; {AUTH_HELP}")
        if not _valid_key(self._key):
            raise ThreatFoxAuthError(
                "the ThreatFox Auth-Key contains spaces or characters a key never has; "
                f"check it, or {AUTH_HELP}")
        query = str(payload["query"])
        label = f"ThreatFox {label}"
        answer = await self._send("POST", self.api_url, query, payload, progress,
                                  MAX_API_BYTES)
        self._check_redirect(answer, query, "--api-url")
        doc = self._decode(answer, query)
        if answer.status in (401, 403):
            status = doc.get("query_status") if isinstance(doc, dict) else None
            raise self._auth_error(str(status) if isinstance(status, str) and status
                                   else f"HTTP {answer.status}", query)
        if isinstance(doc, dict) and "query_status" in doc:
            status = str(doc.get("query_status"))[:80]
            if status in AUTH_STATUSES:
                raise self._auth_error(status, query)
            if status not in ("ok", "no_result"):
                raise self._query_error(status, doc.get("data"), query, subject)
            if answer.status >= 400:
                raise self._http_error(answer, query)
            if status == "no_result":  # nothing found (or expired after 6 months)
                return Dataset(sources=[label])
            return self._parse(answer.body, label)
        if answer.status >= 400:
            raise self._http_error(answer, query)
        if isinstance(doc, dict) and "ioc" in doc and "ioc_type" in doc:  # bare `ioc` answer
            return self._parse(answer.body, label)
        raise ThreatFoxResponseError(
            f"ThreatFox's answer to {query} has an unexpected shape (no query_status); "
            "check --api-url points at the ThreatFox API")

    async def _send(self, method: str, url: str, what: str, payload: dict[str, object] | None,
                    progress: Progress | None, limit: int) -> _Answer:
        headers = {"Auth-Key": self._key} if self._key and _valid_key(self._key) else {}
        host = urlsplit(url).netloc
        try:
            async with self._http.stream(method, url, json=payload, headers=headers) as resp:
                total = _content_length(resp)
                chunks: list[bytes] = []
                size = 0
                if progress:
                    progress(0, total)
                # aiter_bytes undoes gzip/deflate; num_bytes_downloaded counts wire bytes,
                # which is what Content-Length measures.
                async for chunk in resp.aiter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > limit:
                        raise ThreatFoxResponseError(
                            f"ThreatFox's answer to {what} is larger than {limit // 2**20} MiB; "
                            "stopped reading it")
                    if progress:
                        progress(resp.num_bytes_downloaded, total)
                return _Answer(b"".join(chunks), resp.status_code, resp.reason_phrase,
                               resp.headers.get("location", ""))
        except httpx.TimeoutException as exc:
            phase = {httpx.ConnectTimeout: "connecting", httpx.ReadTimeout: "waiting for data",
                     httpx.WriteTimeout: "sending", httpx.PoolTimeout: "waiting for a "
                     "connection"}.get(type(exc), "waiting")
            tries = f" after {self._attempts} tries" if isinstance(exc, httpx.ConnectTimeout) \
                and self._attempts > 1 else ""
            raise ThreatFoxNetworkError(self._scrub(
                f"ThreatFox ({host}) timed out {phase} for {what} "
                f"(limit {self.settings.timeout:g} s){tries}; try again later or raise "
                "--timeout")) from None
        except httpx.RemoteProtocolError as exc:
            raise ThreatFoxResponseError(self._scrub(
                f"ThreatFox's answer to {what} was cut off ({host} closed the connection "
                f"mid-answer: {_short(exc)}); try again")) from None
        except (httpx.ConnectError, httpx.NetworkError) as exc:
            raise ThreatFoxNetworkError(self._scrub(
                f"cannot reach ThreatFox at {host} for {what} ({_short(exc)}) after "
                f"{self._attempts} tries; check the network connection or --api-url")) from None
        except httpx.HTTPError as exc:
            raise ThreatFoxNetworkError(self._scrub(
                f"the request to ThreatFox ({host}) for {what} failed ({_short(exc)})")) \
                from None

    def _decode(self, answer: _Answer, query: str) -> object:
        text = answer.body
        if not text.strip():
            if answer.status >= 400:
                raise self._http_error(answer, query) if answer.status not in (401, 403) \
                    else self._auth_error(f"HTTP {answer.status}", query)
            raise ThreatFoxResponseError(f"ThreatFox sent an empty answer to {query}; "
                                         "try again later")
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            if answer.status in (401, 403):
                raise self._auth_error(f"HTTP {answer.status}", query) from None
            if answer.status >= 400:
                raise self._http_error(answer, query) from None
            cut = isinstance(exc, json.JSONDecodeError) and exc.pos >= len(exc.doc.rstrip()) - 1
            why = ("it is cut off (truncated JSON)" if cut else
                   f"it is not valid JSON ({_short(exc)})")
            raise ThreatFoxResponseError(
                f"ThreatFox's answer to {query} cannot be read: {why}; try again later") \
                from None

    def _parse(self, body: bytes, label: str) -> Dataset:
        builder = DatasetBuilder()
        try:
            read_bytes(body, label, builder)
        except SourceError as exc:
            raise ThreatFoxResponseError(self._scrub(f"cannot read ThreatFox's answer: {exc}")) \
                from None
        except RecursionError:
            raise ThreatFoxResponseError(f"cannot read ThreatFox's answer to {label}: "
                                         "nested too deeply") from None
        return builder.build()

    def _check_redirect(self, answer: _Answer, what: str, setting: str) -> None:
        """Redirects are not followed (the Auth-Key header would travel with them); say where
        the server points instead."""
        if 300 <= answer.status < 400:
            target = comment_text(answer.location[:200]) or "somewhere unnamed"
            raise ThreatFoxNetworkError(self._scrub(
                f"ThreatFox answered {what} with a redirect (HTTP {answer.status}) to "
                f"{target}; if that address is right, set it with {setting}"))

    def _auth_error(self, status: str, query: str) -> ThreatFoxAuthError:
        if status == "user_blacklisted":
            text = ("ThreatFox has blocked the account of this Auth-Key (user_blacklisted); "
                    "contact abuse.ch, or use another account's key")
        elif status == "HTTP 401" or status == "HTTP 403":
            text = (f"ThreatFox refused access to {query} ({status}): the Auth-Key is "
                    f"missing or not accepted; {AUTH_HELP}")
        else:
            text = (f"ThreatFox did not accept the Auth-Key ({comment_text(status)}); "
                    f"{AUTH_HELP}")
        return ThreatFoxAuthError(self._scrub(text))

    def _query_error(self, status: str, data: object, query: str,
                     subject: str) -> ThreatFoxQueryError:
        shown = comment_text(subject[:100])
        detail = comment_text(data[:200]) if isinstance(data, str) and data.strip() else ""
        known = {
            "illegal_malware": f"ThreatFox does not know the malware family {shown!r}; use its "
                               "Malpedia id (e.g. win.pure_rat) or 'foxhunt families'",
            "illegal_search_term": f"ThreatFox rejected the search term {shown!r}",
            "illegal_tag": f"ThreatFox does not know the tag {shown!r}",
            "illegal_days": "ThreatFox accepts 1 to 7 days",
            "illegal_hash": f"ThreatFox rejected the hash {shown!r}",
            "illegl_hash": f"ThreatFox rejected the hash {shown!r}",
            "illegal_ioc_id": f"{shown!r} is not a valid ThreatFox IOC id",
            "unknown_ioc_id": f"ThreatFox has no IOC with id {shown!r}",
        }
        text = known.get(status) or f"ThreatFox rejected the {query} query"
        text += f" ({comment_text(status)}" + (f": {detail}" if detail else "") + ")"
        return ThreatFoxQueryError(self._scrub(text), status)

    def _http_error(self, answer: _Answer, what: str) -> ThreatFoxNetworkError:
        reason = comment_text(answer.reason[:60]) if answer.reason else ""
        code = f"HTTP {answer.status}" + (f" {reason}" if reason else "")
        if answer.status in RETRY_STATUSES and self._attempts > 1:
            advice = (" (rate limited)" if answer.status == 429 else "") + \
                f" {self._attempts} times; try again later"
        else:
            advice = "; check --api-url" if answer.status in (404, 405) else "; try again later"
        return ThreatFoxNetworkError(self._scrub(f"ThreatFox answered {what} with {code}{advice}"))

    def _scrub(self, text: str) -> str:
        if self._key and len(self._key) >= 4:
            text = text.replace(self._key, "[Auth-Key]")
        return text


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, not {value!r}")


def _content_length(resp: httpx.Response) -> int | None:
    try:
        value = int(resp.headers.get("content-length", ""))
    except ValueError:
        return None
    return value if value >= 0 else None


def _short(exc: BaseException) -> str:
    text = comment_text(str(exc).strip()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


class ProgressPrinter:
    """A one-line progress bar on a terminal stream, redrawn at most ten times a second."""

    def __init__(self, stream: TextIO, label: str, width: int = 30) -> None:
        self.stream = stream
        self.label = label
        self.width = width
        self._last = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        final = total is not None and done >= total
        if not final and now - self._last < 0.1:
            return
        self._last = now
        if total:
            filled = min(self.width, self.width * done // max(total, 1))
            bar = "#" * filled + "." * (self.width - filled)
            text = f"{self.label} [{bar}] {100 * done // max(total, 1):3d}% {_size(done)}"
        else:
            text = f"{self.label} {_size(done)}"
        self.stream.write("\r" + text + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False


def _size(count: int) -> str:
    if count < 1024 * 1024:
        return f"{count / 1024:,.1f} KiB"
    return f"{count / 2**20:,.1f} MiB"
