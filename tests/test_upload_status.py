"""Upload status a user reads: waits between attempts, stalled rates, reasons, cancelled
files, honest totals and the connection problem (core, no widgets)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import httpx

from odailies_tui.api.errors import NetworkError, PermissionDenied
from odailies_tui.api.models import UploadTicket
from odailies_tui.core.upload_center import UploadCenter
from odailies_tui.core.upload_plan import PlannedFile, Role
from odailies_tui.core.upload_run import ItemState, RateMeter, UploadBatch, UploadItem

FAST = {"notify_interval": 0.0}


def _planned(tmp_path: Path, name: str, size: int) -> PlannedFile:
    path = tmp_path / name
    path.write_bytes(os.urandom(size))
    return PlannedFile(path, name, Role.ALE, size)


def _storage(delay: float = 0.0) -> httpx.MockTransport:
    async def handler(request: httpx.Request) -> httpx.Response:
        async for _chunk in request.stream:  # type: ignore[union-attr]
            if delay:
                await asyncio.sleep(delay)
        return httpx.Response(200)

    return httpx.MockTransport(handler)


class Urls:
    """Hands out storage URLs; the names in ``down`` fail ``fails`` times (or always)."""

    def __init__(self, down: set[str], fails: int | None = None, error: Exception | None = None):
        self.down, self.fails, self.calls = down, fails, 0
        self.error = error or NetworkError("cannot connect (All connection attempts failed)")

    async def upload_url(self, path: str) -> UploadTicket:
        if path in self.down and (self.fails is None or self.calls < self.fails):
            self.calls += 1
            raise self.error
        return UploadTicket(f"http://storage.invalid/{path}?sig=1", None)

    async def list_clips(self) -> list:
        return []


def test_rate_is_forgotten_once_bytes_stop_and_measured_afresh_after() -> None:
    meter = RateMeter(stall_after=2.0)
    meter.update(0, 100.0)
    meter.update(10_000_000, 101.0)
    assert meter.current(101.5) == 10_000_000
    assert meter.current(103.5) is None  # nothing for 2.5 s: unknown, not the old 10 MB/s
    meter.update(10_000_000, 110.0)  # same count: still nothing
    assert meter.current(110.0) is None
    meter.update(10_100_000, 120.0)  # bytes again: a new measurement, not mixed with the stall
    meter.update(10_600_000, 121.0)
    assert meter.current(121.0) == 500_000


def test_running_file_with_no_bytes_lately_shows_no_rate_and_no_time_left(
        tmp_path: Path) -> None:
    item = UploadItem(_planned(tmp_path, "a.ale", 100_000_000), state=ItemState.RUNNING)
    item.meter.update(0, 0.0)
    item.meter.update(50_000_000, 1.0)
    item.bytes_sent = 50_000_000
    # the last byte came long ago (time.monotonic() is far beyond 3.0 s)
    assert item.rate is None and item.eta_seconds is None
    assert item.status_note() == "no bytes moving"


async def test_file_between_attempts_says_when_and_why_then_arrives(tmp_path: Path) -> None:
    files = [_planned(tmp_path, "a.ale", 50_000)]
    batch = UploadBatch(files, backoff=0.4, max_attempts=4, transport=_storage(), **FAST)
    seen: list[tuple[bool, str, float | None, str, str]] = []
    center = UploadCenter(Urls({"a.ale"}, fails=2))  # type: ignore[arg-type]
    center._watch(batch)
    batch.add_listener(lambda b: seen.append(
        (b.items[0].waiting, b.items[0].status_note(), b.items[0].rate,
         b.network_problem, center.connection_problem)))
    assert await batch.run(center.client) is True
    waits = [s for s in seen if s[0]]
    assert waits, "no listener call while waiting between attempts"
    waiting, note, rate, problem, shown = waits[0]
    assert note.startswith("retrying in ") and "cannot connect" in note
    assert "cannot reach o/DAILIES" in note
    assert rate is None
    assert "cannot connect" in problem and shown == problem
    item = batch.items[0]
    assert item.state is ItemState.DONE and item.attempts == 3
    assert "cannot connect" in item.last_error
    assert batch.network_problem == "" and center.connection_problem == ""


async def test_failed_file_keeps_its_reason_and_still_counts_in_the_totals(
        tmp_path: Path) -> None:
    good, bad = _planned(tmp_path, "good.ale", 30_000), _planned(tmp_path, "bad.ale", 70_000)
    batch = UploadBatch([good, bad], backoff=0.01, max_attempts=2, transport=_storage(),
                        **FAST)
    assert await batch.run(Urls({"bad.ale"})) is False  # type: ignore[arg-type]
    failed = batch.items[1]
    assert failed.state is ItemState.FAILED
    assert "gave up after 2 attempts" in failed.reason and "cannot connect" in failed.reason
    assert failed.last_error and failed.status_note() == failed.reason
    assert batch.count(ItemState.FAILED) == 1
    assert batch.bytes_sent == 30_000
    assert batch.bytes_planned == 100_000  # "30.0 kB of 100.0 kB", not "of 30.0 kB"
    assert batch.fraction < 1.0


async def test_cancelled_files_are_cancelled_not_failed_and_can_be_sent_again(
        tmp_path: Path) -> None:
    files = [_planned(tmp_path, f"{n}.ale", 2_000_000) for n in "abc"]
    batch = UploadBatch(files, parallel=2, chunk_size=64 * 1024,
                        transport=_storage(delay=0.02), **FAST)
    task = asyncio.create_task(batch.run(Urls(set())))  # type: ignore[arg-type]
    for _ in range(200):
        if any(i.bytes_sent for i in batch.items):
            break
        await asyncio.sleep(0.01)
    batch.cancel()
    assert await task is False
    assert {i.state for i in batch.items} == {ItemState.CANCELLED}
    assert batch.count(ItemState.FAILED) == 0
    assert all(i.reason == "cancelled" for i in batch.items)

    fast = UploadBatch(files, transport=_storage(), **FAST)
    fast.items = batch.items  # same items, a quick storage this time
    assert fast.requeue_failed() == 3
    assert await fast.run(Urls(set())) is True  # type: ignore[arg-type]
    assert {i.state for i in fast.items} == {ItemState.DONE}


async def test_token_without_upload_is_recorded_as_what_stopped_the_batch(
        tmp_path: Path) -> None:
    files = [_planned(tmp_path, "a.ale", 10)]
    batch = UploadBatch(files, transport=_storage(), **FAST)
    urls = Urls({"a.ale"}, error=PermissionDenied("token lacks the Upload permission"))
    assert await batch.run(urls) is False  # type: ignore[arg-type]
    assert isinstance(batch.stopped_by, PermissionDenied)
    assert batch.items[0].state is ItemState.FAILED


async def test_planning_without_a_connection_is_reported_until_it_works_again() -> None:
    class Down(Urls):
        up = False

        async def list_clips(self) -> list:
            if not self.up:
                raise NetworkError("cannot connect (All connection attempts failed)")
            return []

    client = Down(set())
    center = UploadCenter(client)  # type: ignore[arg-type]
    heard: list[str] = []
    center.add_listener(lambda c: heard.append(c.connection_problem))
    result = await center.plan([])
    assert "cannot connect" in result.clips_problem
    assert "cannot connect" in center.connection_problem and heard
    later = UploadBatch([])
    center.batches.append(later)
    assert "cannot connect" in center.connection_problem  # no URL arrived since
    later.reached_at = time.monotonic()  # an upload URL arrived after the failed planning
    assert center.connection_problem == ""
    center.batches.clear()
    client.up = True
    await center.plan([])
    assert center.connection_problem == "" and heard[-1] == ""
