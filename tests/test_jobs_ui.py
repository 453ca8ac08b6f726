"""The Jobs view driven through the real app (Pilot) against the simulator over loopback."""

from __future__ import annotations

import json

from textual.pilot import Pilot

from odailies_tui.api.redact import Secret
from odailies_tui.connection import Connection
from odailies_tui.core.session import Session
from odailies_tui.sim import Simulator
from odailies_tui.ui.app import ODailiesApp
from odailies_tui.ui.confirm import ConfirmScreen
from odailies_tui.ui.job_detail import JobDetailScreen
from odailies_tui.ui.jobs_view import JobsView, StatusLine
from tests.screen_text import screen_text


def make_app(sim: Simulator, token: str | None = None) -> ODailiesApp:
    """An app whose polls happen only when the test asks (the timer waits 1000 s)."""
    connection = Connection(sim.base_url, sim.project_id, Secret(token or sim.token))
    return ODailiesApp(Session(connection, interval=1000.0))


class Recorder:
    """Stands in for ``app.notify`` and ``app.bell`` to count what the user would see/hear."""

    def __init__(self, app: ODailiesApp) -> None:
        self.notices: list[tuple[str, str]] = []
        self.bells = 0
        self._notify = app.notify
        app.notify = self.notify  # type: ignore[method-assign]
        app.bell = self.bell  # type: ignore[method-assign]

    def notify(self, message: str, *, title: str = "", **kwargs: object) -> None:
        self.notices.append((title, message))
        self._notify(message, title=title, **kwargs)  # type: ignore[arg-type]

    def bell(self) -> None:
        self.bells += 1


def job_patches(sim: Simulator) -> list[list[dict]]:
    """Bodies of the job PATCHes that asked for a change (the empty write probe excluded)."""
    out = []
    for r in sim.requests:
        if r.method == "PATCH" and r.path.startswith("/api/v2/jobs/"):
            data = json.loads(r.body)["data"]
            if data:
                out.append(data)
    return out


async def poll(app: ODailiesApp, pilot: Pilot) -> None:
    """One poll, applied to the view."""
    await app.poll_jobs().wait()
    await pilot.pause()


async def started(app: ODailiesApp, pilot: Pilot) -> JobsView:
    """Wait for the first poll and the write probe."""
    view = app.main_screen.query_one(JobsView)
    for _ in range(300):
        if (app.session.board.polls and view.table.row_count
                and app.session.actions.can_write is not None):
            break
        await pilot.pause(0.01)
    await pilot.pause()
    return view


def status_text(view: JobsView) -> str:
    return str(view.query_one(StatusLine).content)


def running_ids(app: ODailiesApp) -> list[str]:
    return [t.id for t in app.session.board.ordered() if t.job.state == "running"]


async def test_rows_progress_totals_and_quit(sim: Simulator, odailies_env) -> None:
    app = make_app(sim)
    async with app.run_test(size=(100, 30)) as pilot:
        view = await started(app, pilot)
        assert view.table.row_count == len(sim.jobs)
        job_id = running_ids(app)[0]
        before = str(view._cells(job_id)["progress"])
        sim.advance(20.0)
        await poll(app, pilot)
        after = str(view._cells(job_id)["progress"])
        percent = [int(t.split()[-1].rstrip("%")) for t in (before, after)]
        assert percent[1] > percent[0]
        text = status_text(view)
        assert "running" in text and ("MB/s" in text or "GB/s" in text)
        assert "updated" in text
        await pilot.press("q")
        await pilot.pause()
    assert not app.is_running


async def test_pause_confirm_sends_one_patch_for_that_job_only(sim: Simulator,
                                                                odailies_env) -> None:
    app = make_app(sim)
    async with app.run_test(size=(100, 30)) as pilot:
        view = await started(app, pilot)
        assert app.session.actions.can_write is True
        job_id = running_ids(app)[1]
        assert view.table.move_to_key(job_id)
        await pilot.press("p")
        assert isinstance(app.screen, ConfirmScreen)
        assert job_patches(sim) == []  # nothing before the answer
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert job_patches(sim) == [[{"id": job_id, "state": "willSuspend"}]]
        assert sim.jobs[job_id]["state"] == "willSuspend"
        # cancelling sends nothing
        other = running_ids(app)[0]
        view.table.move_to_key(other)
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await app.workers.wait_for_complete()
        assert len(job_patches(sim)) == 1


