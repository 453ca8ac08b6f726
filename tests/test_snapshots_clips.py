"""Snapshots of the Clips view (80x24, 120x40), the filter and the edit form.

Deterministic: simulator with a fixed clock and seed (``realtime=False``, seed 1), no pending
edit on screen (the test waits until every edit is confirmed), nothing relative to the clock in
the view. Regenerate with ``pytest --snapshot-update``.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from odailies_tui.api.redact import Secret
from odailies_tui.connection import Connection
from odailies_tui.core.session import Session
from odailies_tui.sim import Simulator
from odailies_tui.ui.app import ODailiesApp
from odailies_tui.ui.clips_view import ClipsView


def clips_app(sim: Simulator) -> ODailiesApp:
    connection = Connection(sim.base_url, sim.project_id, Secret(sim.token), label="demo")
    session = Session(connection, interval=1000.0, demo=True)
    session.board.clock = lambda: 5000.0
    return ODailiesApp(session, demo=True, start_view="clips")


async def loaded(pilot: Pilot) -> ClipsView:
    """Wait for the clips, the first jobs poll and any edit in flight; then repaint."""
    app: ODailiesApp = pilot.app  # type: ignore[assignment]
    for _ in range(500):
        views = list(app.main_screen.query(ClipsView))
        if views:
            break
        await pilot.pause(0.01)
    view = views[0]
    for _ in range(500):
        if view.book.loaded and app.session.board.polls and not view.edits.busy:
            break
        await pilot.pause(0.01)
    await app.workers.wait_for_complete()
    await pilot.pause()
    view.update_status()
    await pilot.pause()
    return view


async def circle_and_rate(pilot: Pilot) -> None:
    await loaded(pilot)
    await pilot.press("down", "down", "c", "4", "down", "m")
    await pilot.pause(0.6)
    await loaded(pilot)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_clips_view(snap_compare, sim: Simulator, odailies_env, size) -> None:
    assert snap_compare(clips_app(sim), terminal_size=size, run_before=circle_and_rate)


def test_clips_filter(snap_compare, sim: Simulator, odailies_env) -> None:
    async def run_before(pilot: Pilot) -> None:
        await loaded(pilot)
        await pilot.press("slash", "B", "0", "0", "1")
        await loaded(pilot)

    assert snap_compare(clips_app(sim), terminal_size=(80, 24), run_before=run_before)


def test_clip_form_with_error(snap_compare, sim: Simulator, odailies_env) -> None:
    async def run_before(pilot: Pilot) -> None:
        await loaded(pilot)
        await pilot.press("e")
        await pilot.pause()
        pilot.app.screen.query_one("#f-rating").focus()
        await pilot.press("ctrl+u", "7")
        await pilot.pause()

    assert snap_compare(clips_app(sim), terminal_size=(120, 40), run_before=run_before)
