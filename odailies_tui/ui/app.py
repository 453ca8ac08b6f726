"""The Textual app: one main screen whose views (Jobs, Clips, Uploads…) ``tab`` cycles."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import platformdirs
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Footer, Static

from odailies_tui.connection import Connection
from odailies_tui.core.session import Session
from odailies_tui.ui.clips_view import ClipsView
from odailies_tui.ui.confirm import ConfirmScreen
from odailies_tui.ui.help_screen import HelpScreen
from odailies_tui.ui.jobs_view import JobsView
from odailies_tui.ui.login_screen import LoginResult, LoginScreen, ProjectCommands, describe_login
from odailies_tui.ui.messages import JobsPolled
from odailies_tui.ui.uploads_view import UploadCommands, UploadsView
from odailies_tui.ui.wall_view import WallView


@dataclass(frozen=True)
class ViewSpec:
    """A view ``tab`` can reach: its id, tab label and how to build it from the session."""

    id: str
    label: str
    build: Callable[[Session], Widget]


#: the views in ``tab`` order; later features append theirs
VIEWS: list[ViewSpec] = [
    ViewSpec("jobs", "Jobs", lambda session: JobsView.for_session(session, id="jobs")),
    ViewSpec("clips", "Clips",
             lambda session: ClipsView(session.clipbook, session.edits, id="clips")),
    ViewSpec("uploads", "Uploads", lambda session: UploadsView.for_session(session, id="uploads")),
    ViewSpec("wall", "Wall", lambda session: WallView.for_session(session, id="wall")),
]


def stylesheet() -> str:
    """Path of the app's .tcss: inside the installed package, or ``styles/`` of a checkout."""
    try:
        return str(files("odailies_tui.styles").joinpath("app.tcss"))
    except ModuleNotFoundError:  # running from a source tree that shadows the install
        return str(Path(__file__).resolve().parents[2] / "styles" / "app.tcss")


class TitleBar(Static):
    """Project name and the views, the current one highlighted."""

    def show(self, title: str, current: str) -> None:
        parts = [f"[b]odailies-tui[/b] · {_escape(title)}  "]
        plain = len(f"odailies-tui · {title}  ")
        for spec in VIEWS:
            if spec.id == current:
                parts.append(f"[reverse] {spec.label} [/reverse]")
            else:
                parts.append(f" {spec.label} ")
            plain += len(spec.label) + 2
        hint = "  tab switches · ? keys"
        if not self.size.width or plain + len(hint) <= self.size.width - 2:
            parts.append(f"[dim]{hint}[/dim]")
        self.update("".join(parts))

    def on_resize(self) -> None:
        screen = self.screen
        if isinstance(screen, MainScreen) and screen.session is not None:
            self.show(screen.session.title, screen.current_view)


def _escape(text: str) -> str:
    return text.replace("[", "\\[")