async def test_read_only_token_sends_nothing_and_says_why(sim: Simulator,
                                                          odailies_env) -> None:
    app = make_app(sim, token=sim.readonly_token)
    async with app.run_test(size=(100, 30)) as pilot:
        recorder = Recorder(app)
        view = await started(app, pilot)
        assert app.session.actions.read_only
        assert "read-only" in status_text(view)
        view.table.move_to_key(running_ids(app)[0])
        for key in ("p", "x", "a"):
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, ConfirmScreen)
        await app.workers.wait_for_complete()
        assert job_patches(sim) == []
        reasons = [m for t, m in recorder.notices if t == "Read-only token"]
        assert len(reasons) == 3 and all("Write permission" in m for m in reasons)
        # the footer greys the actions out rather than hiding them
        assert view.check_action("toggle_pause", ()) is None


async def test_failed_job_gives_exactly_one_alert_and_a_bell(sim: Simulator,
                                                             odailies_env) -> None:
    app = make_app(sim)
    async with app.run_test(size=(100, 30)) as pilot:
        recorder = Recorder(app)
        view = await started(app, pilot)
        first, second = running_ids(app)[:2]
        sim.set_job(first, state="failed")
        sim.set_job(second, state="failed", readFlag=1)  # acknowledged elsewhere: quiet
        await poll(app, pilot)
        await poll(app, pilot)
        failed = [(t, m) for t, m in recorder.notices if t == "Job FAILED"]
        assert len(failed) == 1 and sim.jobs[first]["name"] in failed[0][1]
        assert recorder.bells == 1
        assert view._row_style(first) is not None  # highlighted until acknowledged
        assert view._row_style(second) is None
        view.table.move_to_key(first)
        await pilot.press("a")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert view._row_style(first) is None
        assert job_patches(sim) == [[{"id": first, "readFlag": True}]]


async def test_outage_shows_offline_then_recovers_to_match_simulator(
        sim: Simulator, odailies_env) -> None:
    app = make_app(sim)
    app.session.client._retries = 0  # one request per poll keeps 30 polls quick
    async with app.run_test(size=(100, 30)) as pilot:
        view = await started(app, pilot)
        sim.faults.drop_rate = 1.0
        for n in range(30):
            sim.advance(3.0)
            if n == 15:
                sim.add_job(name="born offline", state="running", progress=0.3)
            await poll(app, pilot)
        status = view.query_one(StatusLine)
        assert status.has_class("-offline")
        assert "OFFLINE" in status_text(view) and "last good poll" in status_text(view)
        assert app.session.board.pool_resets >= 1
        sim.faults.drop_rate = 0.0
        await poll(app, pilot)
        assert not status.has_class("-offline")
        with sim.lock:
            served = {i: (j["state"], j["progress"]) for i, j in sim.jobs.items()}
        assert set(view.table.keys) == set(served)
        board = app.session.board
        assert {i: (t.job.state, t.job.progress) for i, t in board.jobs.items()} == served


async def test_filter_group_and_details(sim: Simulator, odailies_env) -> None:
    app = make_app(sim)
    async with app.run_test(size=(100, 30)) as pilot:
        view = await started(app, pilot)
        total = view.table.row_count
        await pilot.press("f")  # active
        assert 0 < view.table.row_count < total
        await pilot.press("f", "f", "f")  # attention, done, back to all
        assert view.table.row_count == total
        await pilot.press("slash")
        await pilot.press(*"dailies")
        shown = [app.session.board.jobs[k].job.name for k in view.table.keys]
        assert shown and all("dailies" in n.lower() for n in shown)
        await pilot.press("escape")
        assert view.table.row_count == total
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, JobDetailScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, JobDetailScreen)


async def test_one_dropped_poll_is_quiet_two_make_offline(sim: Simulator, odailies_env) -> None:
    app = make_app(sim)
    app.session.client._retries = 0
    async with app.run_test(size=(100, 30)) as pilot:
        view = await started(app, pilot)
        status = view.query_one(StatusLine)
        sim.faults.drop_next = 1
        await poll(app, pilot)
        assert not status.has_class("-offline")
        assert "OFFLINE" not in status_text(view) and "retrying" in status_text(view)
        sim.faults.drop_next = 1
        await poll(app, pilot)
        assert status.has_class("-offline") and "OFFLINE" in status_text(view)
        await poll(app, pilot)
        assert not status.has_class("-offline") and "retrying" not in status_text(view)


async def test_a_filter_matching_nothing_says_so(sim: Simulator, odailies_env) -> None:
    app = make_app(sim)
    async with app.run_test(size=(100, 30)) as pilot:
        view = await started(app, pilot)
        await pilot.press("slash", *"zzqq", "enter")
        await pilot.pause()
        assert view.table.row_count == 0
        assert "no job matches “zzqq”" in screen_text(app)
