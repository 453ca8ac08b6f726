"""Snapshots of the Jobs monitor (80x24, 120x40) and of the wall layout.

Deterministic: the simulator's clock is fixed (``realtime=False``, seed 1), the board's clock is
frozen (so "updated 0 s ago" and the graph never depend on timing), the time zone is UTC, and
polls happen only when the test asks. Regenerate with ``pytest --snapshot-update``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from textual.pilot import Pilot

from odailies_tui.api.redact import Secret
from odailies_tui.connection import Connection
from odailies_tui.core.session import Session
from odailies_tui.sim import Simulator
from odailies_tui.ui.app import ODailiesApp
from odailies_tui.ui.jobs_view import JobsView
from odailies_tui.ui.wall_view import WallView


@pytest.fixture
def utc(monkeypatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def frozen_app(sim: Simulator, *, start_view: str | None = None) -> ODailiesApp:
    connection = Connection(sim.base_url, sim.project_id, Secret(sim.token), label="demo")
    session = Session(connection, interval=1000.0, demo=True)
    session.board.clock = lambda: 5000.0
    return ODailiesApp(session, demo=True, start_view=start_view)


async def settle(pilot: Pilot) -> None:
    """Wait for the first poll and the write probe, then let the screen catch up."""
    app: ODailiesApp = pilot.app  # type: ignore[assignment]
    for _ in range(500):
        if app.session.board.polls and app.session.actions.can_write is not None:
            break
        await pilot.pause(0.01)
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.main_screen.query_one(JobsView)._tick()
    for wall in app.main_screen.query(WallView):
        wall.refresh_wall()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_monitor(snap_compare, sim: Simulator, odailies_env, utc, size) -> None:
    assert snap_compare(frozen_app(sim), terminal_size=size, run_before=settle)


def test_wall_layout(snap_compare, sim: Simulator, odailies_env, utc) -> None:
    sim.set_job(next(i for i, j in sim.jobs.items() if j["state"] == "running"),
                state="failed")  # an unacknowledged failure stays on the wall... once seen
    assert snap_compare(frozen_app(sim, start_view="wall"), terminal_size=(100, 30),
                        run_before=settle)
