"""The Uploads view: every queued, running, done and failed upload, with progress, throughput
and time left; ``n`` (or the palette's "Upload files…") plans new files and asks first.

Fed by a ``core.upload_center.UploadCenter`` through its listener hook: no polling.
"""

from __future__ import annotations

import os
import shlex
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Static

from odailies_tui.api.errors import ApiError
from odailies_tui.core import formatting as fmt
from odailies_tui.core.upload_center import PlanResult, UploadCenter
from odailies_tui.core.upload_plan import UploadPlan
from odailies_tui.core.upload_run import ItemState, UploadItem
from odailies_tui.ui.confirm import ConfirmScreen
from odailies_tui.ui.widgets.fast_table import Cell, Column, FastTable

if TYPE_CHECKING:
    from odailies_tui.core.session import Session

UPLOAD_COLUMNS = (
    Column("file", "File", 24, priority=100, flex=True),
    Column("state", "State", 9, priority=90),
    Column("progress", "Progress", 17, priority=80),
    Column("size", "Sent / size", 19, priority=40, justify="right"),
    Column("rate", "Rate", 11, priority=70, justify="right"),
    Column("left", "Left", 12, priority=60, justify="right"),
    Column("note", "Note", 30, priority=20),
)

_STATE_STYLE = {ItemState.QUEUED: "dim", ItemState.RUNNING: "bold",
                ItemState.DONE: "green", ItemState.FAILED: "bold red"}


def item_cells(item: UploadItem) -> dict[str, Cell]:
    """One upload as table cells."""
    state = Text(str(item.state), style=_STATE_STYLE[item.state])
    if item.state is ItemState.RUNNING and item.attempts > 1:
        state.append(f" #{item.attempts}", style="yellow")
    progress = f"{fmt.bar(item.fraction, 12)} {fmt.percent(item.fraction)}"
    note = item.reason if item.state is ItemState.FAILED else item.note
    return {
        "file": item.dest,
        "state": state,
        "progress": progress,
        "size": f"{fmt.size(item.bytes_sent)} / {fmt.size(item.total)}",
        "rate": fmt.rate(item.rate),
        "left": fmt.duration(item.eta_seconds) if item.state is ItemState.RUNNING else "",
        "note": Text(note, style="red" if item.state is ItemState.FAILED else "yellow"),
    }


def summary_line(center: UploadCenter) -> str:
    """Counts and totals for the line above the table."""
    if not center.batches:
        return ("No uploads yet. Press [b]n[/b] (or ctrl+p → Upload files…) to send graded/LOG "
                "dailies, thumbnails and ALE files.")
    counts = " · ".join(f"{center.count(s)} {s}" for s in ItemState if center.count(s))
    total = (f"{fmt.size(center.bytes_sent)} of {fmt.size(center.bytes_planned)}"
             f" · {fmt.rate(center.rate)}")
    if center.active:
        total += f" · {fmt.duration(center.eta_seconds)} left"
    return f"{counts}   {total}"


