"""First-run login screen and the "Switch project" commands of the command palette.

``LoginScreen`` asks for a project id, a token (masked; pasting works) and the API base URL,
checks the token, stores it in the keyring, records the project, and dismisses with a
:class:`LoginResult`. A bad token shows "invalid token" and the screen stays.

``ProjectCommands`` is a command-palette provider: "Switch project: <name>" for every known
project, and "Log in to a project…". It calls two methods the app provides (see
:class:`ProjectHost`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Protocol, runtime_checkable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static

from odailies_tui import credentials
from odailies_tui.api.client import DEFAULT_BASE_URL
from odailies_tui.api.errors import ApiError, InvalidToken
from odailies_tui.api.redact import Secret, redact
from odailies_tui.connection import (
    Connection,
    NoToken,
    ProbeResult,
    UsageError,
    aconnection_for,
    probe_token,
    remember_project,
)
from odailies_tui.settings import SettingsError, load_settings

DEMO_HINT = "Just looking? [b]odailies-tui --demo[/b] runs on a built-in simulator: " \
            "no project and no token needed."


@dataclass(frozen=True)
class LoginResult:
    """A checked token: the connection to open, what it may do, and what was (not) saved."""

    connection: Connection
    probe: ProbeResult
    #: True if the token is in the keyring; False: it lives for this session only
    stored: bool
    #: anything the user should read (keyring unavailable, settings not written); or ""
    note: str = ""


class LoginScreen(Screen[LoginResult | None]):
    """Project id, token (masked), base URL; dismisses with a LoginResult.

    ``cancellable``: escape dismisses with None (switching projects); otherwise escape quits.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    LoginScreen { align: center middle; }
    LoginScreen > VerticalScroll {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    LoginScreen .login-title { text-style: bold; }
    LoginScreen .login-reason { color: $warning; }
    LoginScreen Label { margin-top: 1; }
    LoginScreen Input { border: none; height: 1; padding: 0 1; background: $boost; }
    LoginScreen Input:focus { border: none; background: $accent 30%; }
    LoginScreen #login-status { margin-top: 1; height: auto; }
    LoginScreen #login-status.error { color: $error; text-style: bold; }
    LoginScreen .login-hint { color: $text-muted; margin-top: 1; }
    LoginScreen Button { margin-top: 1; }
    """

    def __init__(self, *, project_id: str = "", base_url: str = DEFAULT_BASE_URL,
                 label: str = "", reason: str = "", cancellable: bool = False) -> None:
        super().__init__()
        self._project = project_id
        self._base_url = base_url
        self._label = label
        self._reason = reason
        self._cancellable = cancellable
        #: the last result shown ("invalid token"...), for tests and screen readers
        self.status = ""

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Log in to o/DAILIES", classes="login-title")
            if self._reason:
                yield Static(redact(self._reason), classes="login-reason", markup=False)
            yield Label("Project id")
            yield Input(self._project, placeholder="the project's id", id="login-project")
            yield Label("Token (hidden; pasting works)")
            yield Input(password=True, placeholder="paste the API token", id="login-token")
            yield Label("API base URL")
            yield Input(self._base_url, id="login-base-url")
            yield Static("", id="login-status", markup=False)
            yield Button("Log in (enter)", variant="primary", id="login-submit", compact=True)
            yield Static(DEMO_HINT, classes="login-hint")

    def on_mount(self) -> None:
        self.query_one("#login-token" if self._project else "#login-project", Input).focus()

    def _show(self, text: str, *, error: bool = False) -> None:
        self.status = text
        status = self.query_one("#login-status", Static)
        status.update(text)
        status.set_class(error, "error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.submit()

    def submit(self) -> None:
        """Check the fields; move to the first empty one, or start checking the token."""
        project = self.query_one("#login-project", Input)
        token = self.query_one("#login-token", Input)
        base = self.query_one("#login-base-url", Input)
        for field, what in ((project, "a project id"), (token, "a token"),
                            (base, "the API base URL")):
            if not field.value.strip():
                self._show(f"Enter {what}.", error=True)
                field.focus()
                return
        secret = Secret(token.value.strip())
        token.value = ""  # the widget keeps no copy once it is being checked
        self._show("Checking the token…")
        self.run_worker(self._login(project.value.strip(), base.value.strip().rstrip("/"),
                                    secret), exclusive=True, group="login")

    async def _login(self, project_id: str, base_url: str, token: Secret) -> None:
        try:
            probe = await probe_token(base_url, project_id, token)
        except InvalidToken:
            self._show(f"invalid token for project {project_id}: nothing was stored.",
                       error=True)
            self.query_one("#login-token", Input).focus()
            return
        except ApiError as exc:
            self._show(f"cannot check the token: {exc}", error=True)
            return
        notes: list[str] = []
        stored = True
        try:
            await credentials.aset_token(project_id, token)
        except credentials.KeyringUnavailable as exc:
            stored = False
            notes.append(f"token not stored ({exc}); it is used for this session only. "
                         "`odailies-tui projects` shows the ways out.")
        try:
            remember_project(project_id, base_url, self._label)
        except SettingsError as exc:
            notes.append(str(exc))
        label = self._label
        try:
            known = load_settings().project(project_id)
            label = label or (known.label if known else "")
        except SettingsError:
            pass
        self.dismiss(LoginResult(
            connection=Connection(base_url=base_url, project_id=project_id, token=token,
                                  label=label),
            probe=probe, stored=stored, note=" ".join(notes)))

    def action_cancel(self) -> None:
        """Escape: back (when switching) or quit (first run)."""
        if self._cancellable:
            self.dismiss(None)
        else:
            self.app.exit()


def describe_login(result: LoginResult) -> str:
    """One line for a notification: what the token may do and where it is kept."""
    probe = result.probe
    rights = ", ".join(f"{name} {'works' if ok else 'not permitted'}"
                       for name, ok in (("Read", probe.read), ("Upload", probe.upload)))
    where = "stored in the keyring" if result.stored else "kept for this session only"
    name = result.connection.label or result.connection.project_id
    text = f"Logged in to {name}: {rights}; Write not probed; token {where}."
    return f"{text} {result.note}" if result.note else text


# -- command palette ------------------------------------------------------------------------

@runtime_checkable
class ProjectHost(Protocol):
    """What the app offers so that projects can be switched without restarting."""

    def use_connection(self, connection: Connection) -> None:
        """Close the current session and open the monitor on ``connection``."""


class ProjectCommands(Provider):
    """"Switch project: <name>" for every known project, and "Log in to a project…"."""

    def _entries(self) -> list[tuple[str, str, str]]:
        """(command text, help, project id or "" for the login entry)."""
        try:
            settings = load_settings()
        except SettingsError:
            settings = None
        current = getattr(getattr(getattr(self.app, "session", None), "connection", None),
                          "project_id", None)
        entries = []
        for project in settings.projects if settings else []:
            if project.id == current:
                continue
            name = f"{project.label} ({project.id})" if project.label else project.id
            entries.append((f"Switch project: {name}", redact(project.base_url), project.id))
        entries.append(("Log in to a project…", "check a token and store it in the keyring",
                        ""))
        return entries

    async def discover(self) -> Hits:
        for text, help_text, project_id in self._entries():
            yield DiscoveryHit(text, partial(self._run, project_id), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, project_id in self._entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(self._run, project_id),
                          help=help_text)

    def _run(self, project_id: str) -> None:
        self.app.run_worker(switch_project(self.app, project_id), group="switch-project")


async def switch_project(app, project_id: str) -> None:
    """Open ``project_id`` (or the login screen when it has no token / for a new project)."""
    if not isinstance(app, ProjectHost):
        app.notify("Switching projects is not available here.", severity="warning")
        return
    if project_id:
        try:
            connection = await aconnection_for(project_id)
        except NoToken:
            pass  # ask for it below
        except UsageError as exc:
            app.notify(str(exc), title="Cannot switch project", severity="error",
                       markup=False, timeout=15)
            return
        else:
            app.use_connection(connection)
            return
    base_url = DEFAULT_BASE_URL
    label = ""
    try:
        known = load_settings().project(project_id)
        if known:
            base_url, label = known.base_url, known.label
    except SettingsError:
        pass

    def done(result: LoginResult | None) -> None:
        if result is not None:
            app.notify(describe_login(result), markup=False)
            app.use_connection(result.connection)

    reason = f"No token for project {project_id}." if project_id else ""
    app.push_screen(LoginScreen(project_id=project_id, base_url=base_url, label=label,
                                reason=reason, cancellable=True), done)
