"""JobBoard against the simulator over loopback: since polls, merging, skew, outages."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from odailies_tui.api.client import ODailiesClient
from odailies_tui.core.jobboard import JobBoard, job_matches, next_filter_mode
from odailies_tui.sim import Simulator


def make_client(sim: Simulator, retries: int = 1) -> ODailiesClient:
    return ODailiesClient(sim.base_url, sim.project_id, sim.token, retries=retries)


def assert_matches_sim(board: JobBoard, sim: Simulator) -> None:
    """The board holds exactly the simulator's jobs, with the same state and progress."""
    with sim.lock:
        served = {jid: dict(job) for jid, job in sim.jobs.items()}
    assert set(board.jobs) == set(served)
    for jid, job in served.items():
        mine = board.jobs[jid].job
        assert (mine.state, mine.progress, mine.read) == (
            job["state"], job["progress"], bool(job["readFlag"])), jid


def job_gets(sim: Simulator) -> list:
    return [r for r in sim.requests if r.method == "GET" and "/jobs/" in r.path]


async def test_since_poll_returns_only_changed_jobs(sim: Simulator) -> None:
    async with make_client(sim) as client:
        board = JobBoard(client)
        first = await board.poll()
        assert first.ok and first.full and len(first.added) == len(sim.jobs)
        with sim.lock:
            ids = list(sim.jobs)
        target = ids[0]
        sim.set_job(target, name="renamed by the test")
        second = await board.poll()
        assert second.ok and not second.full
        query = parse_qs(job_gets(sim)[-1].query)
        assert "since" in query
        assert target in second.changed
        assert board.jobs[target].job.name == "renamed by the test"
        # a since answer is small: it does not carry every job
        assert second.nbytes < first.nbytes


async def test_job_finishing_between_polls_shows_finished(sim: Simulator) -> None:
    async with make_client(sim) as client:
        board = JobBoard(client)
        await board.poll()
        running = next(j for j, t in board.jobs.items() if t.job.state == "running")
        sim.set_job(running, state="succeeded", progress=1.0)
        result = await board.poll()
        assert board.jobs[running].job.state == "succeeded"
        events = [e for e in result.events if e.job.id == running]
        assert len(events) == 1 and events[0].old_state == "running"


async def test_server_clock_ten_minutes_behind_loses_nothing(sim: Simulator) -> None:
    sim.faults.clock_skew = -600.0
    async with make_client(sim) as client:
        board = JobBoard(client)
        await board.poll()
        for _ in range(5):
            sim.advance(7.0)
            new_id = sim.add_job(name="late arrival", state="running", progress=0.1)
            await board.poll()
            assert new_id in board.jobs
        assert_matches_sim(board, sim)


async def test_outage_of_30_dropped_polls_then_recovery_matches_simulator(
        sim: Simulator) -> None:
    async with make_client(sim, retries=0) as client:
        board = JobBoard(client, reset_pool_after=3)
        assert (await board.poll()).ok
        sim.faults.drop_rate = 1.0
        for n in range(30):
            sim.advance(3.0)
            if n == 10:
                sim.add_job(name="born during the outage", state="running", progress=0.2)
            if n == 20:
                running = next(j for j, job in sim.jobs.items() if job["state"] == "running")
                sim.set_job(running, state="failed")
            result = await board.poll()
            assert not result.ok and board.offline
            assert "network error" in str(result.error) or "dropped" in str(result.error)
        assert board.failures == 30
        assert board.pool_resets == 10
        assert 0 < board.next_interval() <= board.max_interval * 1.25
        sim.faults.drop_rate = 0.0
        result = await board.poll()
        assert result.ok and result.full and result.recovered and not board.offline
        assert_matches_sim(board, sim)
        sim.advance(2.0)
        assert (await board.poll()).ok
        assert_matches_sim(board, sim)


async def test_backoff_grows_with_jitter_while_offline() -> None:
    class Down:
        async def list_jobs(self, since=None):  # noqa: ANN001, ANN202
            raise RuntimeError("boom")  # not even an ApiError: must not escape

    board = JobBoard(Down(), interval=2.0, max_interval=60.0)
    delays = []
    for _ in range(8):
        result = await board.poll()
        assert not result.ok and result.error is not None
        delays.append(board.next_interval())
    assert delays[0] < delays[3] <= 60.0 * 1.25
    assert "unexpected RuntimeError" in str(board.last_error)


@pytest.mark.parametrize("mode,expected", [
    ("all", {"running", "scheduled", "failed", "succeeded", "read-failed"}),
    ("active", {"running", "scheduled"}),
    ("attention", {"failed"}),
    ("done", {"failed", "succeeded", "read-failed"}),
])
async def test_filter_groups(sim: Simulator, mode: str, expected: set[str]) -> None:
    for job_id in list(sim.jobs):
        with sim.lock:
            del sim._state.jobs[job_id], sim._state.meta[job_id]
            sim._state.live.discard(job_id)
    sim.add_job(name="running", state="running")
    sim.add_job(name="scheduled", state="scheduled")
    sim.add_job(name="failed", state="failed")
    sim.add_job(name="read-failed", state="failed", readFlag=1)
    sim.add_job(name="succeeded", state="succeeded")
    async with make_client(sim) as client:
        board = JobBoard(client)
        await board.poll()
    shown = {t.job.name for t in board.ordered() if job_matches(t, mode)}
    assert shown == expected
    assert {t.job.name for t in board.ordered() if job_matches(t, "all", "FAIL")} == {
        "failed", "read-failed"}
    assert next_filter_mode("done") == "all"


async def test_time_left_estimated_from_progress_only_after_a_few_samples(
        sim: Simulator) -> None:
    """A job without server figures gets an estimate (marked as such) once it has moved a
    few times, and none from a single tiny step."""
    job_id = sim.add_job(type="RenderJob", state="running", progress=0.1, name="render",
                         bytesPerSecond=None, remainingSeconds=None)
    clock = [1000.0]
    async with make_client(sim) as client:
        board = JobBoard(client, clock=lambda: clock[0])
        await board.poll()
        lefts = []
        for step in range(1, 5):
            clock[0] += 10.0
            sim.set_job(job_id, progress=0.1 + 0.05 * step, bytesPerSecond=None,
                        remainingSeconds=None)
            await board.poll()
            lefts.append(board.jobs[job_id].seconds_left)
    tracked = board.jobs[job_id]
    assert lefts[:2] == [None, None]
    assert tracked.seconds_left_estimated
    # 0.005 per second, 0.7 to go: about 140 s
    assert tracked.seconds_left == pytest.approx(140, rel=0.05)