class UploadsView(Vertical):
    """Uploads of this session; ``n`` new upload, ``R`` retry failed, ``x`` cancel."""

    BINDINGS = [
        Binding("n", "new_upload", "Upload files…"),
        Binding("R", "retry_failed", "Retry failed"),
        Binding("x", "cancel_uploads", "Cancel uploads"),
    ]

    DEFAULT_CSS = """
    UploadsView { height: 1fr; }
    UploadsView > #uploads-summary { height: 1; padding: 0 1; background: $panel; }
    """

    def __init__(self, center: UploadCenter, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.center = center
        self._items: dict[int, UploadItem] = {}
        self._remove = lambda: None

    @classmethod
    def for_session(cls, session: Session, **kwargs: object) -> UploadsView:
        """Build the view on the session's API client."""
        center = getattr(session, "uploads", None) or UploadCenter(session.client)
        return cls(center, **kwargs)

    def compose(self) -> ComposeResult:
        yield Static(summary_line(self.center), id="uploads-summary")
        yield FastTable(UPLOAD_COLUMNS, self._cells, id="uploads-table")

    @property
    def table(self) -> FastTable:
        return self.query_one("#uploads-table", FastTable)

    def on_mount(self) -> None:
        self._remove = self.center.add_listener(self._center_changed)
        self._center_changed(self.center)

    async def on_unmount(self) -> None:
        self._remove()
        await self.center.aclose()

    def _cells(self, key: object) -> dict[str, Cell]:
        item = self._items.get(key)  # type: ignore[call-overload]
        return item_cells(item) if item is not None else {}

    def _center_changed(self, center: UploadCenter) -> None:
        items = center.items
        self._items = {id(i): i for i in items}
        keys = list(self._items)
        table = self.table
        if keys != table.keys:
            table.set_rows(keys)
        table.refresh_rows()
        self.query_one("#uploads-summary", Static).update(summary_line(center))

    # -- actions ----------------------------------------------------------------------------

    def action_new_upload(self) -> None:
        """Ask for paths, show the plan, start it when confirmed."""
        def chosen(plan: UploadPlan | None) -> None:
            if plan is not None and plan.ok:
                self.center.start(plan)
                self.notify(f"Uploading {len(plan.files)} file(s), {fmt.size(plan.total_bytes)}")

        self.app.push_screen(UploadDialog(self.center), chosen)

    def action_retry_failed(self) -> None:
        count = self.center.retry_failed()
        self.notify(f"Retrying {count} file(s)" if count else "No failed upload to retry")

    def action_cancel_uploads(self) -> None:
        if not self.center.active:
            self.notify("No upload is running")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.center.cancel_all()

        self.app.push_screen(ConfirmScreen(
            "Cancel uploads?", "Every running and queued file stops; files already delivered "
            "stay delivered. R sends the cancelled files again later."), answered)


def split_paths(text: str) -> list[str]:
    """Paths typed in one line: shell quoting works; ``~`` is expanded."""
    try:
        parts = shlex.split(text)
    except ValueError:
        parts = [text.strip()]
    return [os.path.expanduser(p) for p in parts if p]


def plan_text(result: PlanResult) -> Text:
    """The plan as the dialog shows it: destinations, warnings, refusals with advice."""
    plan = result.plan
    out = Text()
    if result.clips_problem:
        out.append(f"Cannot read the project's clips ({result.clips_problem}).\n", "yellow")
    for f in plan.files:
        out.append(f"{f.dest}", "bold")
        out.append(f"  {f.role} · {fmt.size(f.size)} · {f.source}\n", "dim")
    for w in plan.warnings:
        out.append(f"⚠ {w}\n", "yellow")
    for r in plan.refusals:
        out.append(f"✗ {r.source}: {r.reason}.\n", "bold red")
        out.append(f"    → {r.advice}\n", "red")
    if plan.refusals:
        out.append("Nothing will be sent until every refused file is renamed or left out.",
                   "bold")
    elif plan.files:
        out.append(f"{len(plan.files)} file(s), {fmt.size(plan.total_bytes)}: "
                   "press Upload (ctrl+u) to send.", "bold green")
    else:
        out.append("No files found.", "bold")
    return out


class UploadDialog(ModalScreen["UploadPlan | None"]):
    """Paths in, plan shown, upload confirmed: dismisses with the plan, or None."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "Cancel"),
        Binding("ctrl+u", "confirm", "Upload", priority=True),
    ]

    DEFAULT_CSS = """
    UploadDialog { align: center middle; }
    UploadDialog > Vertical {
        width: 100; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    UploadDialog #upload-plan { height: auto; max-height: 20; }
    UploadDialog Horizontal { height: auto; }
    UploadDialog Button { margin: 0 1; }
    """

    def __init__(self, center: UploadCenter) -> None:
        super().__init__()
        self.center = center
        self.plan: UploadPlan | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("[b]Upload files[/b] — folders are expanded; quote paths with spaces")
            yield Input(placeholder="/Volumes/RAID/Day01/_dailies  ~/ale/Day01.ale",
                        id="upload-paths")
            with Horizontal():
                yield Checkbox(".mp4 are LOG variants (_log/)", id="upload-log")
                yield Checkbox("send names that match no clip", id="upload-force")
            with VerticalScroll(id="upload-plan"):
                yield Static("Enter: check the plan.", id="upload-plan-text")
            with Horizontal():
                yield Button("Check (enter)", id="upload-check")
                yield Button("Upload (ctrl+u)", variant="primary", id="upload-go",
                             disabled=True)
                yield Button("Cancel (esc)", id="upload-cancel")

    def on_mount(self) -> None:
        self.query_one("#upload-paths", Input).focus()

    @on(Input.Submitted, "#upload-paths")
    @on(Button.Pressed, "#upload-check")
    def _check(self) -> None:
        self.make_plan()

    @on(Checkbox.Changed)
    def _options_changed(self) -> None:
        if self.plan is not None:
            self.make_plan()

    @on(Input.Changed, "#upload-paths")
    def _paths_changed(self) -> None:
        self.plan = None
        self.query_one("#upload-go", Button).disabled = True

    @on(Button.Pressed, "#upload-go")
    def _go(self) -> None:
        self.action_confirm()

    @on(Button.Pressed, "#upload-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def action_confirm(self) -> None:
        if self.plan is not None and self.plan.ok:
            self.dismiss(self.plan)

    @work(exclusive=True, group="upload-plan", exit_on_error=False)
    async def make_plan(self) -> None:
        """Plan the typed paths against the project's clips and show the result."""
        paths = split_paths(self.query_one("#upload-paths", Input).value)
        text = self.query_one("#upload-plan-text", Static)
        if not paths:
            text.update("Type at least one file or folder.")
            return
        text.update("Checking…")
        try:
            result = await self.center.plan(
                paths, log=self.query_one("#upload-log", Checkbox).value,
                force=self.query_one("#upload-force", Checkbox).value)
        except ApiError as exc:
            self.plan = None
            text.update(Text(f"Cannot check the plan: {exc}", "bold red"))
            return
        self.plan = result.plan
        text.update(plan_text(result))
        self.query_one("#upload-go", Button).disabled = not result.plan.ok


class UploadCommands(Provider):
    """The palette's "Upload files…": shows the Uploads view and opens the dialog."""

    TEXT = "Upload files…"
    HELP = "plan and send graded/LOG dailies, thumbnails and ALE files"

    async def discover(self) -> Hits:
        yield DiscoveryHit(self.TEXT, self._run, help=self.HELP)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        score = matcher.match(self.TEXT)
        if score > 0:
            yield Hit(score, matcher.highlight(self.TEXT), self._run, help=self.HELP)

    def _run(self) -> None:
        base = self.app.screen_stack[0]
        views = base.query(UploadsView)
        if not views:
            self.app.notify("The Uploads view is not available", severity="warning")
            return
        show_view = getattr(base, "show_view", None)
        if show_view is not None and views.first().id:
            show_view(views.first().id)
        views.first().action_new_upload()

