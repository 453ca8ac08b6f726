"""Upload running against the simulator over loopback HTTP: framing, retries, progress, memory."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from odailies_tui.api.client import ODailiesClient
from odailies_tui.api.models import UploadTicket
from odailies_tui.core.upload_plan import PlannedFile, Role, make_plan
from odailies_tui.core.upload_run import ItemState, UploadBatch
from odailies_tui.sim import Simulator

FAST = {"backoff": 0.01, "notify_interval": 0.0}


def _file(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sink_requests(sim: Simulator) -> list:
    return [r for r in sim.requests if r.path.startswith("/bucket/")]


def _client(sim: Simulator, token: str | None = None) -> ODailiesClient:
    return ODailiesClient(sim.base_url, sim.project_id, token or sim.token)


class CountingUrls:
    """Wraps the API client: remembers every URL handed out; can run a hook per call."""

    def __init__(self, client: ODailiesClient, after_call=None) -> None:
        self.client, self.after_call, self.urls = client, after_call, []

    async def upload_url(self, path: str) -> UploadTicket:
        ticket = await self.client.upload_url(path)
        self.urls.append(ticket.url)
        if self.after_call:
            self.after_call(len(self.urls))
        return ticket


async def test_puts_are_framed_by_content_length_and_never_carry_the_token(
        sim: Simulator, tmp_path: Path) -> None:
    clip = sorted(sim.clips)[0]
    files = [_file(tmp_path / f"{clip}.mp4", 3 * 1024 * 1024 + 17),
             _file(tmp_path / f"{clip}.jpg", 5000),
             _file(tmp_path / "day.ale", 1)]
    plan = make_plan([tmp_path], clip_names=list(sim.clips))
    assert plan.ok, plan.refusals
    batch = UploadBatch(plan.files, chunk_size=256 * 1024, **FAST)
    seen: list[tuple[str, ...]] = []
    batch.add_listener(lambda b: seen.append(tuple(i.state for i in b.items)))
    async with _client(sim) as client:
        assert await batch.run(client) is True

    expected = {f"_graded/{clip}.mp4": files[0], f"_thumbnails/{clip}.jpg": files[1],
                "day.ale": files[2]}
    assert set(sim.uploads) == set(expected)
    for dest, path in expected.items():
        record = sim.uploads[dest]
        assert record.size == path.stat().st_size
        assert record.sha256 == _sha(path)
        assert record.content_type == "application/octet-stream"

    puts = _sink_requests(sim)
    assert len(puts) == 3 and all(r.method == "PUT" and r.status == 200 for r in puts)
    sizes = sorted(p.stat().st_size for p in files)
    assert sorted(int(r.headers["Content-Length"]) for r in puts) == sizes
    for r in puts:
        assert "Transfer-Encoding" not in r.headers
        wire = json.dumps([r.path, r.query, r.headers])
        assert sim.token not in wire
        assert "Cookie" not in r.headers and "Authorization" not in r.headers

    assert all(i.state is ItemState.DONE and i.attempts == 1 for i in batch.items)
    assert batch.bytes_sent == batch.total_bytes and batch.fraction == 1.0
    assert seen[0] == (ItemState.QUEUED,) * 3
    assert seen[-1] == (ItemState.DONE,) * 3
    assert batch.finished.is_set()


async def test_expired_url_is_replaced_by_a_fresh_one(sim: Simulator, tmp_path: Path) -> None:
    path = _file(tmp_path / "x.ale", 400_000)
    sim.faults.expire_urls = True

    def after(n: int) -> None:
        sim.faults.expire_urls = False  # only the first URL comes expired

    batch = UploadBatch(make_plan([path], clip_names=[]).files, **FAST)
    async with _client(sim) as client:
        urls = CountingUrls(client, after)
        assert await batch.run(urls) is True
    assert len(urls.urls) == 2 and urls.urls[0] != urls.urls[1]
    assert [r.status for r in _sink_requests(sim)] == [403, 200]
    assert sim.uploads["x.ale"].sha256 == _sha(path)
    assert batch.items[0].attempts == 2
    assert "attempt 2" in batch.items[0].note


async def test_connection_dropped_mid_put_restarts_with_a_fresh_url(
        sim: Simulator, tmp_path: Path) -> None:
    path = _file(tmp_path / "y.ale", 8 * 1024 * 1024)
    sim.faults.fail_next_put = 1
    batch = UploadBatch(make_plan([path], clip_names=[]).files, **FAST)
    async with _client(sim) as client:
        # the sim's clock stands still: move it so that each signed URL is a new one
        urls = CountingUrls(client, lambda n: sim.advance(1))
        assert await batch.run(urls) is True
    assert len(urls.urls) == 2 and urls.urls[0] != urls.urls[1]
    statuses = [r.status for r in _sink_requests(sim)]
    assert statuses == [0, 200]  # 0: dropped without an answer
    record = sim.uploads["y.ale"]
    assert record.size == path.stat().st_size and record.sha256 == _sha(path)


async def test_gives_up_after_a_bounded_number_of_attempts(sim: Simulator, tmp_path: Path) -> None:
    path = _file(tmp_path / "z.ale", 1024 * 1024)
    sim.faults.fail_next_put = 10
    batch = UploadBatch(make_plan([path], clip_names=[]).files, max_attempts=3, **FAST)
    async with _client(sim) as client:
        assert await batch.run(client) is False
    item = batch.items[0]
    assert item.state is ItemState.FAILED
    assert "gave up after 3 attempts" in item.reason and "dropped" in item.reason
    assert len(_sink_requests(sim)) == 3
    assert "z.ale" not in sim.uploads

    sim.faults.fail_next_put = 0  # the link is back: the failed file can be sent again
    assert batch.requeue_failed() == 1
    assert item.state is ItemState.QUEUED and not batch.finished.is_set()
    async with _client(sim) as client:
        assert await batch.run(client) is True
    assert item.state is ItemState.DONE and item.attempts == 1
    assert sim.uploads["z.ale"].sha256 == _sha(path)


async def test_token_without_upload_permission_stops_before_any_byte(
        sim: Simulator, tmp_path: Path) -> None:
    paths = [_file(tmp_path / f"{n}.ale", 1000) for n in "abc"]
    batch = UploadBatch(make_plan(paths, clip_names=[]).files, **FAST)
    async with _client(sim, sim.readonly_token) as client:
        assert await batch.run(client) is False
    assert all(i.state is ItemState.FAILED for i in batch.items)
    assert "permission" in batch.items[0].reason
    assert sim.readonly_token not in " ".join(i.reason for i in batch.items)
    assert _sink_requests(sim) == []


async def test_parallel_limit_is_respected(sim: Simulator, tmp_path: Path) -> None:
    sim.sink_bytes_per_second = 20 * 1024 * 1024
    paths = [_file(tmp_path / f"{n}.ale", 1024 * 1024) for n in "abcde"]
    batch = UploadBatch(make_plan(paths, clip_names=[]).files, parallel=2, **FAST)
    peak = 0

    def watch(b: UploadBatch) -> None:
        nonlocal peak
        peak = max(peak, len(b.running))

    batch.add_listener(watch)
    async with _client(sim) as client:
        assert await batch.run(client) is True
    assert peak == 2
    assert len(sim.uploads) == 5


async def test_file_changed_on_disk_fails_without_retry(sim: Simulator, tmp_path: Path) -> None:
    path = _file(tmp_path / "w.ale", 100_000)
    planned = PlannedFile(path, "w.ale", Role.ALE, 200_000)  # planned bigger than it is now
    batch = UploadBatch([planned], **FAST)
    async with _client(sim) as client:
        assert await batch.run(client) is False
    assert batch.items[0].attempts == 1
    assert "changed on disk" in batch.items[0].reason


_MEMORY_PROBE = textwrap.dedent("""
    import asyncio, resource, sys
    from pathlib import Path
    from odailies_tui.api.client import ODailiesClient
    from odailies_tui.core.upload_plan import make_plan
    from odailies_tui.core.upload_run import UploadBatch

    async def main(base_url, project, token, path):
        plan = make_plan([path], clip_names=[])
        async with ODailiesClient(base_url, project, token) as client:
            await client.list_clips()  # warm up the HTTP stack before the baseline
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            ok = await UploadBatch(plan.files).run(client)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(int(ok), before * 1024, after * 1024)

    asyncio.run(main(*sys.argv[1:]))