class MainScreen(Screen[None]):
    """Title bar, the current view, the footer. Without a session (first run, behind the
    login screen) the views are empty until ``set_session``."""

    BINDINGS = [
        Binding("tab", "next_view(1)", "Views", priority=False),
        Binding("shift+tab", "next_view(-1)", "Previous view", show=False),
    ]

    def __init__(self, session: Session | None) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        yield TitleBar(id="title-bar")
        with ContentSwitcher(initial=VIEWS[0].id if self.session else None, id="views"):
            if self.session is not None:
                for spec in VIEWS:
                    yield spec.build(self.session)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        start = getattr(self.app, "start_view", None)
        if self.session is not None and start in {spec.id for spec in VIEWS}:
            self.query_one("#views", ContentSwitcher).current = start
        self._show_current()

    async def set_session(self, session: Session) -> None:
        """Replace every view with views of ``session`` (first login, switching project)."""
        self.session = session
        switcher = self.query_one("#views", ContentSwitcher)
        await switcher.remove_children()
        await switcher.mount_all([spec.build(session) for spec in VIEWS])
        switcher.current = VIEWS[0].id
        self._show_current()

    @property
    def current_view(self) -> str:
        return self.query_one("#views", ContentSwitcher).current or VIEWS[0].id

    def action_next_view(self, step: int) -> None:
        if self.session is None:
            return
        ids = [spec.id for spec in VIEWS]
        index = ids.index(self.current_view) if self.current_view in ids else 0
        self.show_view(ids[(index + step) % len(ids)])

    def show_view(self, view_id: str) -> None:
        """Bring view ``view_id`` to the front and focus it."""
        self.query_one("#views", ContentSwitcher).current = view_id
        self._show_current()

    def _show_current(self) -> None:
        if self.session is None:
            self.query_one(TitleBar).update("[b]odailies-tui[/b]")
            return
        self.query_one(TitleBar).show(self.session.title, self.current_view)
        view = self.query_one(f"#{self.current_view}")
        focusable = [w for w in view.query("*") if w.focusable]
        if focusable:
            focusable[0].focus()


def _declared_here(node: object, binding: Binding) -> bool:
    """True when ``binding`` comes from the BINDINGS that ``node``'s own class declares."""
    declared = type(node).__dict__.get("BINDINGS", [])
    return any(isinstance(b, Binding) and b.key == binding.key and b.action == binding.action
               for b in declared)


