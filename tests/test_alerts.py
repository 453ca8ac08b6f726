"""Alert policy: one alert per outcome, none for read jobs, stalls, time-left jumps, OSC."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from odailies_tui.api.models import Job, JobsPage
from odailies_tui.core.alerts import (
    Alert,
    AlertCenter,
    AlertPolicy,
    add_monitor_args,
    desktop_notice,
    policy_from,
    summarize,
)
from odailies_tui.core.jobboard import JobBoard

T0 = datetime(2026, 4, 22, 10, 0, tzinfo=UTC)


class FakeSource:
    """Serves a list of jobs; every poll answers everything (like a full GET)."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict] = {}
        self.t = 0.0

    def put(self, job_id: str, **fields: object) -> None:
        base = self.jobs.get(job_id, {"id": job_id, "type": "CopyJob", "name": job_id,
                                      "state": "running", "progress": 0.1, "readFlag": 0,
                                      "creationDate": "2026-04-22T09:00:00Z"})
        base.update(fields)
        self.jobs[job_id] = base

    async def list_jobs(self, since: datetime | None = None) -> JobsPage:
        jobs = [Job.from_api(dict(j)) for j in self.jobs.values()]
        return JobsPage(jobs=jobs, server_time=T0 + timedelta(seconds=self.t), nbytes=1)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def step(board: JobBoard, center: AlertCenter, clock: Clock,
               source: FakeSource, dt: float = 2.0) -> list[Alert]:
    clock.now += dt
    source.t += dt
    return center.process(await board.poll(), board)


def setup(policy: AlertPolicy | None = None) -> tuple[FakeSource, JobBoard, AlertCenter, Clock]:
    source, clock = FakeSource(), Clock()
    board = JobBoard(source, clock=clock)
    return source, board, AlertCenter(policy or AlertPolicy()), clock


async def test_failure_between_polls_alerts_exactly_once() -> None:
    source, board, center, clock = setup()
    source.put("a", bytesPerSecond=500e6)
    assert await step(board, center, clock, source) == []
    source.put("a", state="failed", bytesPerSecond=None, progress=0.4)
    alerts = await step(board, center, clock, source)
    assert [(a.kind, a.job_id, a.severity, a.bell) for a in alerts] == [
        ("failed", "a", "error", True)]
    assert "40%" in alerts[0].message
    assert center.unacknowledged == {"a"}
    for _ in range(3):  # later polls, and a full resync, do not repeat it
        assert await step(board, center, clock, source) == []
    assert center.acknowledge("a") and not center.unacknowledged


async def test_job_already_read_does_not_alert() -> None:
    source, board, center, clock = setup()
    source.put("a", bytesPerSecond=500e6)
    await step(board, center, clock, source)
    source.put("a", state="failed", readFlag=1)
    assert await step(board, center, clock, source) == []
    assert not center.unacknowledged


async def test_read_elsewhere_clears_the_highlight() -> None:
    source, board, center, clock = setup()
    source.put("a", bytesPerSecond=500e6)
    await step(board, center, clock, source)
    source.put("a", state="aborted")
    assert [a.kind for a in await step(board, center, clock, source)] == ["aborted"]
    assert center.unacknowledged == {"a"}
    source.put("a", readFlag=1)
    await step(board, center, clock, source)
    assert not center.unacknowledged


async def test_outcomes_not_chosen_stay_quiet_and_bell_follows_policy() -> None:
    source, board, center, clock = setup(AlertPolicy(outcomes=("failed",), bell=False))
    source.put("a", bytesPerSecond=5e8)
    source.put("b", bytesPerSecond=5e8)
    await step(board, center, clock, source)
    source.put("a", state="succeeded", progress=1.0)
    source.put("b", state="failed")
    alerts = await step(board, center, clock, source)
    assert [(a.kind, a.bell) for a in alerts] == [("failed", False)]


