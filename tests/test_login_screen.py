"""Pilot: the login screen (bad token stays, good token opens) and the project switcher."""

from __future__ import annotations

import time

from textual import events
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Input, Static

from odailies_tui import settings
from odailies_tui.connection import Connection
from odailies_tui.settings import Project
from odailies_tui.ui.login_screen import (
    LoginResult,
    LoginScreen,
    ProjectCommands,
    describe_login,
    switch_project,
)
from tests.screen_text import screen_text

SERVICE = "odailies-tui"


class MonitorScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Static("MONITOR OPEN")


class Host(App[None]):
    """Stands in for the app: login first, then the monitor; records switches."""

    COMMANDS = App.COMMANDS | {ProjectCommands}

    def __init__(self, login: LoginScreen | None = None) -> None:
        super().__init__()
        self.login = login
        self.results: list[LoginResult | None] = []
        self.connections: list[Connection] = []

    def on_mount(self) -> None:
        if self.login is not None:
            self.push_screen(self.login, self.logged_in)

    def logged_in(self, result: LoginResult | None) -> None:
        self.results.append(result)
        if result is not None:
            self.push_screen(MonitorScreen())

    def use_connection(self, connection: Connection) -> None:
        self.connections.append(connection)


async def paste_token_and_submit(pilot, token: str) -> None:
    field = pilot.app.screen.query_one("#login-token", Input)
    field.focus()
    field.post_message(events.Paste(token))
    await pilot.pause()
    await pilot.press("enter")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_bad_token_says_invalid_and_stays(odailies_env, memory_keyring, sim):
    app = Host(LoginScreen(project_id=sim.project_id, base_url=sim.base_url))
    async with app.run_test(size=(80, 30)) as pilot:
        await paste_token_and_submit(pilot, "tok-wrong-0000")
        assert isinstance(app.screen, LoginScreen)
        text = screen_text(app)
        assert "invalid token" in text
        assert "tok-wrong-0000" not in text
        assert app.screen.query_one("#login-token", Input).value == ""
    assert memory_keyring.passwords == {} and app.results == []
    assert not odailies_env.exists()


async def test_good_token_is_stored_and_opens_the_monitor(odailies_env, memory_keyring, sim):
    app = Host(LoginScreen(project_id=sim.project_id, base_url=sim.base_url, label="Feature"))
    async with app.run_test(size=(80, 30)) as pilot:
        text = screen_text(app)
        assert "odailies-tui --demo" in text  # the hint: the demo needs neither
        await paste_token_and_submit(pilot, sim.token)
        assert isinstance(app.screen, MonitorScreen)
        assert sim.token not in screen_text(app)
    (result,) = app.results
    assert result.stored and result.probe.read and result.probe.upload
    assert result.connection.token.reveal() == sim.token
    assert result.connection.label == "Feature"
    assert memory_keyring.passwords[(SERVICE, sim.project_id)] == sim.token
    saved = settings.load_settings()
    assert saved.default_project == sim.project_id
    assert saved.project(sim.project_id).base_url == sim.base_url
    assert "Read works, Upload works; Write not probed" in describe_login(result)


async def test_first_run_asks_every_field(odailies_env, memory_keyring, sim):
    app = Host(LoginScreen(base_url=sim.base_url))
    async with app.run_test(size=(80, 30)) as pilot:
        assert app.focused.id == "login-project"
        await pilot.press("enter")
        assert "Enter a project id." in screen_text(app)
        app.focused.value = sim.project_id
        await pilot.press("enter")
        assert "Enter a token." in screen_text(app)
        assert app.focused.id == "login-token"
        await paste_token_and_submit(pilot, sim.readonly_token)
        assert isinstance(app.screen, MonitorScreen)
    assert app.results[0].probe.upload is False


async def test_hanging_keyring_does_not_freeze_the_login(odailies_env, blocking_keyring, sim):
    app = Host(LoginScreen(project_id=sim.project_id, base_url=sim.base_url))
    async with app.run_test(size=(80, 30)) as pilot:
        start = time.monotonic()
        await paste_token_and_submit(pilot, sim.token)
        assert time.monotonic() - start < 3
        assert isinstance(app.screen, MonitorScreen)
    (result,) = app.results
    assert result.stored is False
    assert "keyring unavailable (timed out after 0.3 s)" in result.note
    assert "session only" in describe_login(result)


async def test_escape_on_first_run_quits(odailies_env, memory_keyring):
    app = Host(LoginScreen())
    async with app.run_test() as pilot:
        await pilot.press("escape")
        await pilot.pause()
    assert app.return_code == 0 and app.results == []


async def test_switch_project_uses_the_stored_token_or_asks(odailies_env, memory_keyring, sim):
    settings.update_settings(lambda s: (
        s.upsert_project(Project("P2", "Commercial", sim.base_url)),
        s.upsert_project(Project(sim.project_id, "Feature", sim.base_url))))
    memory_keyring.passwords[(SERVICE, "P2")] = "tok-p2-secret-42"
    app = Host()
    async with app.run_test(size=(80, 30)) as pilot:
        await switch_project(app, "P2")
        (conn,) = app.connections
        assert (conn.project_id, conn.base_url, conn.label) == ("P2", sim.base_url, "Commercial")
        assert conn.token.reveal() == "tok-p2-secret-42"

        await switch_project(app, sim.project_id)  # known, but no token: the login screen
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        assert app.screen.query_one("#login-project", Input).value == sim.project_id
        assert f"No token for project {sim.project_id}" in screen_text(app)
        await paste_token_and_submit(pilot, sim.token)
        assert [c.project_id for c in app.connections] == ["P2", sim.project_id]


async def test_palette_lists_known_projects(odailies_env, memory_keyring):
    settings.update_settings(lambda s: s.upsert_project(Project("P2", "Commercial")))
    app = Host()
    async with app.run_test(size=(100, 30)):
        provider = ProjectCommands(app.screen)
        texts = [str(hit.text) async for hit in provider.discover()]
        assert texts == ["Switch project: Commercial (P2)", "Log in to a project…"]
        hits = [str(hit.text) async for hit in provider.search("switch comm")]
        assert hits == ["Switch project: Commercial (P2)"]
