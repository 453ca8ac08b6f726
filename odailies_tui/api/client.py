"""Async client for the o/DAILIES v2 contract over one ``httpx.AsyncClient``.

Every path segment (the token included) is percent-encoded as one segment. Errors become the
typed exceptions of :mod:`odailies_tui.api.errors`, raised outside any ``except`` block so that
neither the exception chain nor a frame's locals hold a raw URL.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from odailies_tui import __version__
from odailies_tui.api.errors import (
    ApiError,
    ApiTimeout,
    BadRequest,
    NetworkError,
    PermissionDenied,
    ProtocolError,
    error_for_status,
)
from odailies_tui.api.logs import quiet_http_loggers
from odailies_tui.api.models import Clip, Job, JobsPage, PatchResult, UploadTicket, parse_time
from odailies_tui.api.redact import Secret, redact
from odailies_tui.api.validate import check_clip_patch, check_job_patch

log = logging.getLogger("odailies_tui.api")

DEFAULT_BASE_URL = "https://odailies.com/api/v2"
USER_AGENT = f"odailies-tui/{__version__}"


def default_timeout() -> httpx.Timeout:
    """Timeouts for metadata calls: quick to connect, patient enough to read a big clip list."""
    return httpx.Timeout(connect=5.0, read=30.0, write=15.0, pool=5.0)


def segment(value: str) -> str:
    """Percent-encode ``value`` as exactly one path segment (``/``, ``%``, ``#``… included)."""
    return quote(str(value), safe="")


def format_since(when: datetime) -> str:
    """ISO 8601 with a zone for ``since`` (a naive time is taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")


class ODailiesClient:
    """The whole v2 contract for one project and token."""

    def __init__(
        self,
        base_url: str,
        project_id: str,
        token: str | Secret,
        *,
        timeout: httpx.Timeout | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        retries: int = 1,
    ) -> None:
        quiet_http_loggers()
        self.base_url = base_url.rstrip("/")
        self.project_id = project_id
        self._token = Secret(token)
        self._timeout = timeout or default_timeout()
        self._transport = transport
        self._retries = retries
        self._http = self._new_http()
        #: bytes of the last answer body (for benchmarks and the status line)
        self.last_nbytes = 0

    def __repr__(self) -> str:
        return f"ODailiesClient({self.base_url!r}, project={self.project_id!r}, token=***)"

    @property
    def token(self) -> Secret:
        """The token, wrapped: its repr is ``***``."""
        return self._token

    def _new_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=self._timeout,
            transport=self._transport,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=2),
            follow_redirects=False,
            trust_env=not _is_loopback(self.base_url),  # no proxy between us and loopback
        )

    async def reset_pool(self) -> None:
        """Drop every pooled connection and start afresh (after repeated network failures)."""
        old, self._http = self._http, self._new_http()
        await old.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> ODailiesClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- plumbing ---------------------------------------------------------------------------

    def _url(self, resource: str, *middle: str, tail: str = "", query: str = "") -> str:
        parts = [resource, segment(self.project_id), *(segment(m) for m in middle),
                 segment(self._token.reveal())]
        url = self.base_url + "/" + "/".join(parts)
        if tail:
            url += "/" + tail
        if query:
            url += "?" + query
        return url

    async def _request(
        self,
        method: str,
        resource: str,
        *middle: str,
        tail: str = "",
        query: str = "",
        body: Any = None,
    ) -> tuple[Any, httpx.Response]:
        """Send one request; return (decoded JSON, response) or raise a redacted ApiError."""
        content = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"} if content is not None else None
        error: ApiError | None = None
        response: httpx.Response | None = None
        for attempt in range(self._retries + 1):
            error = None
            try:
                response = await self._http.request(
                    method, self._url(resource, *middle, tail=tail, query=query),
                    content=content, headers=headers,
                )
            except httpx.TimeoutException as exc:
                error = ApiTimeout(f"no answer in time ({type(exc).__name__})")
            except (httpx.TransportError, OSError) as exc:
                error = NetworkError(_describe_transport(exc))
            if error is None or isinstance(error, ApiTimeout) or attempt == self._retries:
                break
            await asyncio.sleep(0.1 + random.random() * 0.3)
        if error is not None:
            log.debug("%s %s failed: %s", method, resource, error)
            raise error
        assert response is not None
        self.last_nbytes = len(response.content)
        log.debug("%s %s -> %s (%d bytes)", method, resource, response.status_code,
                  self.last_nbytes)
        payload, problem = _decode(response)
        if response.status_code != 200:
            message = _error_message(payload) or response.reason_phrase
            error = error_for_status(response.status_code, message)
        elif problem:
            error = ProtocolError(problem)
        if error is not None:
            raise error
        return payload, response

    # -- clips ------------------------------------------------------------------------------

    async def list_clips(self) -> list[Clip]:
        """Every clip of the project, sorted by name."""
        payload, _ = await self._request("GET", "clips")
        items = _data_list(payload)
        if len(items) > 2000:  # keep the UI responsive while a big list is parsed
            return await asyncio.to_thread(lambda: [Clip.from_api(item) for item in items])
        return [Clip.from_api(item) for item in items]

    async def get_clip(self, name: str) -> Clip:
        """One clip by name."""
        payload, _ = await self._request("GET", "clips", name)
        return Clip.from_api(_data_one(payload))

    async def patch_clips(self, changes: Iterable[Mapping[str, Any]]) -> PatchResult:
        """Write partial clips (each with ``name``) in one bulk PATCH, validated first."""
        body = {"data": check_clip_patch(changes)}
        payload, _ = await self._request("PATCH", "clips", body=body)
        return _patch_result(payload, "names")

    # -- jobs -------------------------------------------------------------------------------

    async def list_jobs(self, since: datetime | None = None) -> JobsPage:
        """Jobs newest first; with ``since`` only those with activity at or after it."""
        query = f"since={quote(format_since(since), safe='')}" if since else ""
        payload, response = await self._request("GET", "jobs", query=query)
        jobs = [Job.from_api(item) for item in _data_list(payload)]
        return JobsPage(jobs=jobs, server_time=_server_time(response),
                        nbytes=len(response.content), since=since)

    async def get_job(self, job_id: str) -> Job:
        """One job by id."""
        payload, _ = await self._request("GET", "jobs", job_id)
        return Job.from_api(_data_one(payload))

    async def patch_jobs(self, changes: Iterable[Mapping[str, Any]]) -> PatchResult:
        """Change jobs (each with ``id``) in one bulk PATCH, validated first."""
        body = {"data": check_job_patch(changes)}
        payload, _ = await self._request("PATCH", "jobs", body=body)
        return _patch_result(payload, "ids")

    async def probe_job_write(self) -> bool:
        """Whether the token may PATCH jobs, asked with an empty bulk PATCH that changes
        nothing: False on 403; True on any other answer of the service (200 or 400).
        Other failures (network, 401) raise as usual."""
        try:
            await self._request("PATCH", "jobs", body={"data": []})
        except PermissionDenied:
            return False
        except BadRequest:
            return True
        return True

    # -- uploads ----------------------------------------------------------------------------

    async def upload_url(self, path: str) -> UploadTicket:
        """Ask for a signed URL for object ``path`` (e.g. ``_thumbnails/A001.jpg``)."""
        clean = path.strip("/")
        if not clean:
            raise ApiError("upload path is empty")
        tail = "/".join(segment(part) for part in clean.split("/"))
        payload, _ = await self._request("GET", "upload", tail=tail)
        if isinstance(payload, dict) and isinstance(payload.get("data"), dict):
            payload = payload["data"]  # tolerate an envelope
        if not isinstance(payload, dict) or not isinstance(payload.get("url"), str):
            raise ProtocolError("upload answer without a url")
        return UploadTicket(url=payload["url"],
                            expires_at=parse_time(payload.get("expiresAt"), field_name="expiresAt"))


# -- helpers --------------------------------------------------------------------------------

def _is_loopback(url: str) -> bool:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    return host in ("localhost", "::1") or host.startswith("127.")


def _describe_transport(exc: BaseException) -> str:
    name = type(exc).__name__
    text = redact(str(exc)).strip()
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({text or name})"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
        return f"connection dropped ({text or name})"
    return f"{name}: {text}" if text else name


def _decode(response: httpx.Response) -> tuple[Any, str]:
    if not response.content:
        return None, "empty answer"
    try:
        return json.loads(response.content), ""
    except ValueError:
        return None, f"answer is not JSON (HTTP {response.status_code})"


def _error_message(payload: Any) -> str:
    if isinstance(payload, dict):
        err = payload.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        if isinstance(err, str):
            return err
    return ""


def _data_list(payload: Any) -> list[Any]:
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        raise ProtocolError("expected {\"data\": [...]}")
    return data


def _data_one(payload: Any) -> Any:
    data = payload.get("data") if isinstance(payload, dict) else None
    if isinstance(data, list):
        if not data:
            raise ProtocolError("empty data")
        return data[0]
    if not isinstance(data, dict):
        raise ProtocolError("expected {\"data\": {...}}")
    return data


def _patch_result(payload: Any, key: str) -> PatchResult:
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        raise ProtocolError("PATCH answer without data")
    return PatchResult(updated=int(data.get("updated") or 0),
                       project_id=str(data.get("projectId") or ""),
                       keys=[str(k) for k in data.get(key) or []])


def _server_time(response: httpx.Response) -> datetime | None:
    value = response.headers.get("date")
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