class ODailiesApp(App[None]):
    """odailies-tui: the monitor on one project's session, or first a login screen."""

    CSS_PATH = stylesheet()
    TITLE = "odailies-tui"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {ProjectCommands, UploadCommands}

    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Keys"),
        Binding("r", "refresh_jobs", "Refresh", show=False),
    ]

    def __init__(
        self,
        session: Session | None,
        *,
        demo: bool = False,
        start_view: str | None = None,
        login: LoginScreen | None = None,
        make_session: Callable[[Connection], Session] | None = None,
    ) -> None:
        super().__init__()
        #: the view shown first (``--wall`` starts on "wall")
        self.start_view = start_view
        self.session = session
        self.demo = demo
        self._login = login
        self._make_session = make_session or Session
        self._poll_timer: Timer | None = None
        self.sub_title = session.title if session else ""

    def get_default_screen(self) -> Screen:
        return MainScreen(self.session)

    @property
    def main_screen(self) -> MainScreen:
        return self.screen_stack[0]  # type: ignore[return-value]

    def on_mount(self) -> None:
        self._exit_on_hangup()
        if self.session is not None:
            self.poll_jobs()
        else:
            self.push_screen(self._login or LoginScreen(), self._logged_in)

    def _logged_in(self, result: LoginResult | None) -> None:
        if result is None:
            self.exit()
            return
        self.notify(describe_login(result), markup=False, timeout=8)
        self.use_connection(result.connection)

    def use_connection(self, connection: Connection) -> None:
        """Close the current session and open the monitor on ``connection``."""
        self.run_worker(self._switch_to(connection), exclusive=True, group="switch-session",
                        exit_on_error=False, description="switch project")

    async def _switch_to(self, connection: Connection) -> None:
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None
        self.workers.cancel_group(self, "jobs-poll")
        old, self.session = self.session, self._make_session(connection)
        self.sub_title = self.session.title
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        await self.main_screen.set_session(self.session)
        if old is not None:
            await old.aclose()
        self.poll_jobs()

    def _exit_on_hangup(self) -> None:
        """SIGHUP (SSH dropped, tmux pane killed) and SIGTERM: exit through Textual, so the
        terminal is restored, instead of dying in application mode."""
        loop = asyncio.get_running_loop()
        for name in ("SIGHUP", "SIGTERM"):
            sig = getattr(signal, name, None)
            if sig is not None:
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.add_signal_handler(sig, self.exit)

    async def on_unmount(self) -> None:
        if self.session is not None:
            await self.session.aclose()

    # -- jobs polling: one at a time; the finished poll arms the next ----------------------

    @work(exclusive=True, group="jobs-poll", exit_on_error=False, description="poll jobs")
    async def poll_jobs(self, full: bool | None = None) -> None:
        """Poll once, hand the result to the Jobs view, then schedule the next poll."""
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None
        if self.session is None:
            return
        board = self.session.board
        result = await board.poll(full=full)  # never raises: failures land in the result
        delay = board.next_interval()
        view = self._jobs_view()
        if view is not None:
            view.next_poll_at = board.clock() + delay
            view.post_message(JobsPolled(result))
        self._poll_timer = self.set_timer(delay, self.poll_jobs)

    def _jobs_view(self) -> JobsView | None:
        try:
            return self.main_screen.query_one(JobsView)
        except NoMatches:  # first run: no session, no views yet
            return None

    def action_refresh_jobs(self) -> None:
        """``r``: poll now."""
        self.poll_jobs()

    async def action_quit(self) -> None:
        """``q``: quit, asking first when clip edits are unsent or files are uploading."""
        if self.session is None:
            self.exit()
            return
        unsent = self.session.edits.unsent_count
        uploading = self.session.uploads.active

        def answered(quit_now: bool | None) -> None:
            if quit_now:
                self.exit()

        if unsent:
            clips = "clip has an edit" if unsent == 1 else "clips have edits"
            self.push_screen(ConfirmScreen(
                "Quit with unsent edits?",
                f"{unsent} {clips} the server has not confirmed yet. They stay in the journal "
                "and are sent the next time you start.", yes="Quit", no="Stay"), answered)
        elif uploading:
            self.push_screen(ConfirmScreen(
                "Quit while uploading?",
                "Files are still uploading; quitting stops them. Files already delivered stay "
                "delivered; the rest can be sent again later.", yes="Quit", no="Stay"), answered)
        else:
            self.exit()

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Save an SVG of the screen: in ~/Downloads when it exists (a desktop), else in the
        current folder (a server over SSH); the notice says where, or why not."""
        if path is None:
            downloads = Path(platformdirs.user_downloads_dir())
            path = str(downloads if downloads.is_dir() else Path.cwd())
        try:
            saved = self.save_screenshot(filename, path)
        except OSError as exc:
            self.notify(f"Screenshot not saved: {exc.strerror or exc} ({path})",
                        severity="error", markup=False)
            return
        self.notify(f"Screenshot saved: {saved}", markup=False, timeout=8)

    def action_help(self) -> None:
        """``?``: every key that works here, the view's own first, built from the bindings
        (Textual's system keys and the table's cursor keys are summed up in one row)."""
        view_rows: list[tuple[str, str]] = []
        app_rows: list[tuple[str, str]] = []
        seen: set[str] = set()
        for active in self.active_bindings.values():
            binding = active.binding
            if isinstance(active.node, (App, Screen)) and not _declared_here(active.node, binding):
                continue  # Textual's own keys (ctrl+q, ctrl+c): not ours to explain
            if (not binding.description or binding.system or binding.description in seen
                    or isinstance(active.node, ScrollView)
                    or binding.action in ("command_palette", "app.command_palette")):
                continue
            seen.add(binding.description)
            row = (self.get_key_display(binding), binding.description)
            (app_rows if active.node is self or isinstance(active.node, Screen)
             else view_rows).append(row)
        view_id = self.main_screen.current_view
        view = self.main_screen.query_one(f"#{view_id}") if self.session else None
        extra = list(getattr(view, "HELP_EXTRA", ()))
        rows = view_rows + extra + app_rows + [
            ("ctrl+p", "Command palette: switch project, upload files…"),
            ("↑ ↓ PgUp PgDn Home End", "Move in the table"),
        ]
        title = view_id.capitalize()
        self.push_screen(HelpScreen(title, rows))
