"""Upload running: signed URL per file right before its PUT, streamed body, retries, progress.

``UploadBatch`` owns one ``UploadItem`` per planned file and runs them a few at a time. A UI
watches it through ``add_listener`` (called at most ``notify_interval`` apart for byte
progress, at once for state changes, and once a second while files run so retry countdowns
and stalls show) and reads the items and totals; it never needs to poll internals. A file
waiting between attempts says when and why (``UploadItem.status_note``); a rate with no bytes
behind it for a couple of seconds is unknown, not the last speed seen.

PUTs go through the batch's own ``httpx.AsyncClient``: no API token, no cookies, no redirects,
timeouts for big files on slow links. The body is read from disk a chunk at a time (one chunk
read ahead), with an explicit ``Content-Length`` so nothing is sent chunked.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import logging
import math
import random
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from odailies_tui.api.client import USER_AGENT
from odailies_tui.api.errors import (
    ApiError,
    InvalidToken,
    NetworkError,
    PermissionDenied,
    ServerError,
)
from odailies_tui.api.models import UploadTicket
from odailies_tui.api.redact import redact
from odailies_tui.core.upload_plan import PlannedFile

log = logging.getLogger("odailies_tui.upload")

#: largest read/send unit; smaller ones are used on slow links (see ``FileBody``)
CHUNK_SIZE = 2 * 1024 * 1024
START_CHUNK = 256 * 1024
MIN_CHUNK = 64 * 1024
#: a chunk should take about this long to send (progress updates several times a second)
CHUNK_TARGET = 0.25
CONTENT_TYPE = "application/octet-stream"


def upload_timeout() -> httpx.Timeout:
    """Timeouts for PUTs of big files on slow links.

    ``write`` bounds each chunk (1 MiB at ~10 KB/s still fits), ``read`` the wait for the
    answer after the last byte (object stores may take a while to commit GBs).
    """
    return httpx.Timeout(connect=15.0, write=120.0, read=600.0, pool=None)


class UrlSource(Protocol):
    """What the runner needs from the API client."""

    async def upload_url(self, path: str) -> UploadTicket: ...


class ItemState(StrEnum):
    """Where one file stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    #: stopped on request (``x``); may be sent again
    CANCELLED = "cancelled"


#: states a file can be sent again from
RESENDABLE = (ItemState.FAILED, ItemState.CANCELLED)


class RateMeter:
    """Throughput smoothed with an exponential moving average over time (bytes/s).

    ``current()`` forgets the rate once no byte has arrived for ``stall_after`` seconds, so
    a stalled or broken transfer shows "unknown" instead of its last speed.
    """

    def __init__(self, half_life: float = 3.0, min_interval: float = 0.25,
                 stall_after: float = 2.0) -> None:
        self.half_life = half_life
        self.min_interval = min_interval
        self.stall_after = stall_after
        self.rate: float | None = None
        self._t: float | None = None
        self._n = 0
        self._last_bytes_at: float | None = None

    def reset(self, now: float, total: int = 0) -> None:
        """Start measuring again from ``total`` bytes at ``now`` (keeps no rate)."""
        self.rate, self._t, self._n = None, now, total
        self._last_bytes_at = now

    def current(self, now: float | None = None) -> float | None:
        """The smoothed rate, or None when unknown or nothing moved lately."""
        if self.rate is None or self._last_bytes_at is None:
            return None
        now = time.monotonic() if now is None else now
        if now - self._last_bytes_at > self.stall_after:
            return None
        return self.rate

    def update(self, total: int, now: float) -> None:
        """Feed the running byte count."""
        if self._t is None:
            self.reset(now, total)
            return
        if total > self._n:
            if self._last_bytes_at is not None \
                    and now - self._last_bytes_at > self.stall_after:
                # moving again after a stall: measure afresh, not averaged with the stall
                self.reset(now, total)
                return
            self._last_bytes_at = now
        dt = now - self._t
        if dt < self.min_interval:
            return
        sample = max(total - self._n, 0) / dt
        if self.rate is None:
            self.rate = sample
        else:
            alpha = 1.0 - 0.5 ** (dt / self.half_life)
            self.rate += alpha * (sample - self.rate)
        self._t, self._n = now, total