async def test_stall_warns_once_after_the_set_time_and_clears() -> None:
    source, board, center, clock = setup(AlertPolicy(stall_after=60.0))
    source.put("a", bytesPerSecond=400e6)
    await step(board, center, clock, source)
    source.put("a", bytesPerSecond=0)
    alerts = []
    for _ in range(25):  # 50 s: not yet
        alerts += await step(board, center, clock, source)
    assert alerts == [] and not center.stalled
    for _ in range(10):
        alerts += await step(board, center, clock, source)
    assert [a.kind for a in alerts] == ["stalled"]
    assert "check the cable or drive" in alerts[0].message
    assert center.stalled == {"a"}
    source.put("a", bytesPerSecond=300e6)
    await step(board, center, clock, source)
    assert not center.stalled


async def test_time_left_jump_warns() -> None:
    source, board, center, clock = setup()
    source.put("a", bytesPerSecond=400e6, remainingSeconds=300)
    await step(board, center, clock, source)
    source.put("a", bytesPerSecond=100e6, remainingSeconds=1500)
    alerts = await step(board, center, clock, source)
    assert [a.kind for a in alerts] == ["eta"]
    assert "5m 00s → 25m 00s" in alerts[0].message


def test_desktop_notice_sequences_are_clean() -> None:
    alert = Alert("failed", "a", "Job FAILED", "A001\x1b]52;evil\x07 failed; at 40%", "error")
    osc9 = desktop_notice(alert, "osc9")
    assert osc9.startswith("\x1b]9;Job FAILED: A001") and osc9.endswith("\x07")
    assert osc9.count("\x1b") == 1 and osc9.count("\x07") == 1
    osc777 = desktop_notice(alert, "osc777")
    assert osc777.startswith("\x1b]777;notify;Job FAILED;A001")
    assert osc777.count(";") == 3
    wrapped = desktop_notice(alert, "osc9", in_tmux=True)
    assert wrapped.startswith("\x1bPtmux;\x1b\x1b]9;") and wrapped.endswith("\x1b\\")
    assert desktop_notice(alert, "off") == ""


def test_policy_from_settings_and_flags() -> None:
    parser = argparse.ArgumentParser()
    add_monitor_args(parser)
    args = parser.parse_args(["--alert-on", "failed,aborted", "--notify", "osc777"])
    policy, problems = policy_from(args, {"bell": False, "stall_after": 120, "nope": 1,
                                          "desktop": "loud"})
    assert policy.outcomes == ("failed", "aborted")
    assert policy.desktop == "osc777" and policy.bell is False and policy.stall_after == 120
    assert len(problems) == 2  # the unknown key and the bad desktop value
    args = parser.parse_args(["--alert-on", "exploded"])
    _, problems = policy_from(args, {})
    assert problems and problems[0].startswith("--alert-on")


async def test_unread_failures_at_start_are_highlighted_without_alerting() -> None:
    source, board, center, clock = setup()
    source.put("old", state="failed")
    source.put("seen", state="failed", readFlag=1)
    assert await step(board, center, clock, source) == []
    assert center.unacknowledged == {"old"}
    center.acknowledge("old")
    board.request_full()
    await step(board, center, clock, source)  # a full resync does not bring it back
    assert not center.unacknowledged


def test_many_alerts_in_one_poll_are_summed_up() -> None:
    def alert(kind: str, n: int) -> Alert:
        return Alert(kind, f"{kind}{n}", "t", f"job{kind}{n} (CopyJob) {kind}", "information",
                     bell=True)

    done = [alert("succeeded", n) for n in range(6)]
    failed = [alert("failed", n) for n in range(5)]
    shown = summarize(done + failed)
    assert [a.kind for a in shown] == ["failed", "failed", "failed", "succeeded"]
    assert shown[2].title == "3 jobs FAILED or aborted" and "jobfailed4" in shown[2].message
    assert shown[3].title == "6 jobs finished" and shown[3].message.endswith("and 2 more")
    assert summarize(done[:1]) == done[:1]
