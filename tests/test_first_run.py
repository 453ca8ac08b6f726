"""The real app on first run: login screen, a bad token stays, a good one opens the monitor;
switching projects from the palette; quitting while uploading asks first."""

from __future__ import annotations

from textual.widgets import Input

from odailies_tui import credentials
from odailies_tui.api.redact import Secret
from odailies_tui.connection import Connection
from odailies_tui.core.session import Session
from odailies_tui.sim import Simulator
from odailies_tui.ui.app import MainScreen, ODailiesApp
from odailies_tui.ui.jobs_view import JobsView
from odailies_tui.ui.login_screen import LoginScreen
from tests.screen_text import screen_text


async def type_into(pilot, selector: str, text: str) -> None:
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = ""
    await pilot.press(*text)


async def test_first_run_login_then_monitor(sim: Simulator, odailies_env, memory_keyring,
                                            state_dir) -> None:
    login = LoginScreen(base_url=sim.base_url, reason="No project chosen yet.")
    app = ODailiesApp(None, login=login)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "--demo" in screen_text(app)
        await type_into(pilot, "#login-project", sim.project_id)
        await type_into(pilot, "#login-token", "wrong-token-123")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        assert "invalid token" in screen_text(app)
        assert "wrong-token-123" not in screen_text(app)
        await type_into(pilot, "#login-token", sim.token)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.session is not None and app.session.board.jobs  # jobs were polled
        text = screen_text(app)
        assert "running" in text and sim.token not in text
    assert credentials.get_token(sim.project_id) == Secret(sim.token)


async def test_quit_while_uploading_asks(sim: Simulator, state_dir, tmp_path) -> None:
    sim_slow = Simulator(realtime=False, sink_bytes_per_second=200_000).start(port=0)
    try:
        clip = sorted(sim_slow.clips)[0]
        path = tmp_path / f"{clip}.mp4"
        path.write_bytes(b"x" * 2_000_000)
        session = Session(Connection(sim_slow.base_url, sim_slow.project_id,
                                     Secret(sim_slow.token)))
        app = ODailiesApp(session)
        async with app.run_test(size=(100, 30)) as pilot:
            planned = await session.uploads.plan([path])
            session.uploads.start(planned.plan)
            await pilot.pause(0.3)
            assert session.uploads.active
            await pilot.press("q")
            await pilot.pause()
            assert "uploading" in screen_text(app).lower()
            assert app.is_running
            await pilot.press("escape")
            await pilot.pause()
            assert app.is_running and isinstance(app.screen, MainScreen)
            assert app.screen.query_one(JobsView)
    finally:
        sim_slow.stop()


async def test_screenshot_goes_to_the_current_folder_on_a_server(sim: Simulator, state_dir,
                                                                 tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/Downloads, as over SSH
    monkeypatch.setenv("XDG_DOWNLOAD_DIR", str(tmp_path / "home" / "Downloads"))
    monkeypatch.chdir(tmp_path)
    app = ODailiesApp(Session(Connection(sim.base_url, sim.project_id, Secret(sim.token))))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.action_screenshot()
        await pilot.pause()
    shots = list(tmp_path.glob("*.svg"))
    assert len(shots) == 1
    assert sim.token not in shots[0].read_text(encoding="utf-8")