@dataclass(eq=False)
class UploadItem:
    """One file's upload, as a UI shows it."""

    file: PlannedFile
    state: ItemState = ItemState.QUEUED
    bytes_sent: int = 0
    attempts: int = 0
    #: retries scheduled so far (each after a failed attempt)
    retries: int = 0
    #: why it failed (FAILED) or "cancelled" (CANCELLED)
    reason: str = ""
    #: what is happening besides plain progress (a retry coming, waiting for the storage...)
    note: str = ""
    #: the last attempt's error, kept after a later attempt succeeds or the file fails
    last_error: str = ""
    #: while waiting between attempts: when the next one starts (``time.monotonic``)
    retry_at: float | None = None
    #: attempts allowed (set by the batch)
    max_attempts: int = 1
    started_at: float | None = None
    finished_at: float | None = None
    meter: RateMeter = field(default_factory=RateMeter, repr=False)

    @property
    def total(self) -> int:
        return self.file.size

    @property
    def dest(self) -> str:
        return self.file.dest

    @property
    def fraction(self) -> float:
        """0.0 – 1.0."""
        return 1.0 if self.total == 0 else min(self.bytes_sent / self.total, 1.0)

    @property
    def waiting(self) -> bool:
        """True between attempts (back-off before asking for a fresh URL)."""
        return self.state is ItemState.RUNNING and self.retry_at is not None

    @property
    def rate(self) -> float | None:
        """Smoothed bytes per second while bytes move; the average once done; else None."""
        if self.state is ItemState.DONE and self.started_at is not None \
                and self.finished_at is not None and self.finished_at > self.started_at:
            return self.total / (self.finished_at - self.started_at)
        if self.state is not ItemState.RUNNING or self.waiting:
            return None
        return self.meter.current()

    def status_note(self, now: float | None = None, *, brief: bool = False) -> str:
        """What a row says besides its figures: the retry countdown, the failure, the note.

        ``brief`` leaves out the technical detail in parentheses (for narrow table cells).
        """
        if self.state in RESENDABLE:
            return gist(self.reason) if brief else self.reason
        if self.waiting:
            assert self.retry_at is not None
            now = time.monotonic() if now is None else now
            left = max(self.retry_at - now, 0.0)
            when = f"in {math.ceil(left)} s" if left > 0 else "now"
            if brief:
                return f"retrying {when}: {gist(self.last_error)}"
            return f"retrying {when}: {self.last_error} " \
                   f"(try {self.attempts + 1} of {self.max_attempts})"
        if self.state is ItemState.RUNNING and self.meter.rate is not None \
                and self.meter.current() is None and self.bytes_sent < self.total:
            return "no bytes moving"
        return gist(self.note) if brief else self.note

    @property
    def eta_seconds(self) -> float | None:
        """Estimated seconds left (None when unknown)."""
        if self.state is ItemState.DONE:
            return 0.0
        rate = self.rate
        if self.state is not ItemState.RUNNING or not rate:
            return None
        return max(self.total - self.bytes_sent, 0) / rate

    @property
    def elapsed(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at if self.finished_at is not None else time.monotonic()
        return end - self.started_at


def gist(text: str) -> str:
    """``cannot connect (ConnectError)`` → ``cannot connect``: the gist of a message."""
    return text.split(" (", 1)[0]


class _Retry(Exception):
    """This attempt failed in a way a fresh URL and another try may fix."""


class _Fatal(Exception):
    """This file cannot be sent (retrying will not help)."""


class _StopBatch(Exception):
    """No file can be sent (token without Upload, invalid token)."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(str(error))
        self.error = error


class FileChanged(Exception):
    """The file on disk no longer has the planned size."""


class FileBody(httpx.AsyncByteStream):
    """Exactly ``size`` bytes of ``path``, read one chunk ahead in a worker thread.

    Chunks adapt to the link: they double (up to ``max_chunk``) while the socket takes them
    quickly and halve (down to ``MIN_CHUNK``) when one takes longer than ``CHUNK_TARGET``,
    so big files on loopback move in few large reads and a slow uplink still reports
    progress several times a second.
    """

    def __init__(self, path: str, size: int, max_chunk: int,
                 on_bytes: Callable[[int], None]) -> None:
        self.path, self.size, self.on_bytes = path, size, on_bytes
        self.max_chunk = max(max_chunk, MIN_CHUNK)
        self.chunk = min(START_CHUNK, self.max_chunk)
        self._file = None
        self._pending: asyncio.Future[bytes] | None = None

    def _read(self, n: int) -> asyncio.Future[bytes]:
        assert self._file is not None
        return asyncio.ensure_future(asyncio.to_thread(self._file.read, n))

    def _adapt(self, seconds: float) -> None:
        if seconds < CHUNK_TARGET / 4:
            self.chunk = min(self.chunk * 2, self.max_chunk)
        elif seconds > CHUNK_TARGET:
            self.chunk = max(self.chunk // 2, MIN_CHUNK)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self._file = open(self.path, "rb", buffering=0)  # noqa: SIM115 (closed in aclose)
        left = self.size
        self._pending = self._read(min(self.chunk, left)) if left else None
        while left > 0:
            assert self._pending is not None
            data = await self._pending
            self._pending = None
            if not data:
                raise FileChanged(f"{self.path} is shorter than its planned {self.size} bytes")
            left -= len(data)
            if left > 0:
                self._pending = self._read(min(self.chunk, left))
            sent_at = time.monotonic()
            yield data  # resumes once the bytes are handed to the socket
            self._adapt(time.monotonic() - sent_at)
            self.on_bytes(len(data))

    async def aclose(self) -> None:
        if self._pending is not None:
            with contextlib.suppress(Exception):
                await self._pending
            self._pending = None
        if self._file is not None:
            self._file.close()
            self._file = None


def _no_cookies() -> http.cookiejar.CookieJar:
    return http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


def _where(url: str) -> str:
    """A URL reduced to its host (signed URLs carry signatures: never print them whole)."""
    parts = urlsplit(url)
    return redact(parts.netloc or "?")


def _storage_message(body: bytes) -> str:
    match = re.search(rb"<Message>(.*?)</Message>", body[:4096], re.S)
    return match.group(1).decode("utf-8", "replace").strip() if match else ""


class UploadBatch:
    """Upload planned files, a few at a time, and tell listeners how it goes."""

    def __init__(
        self,
        files: Sequence[PlannedFile],
        *,
        parallel: int = 2,
        max_attempts: int = 5,
        chunk_size: int = CHUNK_SIZE,
        backoff: float = 1.0,
        backoff_max: float = 30.0,
        notify_interval: float = 0.1,
        tick_interval: float = 1.0,
        timeout: httpx.Timeout | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.max_attempts = max(1, max_attempts)
        self.items: list[UploadItem] = [UploadItem(f, max_attempts=self.max_attempts)
                                        for f in files]
        self.parallel = max(1, parallel)
        self.chunk_size = chunk_size
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.notify_interval = notify_interval
        self.tick_interval = tick_interval
        self._timeout = timeout or upload_timeout()
        self._transport = transport
        self._listeners: list[Callable[[UploadBatch], None]] = []
        self._last_notify = 0.0
        self._meter = RateMeter()
        self._stop_reason = ""
        self._cancelled = False
        #: the error that stopped the whole batch (403 without Upload, 401), if any
        self.stopped_by: ApiError | None = None
        #: the last failed request for an upload URL while it cannot reach o/DAILIES
        #: (empty once a URL arrives again)
        self.network_problem = ""
        #: when an upload URL last arrived (``time.monotonic``): o/DAILIES was reachable
        self.reached_at: float | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.started_at: float | None = None
        self.finished_at: float | None = None
        #: set when every item is done or failed
        self.finished = asyncio.Event()

    # -- what a UI reads ------------------------------------------------------------------

    @property
    def total_bytes(self) -> int:
        return sum(i.total for i in self.items)

    @property
    def bytes_sent(self) -> int:
        """Bytes of delivered files plus bytes sent so far of running ones."""
        return sum(i.total if i.state is ItemState.DONE
                   else i.bytes_sent if i.state is ItemState.RUNNING else 0
                   for i in self.items)

    @property
    def bytes_planned(self) -> int:
        """Bytes of every file of the batch, failed and cancelled ones included."""
        return self.total_bytes

    @property
    def bytes_left(self) -> int:
        """Bytes still to send of queued and running files."""
        return sum(max(i.total - i.bytes_sent, 0) for i in self.items
                   if i.state in (ItemState.QUEUED, ItemState.RUNNING))

    @property
    def fraction(self) -> float:
        planned = self.bytes_planned
        return 1.0 if planned == 0 else min(self.bytes_sent / planned, 1.0)

    @property
    def rate(self) -> float | None:
        """Smoothed total bytes per second (the average once finished)."""
        if self.finished_at is not None and self.started_at is not None:
            span = self.finished_at - self.started_at
            done = sum(i.total for i in self.items if i.state is ItemState.DONE)
            return done / span if span > 0 else None
        return self._meter.current()

    @property
    def eta_seconds(self) -> float | None:
        if self.finished_at is not None:
            return 0.0
        rate = self._meter.current()
        if not rate:
            return None
        return self.bytes_left / rate

    def count(self, state: ItemState) -> int:
        return sum(1 for i in self.items if i.state is state)

    @property
    def running(self) -> list[UploadItem]:
        return [i for i in self.items if i.state is ItemState.RUNNING]

    @property
    def all_delivered(self) -> bool:
        return all(i.state is ItemState.DONE for i in self.items)

    # -- listeners ------------------------------------------------------------------------

    def add_listener(self, listener: Callable[[UploadBatch], None]) -> Callable[[], None]:
        """Call ``listener(batch)`` on every change (throttled); returns a remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _changed(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_notify < self.notify_interval:
            return
        self._last_notify = now
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:  # a broken view must not break the upload
                log.exception("upload listener failed")

    # -- running --------------------------------------------------------------------------

    def _new_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=self._timeout,
            transport=self._transport,
            headers={"User-Agent": USER_AGENT},
            cookies=_no_cookies(),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=self.parallel,
                                max_keepalive_connections=self.parallel),
        )

    async def run(self, api: UrlSource) -> bool:
        """Upload every queued item; True when every file arrived."""
        self.started_at = time.monotonic()
        self._meter.reset(self.started_at)
        queue: asyncio.Queue[UploadItem] = asyncio.Queue()
        for item in self.items:
            if item.state is ItemState.QUEUED:
                queue.put_nowait(item)
        self._changed(force=True)
        try:
            async with self._new_http() as http:
                workers = min(self.parallel, max(queue.qsize(), 1))
                self._tasks = [asyncio.create_task(self._worker(queue, api, http))
                               for _ in range(workers)]
                ticker = asyncio.create_task(self._tick())
                try:
                    results = await asyncio.gather(*self._tasks, return_exceptions=True)
                except asyncio.CancelledError:  # run() itself was cancelled
                    self._cancelled = True
                    self._stop_reason = self._stop_reason or "cancelled"
                    for task in self._tasks:
                        task.cancel()
                    await asyncio.gather(*self._tasks, return_exceptions=True)
                    raise
                finally:
                    ticker.cancel()
                for result in results:
                    if isinstance(result, Exception):
                        raise result
        finally:
            for item in self.items:
                if item.state in (ItemState.QUEUED, ItemState.RUNNING):
                    if self._cancelled or not self._stop_reason:
                        self._end(item, ItemState.CANCELLED, "cancelled")
                    else:
                        self._fail(item, self._stop_reason)
            self.network_problem = ""
            self.finished_at = time.monotonic()
            self.finished.set()
            self._changed(force=True)
        return self.all_delivered

    def requeue_failed(self) -> int:
        """Put failed and cancelled items back in the queue for another ``run``."""
        count = 0
        for item in self.items:
            if item.state in RESENDABLE:
                item.state, item.reason, item.note = ItemState.QUEUED, "", ""
                item.bytes_sent, item.attempts, item.retries = 0, 0, 0
                item.started_at = item.finished_at = item.retry_at = None
                count += 1
        if count:
            self._stop_reason = ""
            self._cancelled = False
            self.stopped_by = None
            self.finished_at = None
            self.finished.clear()
            self._changed(force=True)
        return count

    def cancel(self, reason: str = "cancelled") -> None:
        """Stop every running and queued upload (they end CANCELLED)."""
        self._cancelled = True
        self._stop_reason = self._stop_reason or reason
        for task in self._tasks:
            task.cancel()

    async def _tick(self) -> None:
        """Tell listeners once a second while files run, so countdowns and stalls show."""
        while True:
            await asyncio.sleep(self.tick_interval)
            if any(i.state is ItemState.RUNNING for i in self.items):
                self._changed(force=True)

    async def _worker(self, queue: asyncio.Queue[UploadItem], api: UrlSource,
                      http: httpx.AsyncClient) -> None:
        while not self._stop_reason:
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                await self._upload(item, api, http)
            except _StopBatch as exc:
                self.stopped_by = exc.error
                self._stop_reason = f"not sent: {exc}"
                self._fail(item, str(exc))
                while not queue.empty():
                    self._fail(queue.get_nowait(), self._stop_reason)

    def _fail(self, item: UploadItem, reason: str) -> None:
        self._end(item, ItemState.FAILED, reason)

    def _end(self, item: UploadItem, state: ItemState, reason: str) -> None:
        item.state = state
        item.reason = redact(reason)
        item.bytes_sent = 0  # a partial PUT leaves nothing on the storage
        if state is ItemState.FAILED:
            item.last_error = item.last_error or item.reason
        item.retry_at = None
        item.finished_at = time.monotonic()
        self._changed(force=True)

    async def _upload(self, item: UploadItem, api: UrlSource, http: httpx.AsyncClient) -> None:
        item.state = ItemState.RUNNING
        item.started_at = time.monotonic()
        item.max_attempts = self.max_attempts
        item.note = "getting an upload URL"
        self._changed(force=True)
        last = ""
        while item.attempts < self.max_attempts:
            item.attempts += 1
            try:
                ticket = await self._ticket(api, item)
                await self._put(http, item, ticket.url)
            except _Retry as exc:
                last = redact(str(exc))
                item.last_error = last
                item.bytes_sent = 0
                item.meter.reset(time.monotonic())
                if item.attempts >= self.max_attempts:
                    break
                delay = min(self.backoff_max, self.backoff * 2 ** (item.attempts - 1))
                delay *= random.uniform(0.5, 1.5)
                item.retries += 1
                item.retry_at = time.monotonic() + delay
                item.note = f"retry {item.attempts + 1}/{self.max_attempts} with a fresh URL " \
                            f"in {delay:.0f} s: {last}"
                self._changed(force=True)
                try:
                    await asyncio.sleep(delay)
                finally:
                    item.retry_at = None
                item.note = "getting a fresh upload URL"
                self._changed(force=True)
                continue
            except _Fatal as exc:
                item.last_error = redact(str(exc))
                self._fail(item, str(exc))
                return
            item.state = ItemState.DONE
            item.bytes_sent = item.total
            item.finished_at = time.monotonic()
            item.note = "" if item.attempts == 1 else f"delivered on attempt {item.attempts}"
            self._changed(force=True)
            return
        self._fail(item, f"gave up after {item.attempts} attempts: {last}")

    async def _ticket(self, api: UrlSource, item: UploadItem) -> UploadTicket:
        try:
            ticket = await api.upload_url(item.dest)
        except (PermissionDenied, InvalidToken) as exc:
            raise _StopBatch(exc) from None
        except NetworkError as exc:
            self.network_problem = exc.message
            self._changed(force=True)
            detail = exc.message.replace(" (", ": ", 1).removesuffix(")") \
                if exc.message.endswith(")") else exc.message
            raise _Retry(f"cannot reach o/DAILIES ({detail})") from None
        except ServerError as exc:
            raise _Retry(f"no upload URL ({exc})") from None
        except ApiError as exc:
            raise _Fatal(f"upload URL refused ({exc})") from None
        self.reached_at = time.monotonic()
        if self.network_problem:
            self.network_problem = ""
            self._changed(force=True)
        item.note = ""
        return ticket

    def _progress(self, item: UploadItem, n: int) -> None:
        item.bytes_sent += n
        now = time.monotonic()
        item.meter.update(item.bytes_sent, now)
        self._meter.update(self.bytes_sent, now)
        if item.bytes_sent >= item.total:
            item.note = "all sent; storage confirming"
            self._changed(force=True)
        else:
            self._changed()

    async def _put(self, http: httpx.AsyncClient, item: UploadItem, url: str) -> None:
        item.bytes_sent = 0
        item.meter.reset(time.monotonic())
        body = FileBody(str(item.file.source), item.total, self.chunk_size,
                        lambda n: self._progress(item, n))
        headers = {"Content-Length": str(item.total), "Content-Type": CONTENT_TYPE}
        where = _where(url)
        error: Exception | None = None
        status = 0
        message = ""
        try:
            request = http.build_request("PUT", url, content=body, headers=headers)
            response = await http.send(request)
            try:
                status = response.status_code
                message = _storage_message(await response.aread())
            finally:
                await response.aclose()
        except FileChanged as exc:
            error = _Fatal(f"{exc}; it changed on disk: plan again")
        except OSError as exc:
            error = _Fatal(f"cannot read {item.file.source}: {exc.strerror or exc}")
        except httpx.TimeoutException as exc:
            error = _Retry(f"timed out talking to {where} ({type(exc).__name__})")
        except httpx.ConnectError as exc:
            error = _Retry(f"cannot connect to {where} ({type(exc).__name__})")
        except httpx.TransportError as exc:
            error = _Retry(f"connection to {where} dropped ({type(exc).__name__})")
        finally:
            await body.aclose()
        if error is not None:
            raise error
        if 200 <= status < 300:
            return
        detail = f"{status} from {where}" + (f": {message}" if message else "")
        if status == 403:
            raise _Retry(f"URL refused or expired ({detail})")
        if status in (408, 429) or status >= 500:
            raise _Retry(f"storage busy or failing ({detail})")
        raise _Fatal(f"storage refused the file ({detail})")