""")


def test_200_mb_upload_keeps_memory_flat(sim: Simulator, tmp_path: Path) -> None:
    size = 200 * 1024 * 1024
    path = tmp_path / "big.ale"
    with open(path, "wb") as f:
        f.truncate(size)  # sparse: costs no disk writes
    out = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, sim.base_url, sim.project_id, sim.token,
         str(path)],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout.split()
    ok, before, after = (int(x) for x in out)
    assert ok == 1
    assert sim.uploads["big.ale"].size == size
    growth = after - before
    assert growth < 32 * 1024 * 1024, f"peak RSS grew by {growth / 1e6:.1f} MB"


async def test_storage_cookies_are_never_sent_back(tmp_path: Path) -> None:
    import httpx

    seen: list[httpx.Request] = []

    async def storage(request: httpx.Request) -> httpx.Response:
        await request.aread()
        seen.append(request)
        return httpx.Response(200, headers={"Set-Cookie": "session=abc; Path=/"})

    class Urls:
        async def upload_url(self, path: str) -> UploadTicket:
            return UploadTicket(f"http://storage.invalid/{path}?sig=1", None)

    files = [PlannedFile(_file(tmp_path / f"{n}.ale", 1000), f"{n}.ale", Role.ALE, 1000)
             for n in "ab"]
    batch = UploadBatch(files, parallel=1, transport=httpx.MockTransport(storage), **FAST)
    assert await batch.run(Urls()) is True
    assert len(seen) == 2
    assert all("cookie" not in r.headers for r in seen)
    assert all(r.headers["content-length"] == "1000" for r in seen)
