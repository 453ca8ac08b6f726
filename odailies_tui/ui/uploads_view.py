"""The Uploads view: every queued, running, done, failed and cancelled upload, with progress,
throughput, time left and why a file waits or failed; ``enter`` shows one file's details; ``n``
(or the palette's "Upload files…") plans new files and asks first.

Fed by a ``core.upload_center.UploadCenter`` through its listener hook: no polling.
"""

from __future__ import annotations

import math
import os
import shlex
import time
from typing import TYPE_CHECKING

from rich.markup import escape
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
from odailies_tui.core.upload_run import ItemState, UploadItem, gist
from odailies_tui.ui.confirm import ConfirmScreen
from odailies_tui.ui.widgets.fast_table import Cell, Column, FastTable

if TYPE_CHECKING:
    from odailies_tui.core.session import Session

#: the Note column (why a file waits or failed) wins space over Sent / size: at 80 columns
#: File, State, Progress, Rate · left and Note show; Sent / size joins them past 100
UPLOAD_COLUMNS = (
    Column("file", "File", 18, priority=100, flex=True),
    Column("state", "State", 10, priority=90),
    Column("progress", "Progress", 13, priority=80),
    Column("size", "Sent / size", 21, priority=40, justify="right"),
    Column("rate", "Rate · left", 16, priority=70, justify="right"),
    Column("note", "Note", 18, priority=65, flex=True),
)

_STATE_STYLE = {ItemState.QUEUED: "dim", ItemState.RUNNING: "bold",
                ItemState.DONE: "green", ItemState.FAILED: "bold red",
                ItemState.CANCELLED: "yellow"}


def state_label(item: UploadItem) -> Text:
    """``running #2``, ``retrying``, ``failed``, ``cancelled``..."""
    if item.waiting:
        assert item.retry_at is not None
        left = max(math.ceil(item.retry_at - time.monotonic()), 0)
        return Text(f"retry {left} s" if left else "retrying", style="bold yellow")
    state = Text(str(item.state), style=_STATE_STYLE[item.state])
    if item.state is ItemState.RUNNING and item.attempts > 1:
        state.append(f" #{item.attempts}", style="yellow")
    elif item.state is ItemState.FAILED and item.attempts > 1:
        state.append(f" ×{item.attempts}")
    return state


def row_note(item: UploadItem) -> str:
    """The Note cell: the gist of why a file waits or failed, else what it is doing."""
    if item.waiting:
        return gist(item.last_error)
    if item.state is ItemState.FAILED:
        return gist(item.last_error or item.reason)
    if item.state is ItemState.CANCELLED:
        return "R sends it again"
    if item.state is ItemState.DONE and item.attempts > 1:
        return f"took {item.attempts} tries"
    return item.status_note(brief=True)


def item_cells(item: UploadItem) -> dict[str, Cell]:
    """One upload as table cells."""
    progress = f"{fmt.bar(item.fraction, 8)} {fmt.percent(item.fraction)}"
    note_style = {ItemState.FAILED: "red", ItemState.CANCELLED: "yellow",
                  ItemState.DONE: "dim"}.get(item.state, "yellow")
    return {
        "file": item.dest,
        "state": state_label(item),
        "progress": progress,
        "size": f"{fmt.size(item.bytes_sent)} / {fmt.size(item.total)}",
        "rate": _rate_left(item),
        "note": Text(row_note(item), style=note_style),
    }


def _rate_left(item: UploadItem) -> str:
    """``62.5 MB/s 32s`` while running (``—`` when nothing moves), the average once done."""
    if item.state is ItemState.DONE:
        return fmt.rate(item.rate)
    if item.state is not ItemState.RUNNING or item.rate is None:
        return "—" if item.state is ItemState.RUNNING else ""
    return f"{fmt.rate(item.rate)} {fmt.short_duration(item.eta_seconds)}"


def summary_line(center: UploadCenter) -> str:
    """Counts, totals (failed and cancelled files included) and any connection problem."""
    problem = center.connection_problem
    warning = ""
    if problem:
        retrying = ", retrying" if center.active else ""
        warning = f"[b red]cannot reach o/DAILIES: {escape(gist(problem))}{retrying}[/] · "
    if not center.batches:
        return warning + ("No uploads yet. Press [b]n[/b] (or ctrl+p → Upload files…) to send "
                          "graded/LOG dailies, thumbnails and ALE files.")
    counts = " · ".join(f"{center.count(s)} {s}" for s in ItemState if center.count(s))
    total = f"{fmt.size(center.bytes_sent)} of {fmt.size(center.bytes_planned)}"
    if center.active and center.rate:
        total += f" · {fmt.rate(center.rate)} · {fmt.duration(center.eta_seconds)} left"
    elif center.rate:
        total += f" · {fmt.rate(center.rate)}"
    return f"{warning}{counts}   {total}"


def detail_text(item: UploadItem) -> Text:
    """Everything known about one upload, for the detail dialog."""
    out = Text()

    def line(label: str, value: str, style: str = "") -> None:
        out.append(f"{label:<12}", "dim")
        out.append(f"{value}\n", style)

    line("File", str(item.file.source))
    line("Destination", item.dest, "bold")
    line("Role", str(item.file.role))
    line("Size", f"{fmt.size(item.total)} ({item.total:,} bytes)")
    line("State", state_label(item).plain, _STATE_STYLE[item.state])
    line("Sent", f"{fmt.size(item.bytes_sent)} ({fmt.percent(item.fraction)})")
    line("Attempts", f"{item.attempts} of {item.max_attempts} allowed")
    if item.elapsed is not None:
        line("Time", fmt.duration(item.elapsed))
    if item.state is ItemState.RUNNING or item.state is ItemState.DONE:
        line("Rate", fmt.rate(item.rate))
    if item.state in (ItemState.FAILED, ItemState.CANCELLED):
        line("Reason", item.reason or "—", "red")
    elif item.status_note():
        line("Now", item.status_note(), "yellow")
    line("Last error", item.last_error or "none", "red" if item.last_error else "dim")
    return out


class UploadDetail(ModalScreen[None]):
    """One upload's path, destination, size, attempts and last error; esc closes."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close")]

    DEFAULT_CSS = """
    UploadDetail { align: center middle; }
    UploadDetail > Vertical {
        width: 90; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, item: UploadItem, center: UploadCenter) -> None:
        super().__init__()
        self.item, self.center = item, center
        self._remove = lambda: None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"[b]Upload[/b] {escape(self.item.dest)}")
            yield Static(detail_text(self.item), id="upload-detail-text")
            yield Static("[dim]esc closes · R in the list resends failed "
                         "and cancelled files[/dim]")

    def on_mount(self) -> None:
        self._remove = self.center.add_listener(self._changed)

    def on_unmount(self) -> None:
        self._remove()

    def _changed(self, _center: UploadCenter) -> None:
        self.query_one("#upload-detail-text", Static).update(detail_text(self.item))


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

    @on(FastTable.Activated, "#uploads-table")
    def _show_detail(self, event: FastTable.Activated) -> None:
        event.stop()
        item = self._items.get(event.key)  # type: ignore[call-overload]
        if item is not None:
            self.app.push_screen(UploadDetail(item, self.center))

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
        self.notify(f"Sending {count} failed or cancelled file(s) again" if count
                    else "No failed or cancelled upload to send again")

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
    if plan.refusals and plan.files:
        out.append(f"Nothing is sent yet. Rename the refused files and check again (enter), "
                   f"or press ctrl+u to upload the {len(plan.files)} good file(s) and skip "
                   f"the {len(plan.refusals)} refused (asks first).", "bold")
    elif plan.refusals:
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
    UploadDialog #upload-go { width: auto; }
    """

    def __init__(self, center: UploadCenter) -> None:
        super().__init__()
        self.center = center
        self.plan: UploadPlan | None = None
        #: the paths and options ``plan`` was made for
        self.planned_for: tuple[tuple[str, ...], bool, bool] | None = None

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
        self._update_go()

    def _request(self) -> tuple[tuple[str, ...], bool, bool]:
        """What is typed and ticked now."""
        return (tuple(split_paths(self.query_one("#upload-paths", Input).value)),
                self.query_one("#upload-log", Checkbox).value,
                self.query_one("#upload-force", Checkbox).value)

    @property
    def plan_is_current(self) -> bool:
        """True when the shown plan was made for what is typed and ticked now."""
        return self.plan is not None and self.planned_for == self._request()

    def _update_go(self) -> None:
        go = self.query_one("#upload-go", Button)
        if not self.plan_is_current:
            go.label = "Check + upload (ctrl+u)"
            go.disabled = not self._request()[0]
        else:
            assert self.plan is not None
            go.disabled = not self.plan.files
            go.label = (f"Upload {len(self.plan.files)} good (ctrl+u)"
                        if self.plan.refusals and self.plan.files else "Upload (ctrl+u)")

    @on(Button.Pressed, "#upload-go")
    def _go(self) -> None:
        self.action_confirm()

    @on(Button.Pressed, "#upload-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def action_confirm(self) -> None:
        """ctrl+u: upload the shown plan; plan first when the paths or options changed."""
        if not self.plan_is_current:
            self.make_plan(confirm=True)
            return
        assert self.plan is not None
        self._confirm(self.plan)

    def _confirm(self, plan: UploadPlan) -> None:
        if plan.ok:
            self.dismiss(plan)
            return
        if not plan.files:
            self.notify("Nothing to upload: every file is refused (see the advice) "
                        "or none was found.", severity="warning")
            return
        good, refused = len(plan.files), len(plan.refusals)
        names = ", ".join(r.source.name for r in plan.refusals[:3])
        more = f" and {refused - 3} more" if refused > 3 else ""

        def answered(yes: bool | None) -> None:
            if yes and self.plan is plan and self.plan_is_current:
                self.dismiss(plan.good_files_only())

        self.app.push_screen(ConfirmScreen(
            f"Upload {good} good file(s), skip {refused} refused?",
            f"{fmt.size(plan.total_bytes)} will be sent. Not sent: {names}{more} "
            "(rename them and upload them later).",
            yes=f"Upload {good}", no="Back"), answered)

    @work(exclusive=True, group="upload-plan", exit_on_error=False)
    async def make_plan(self, confirm: bool = False) -> None:
        """Plan the typed paths against the project's clips and show the result.

        ``confirm`` (ctrl+u): start at once when nothing is refused; otherwise show the plan
        and say that ctrl+u asks about the good files.
        """
        request = self._request()
        paths, log, force = request
        text = self.query_one("#upload-plan-text", Static)
        if not paths:
            text.update("Type at least one file or folder.")
            if confirm:
                self.notify("Type at least one file or folder first.", severity="warning")
            return
        text.update("Checking…")
        try:
            result = await self.center.plan(paths, log=log, force=force)
        except ApiError as exc:
            self.plan, self.planned_for = None, None
            text.update(Text(f"Cannot check the plan: {exc}", "bold red"))
            if confirm:
                self.notify(f"Nothing sent: cannot check the plan ({exc})", severity="error")
            self._update_go()
            return
        self.plan, self.planned_for = result.plan, request
        text.update(plan_text(result))
        self._update_go()
        if not confirm:
            return
        if result.plan.ok:
            self.dismiss(result.plan)
        elif result.plan.files:
            self.notify(f"{len(result.plan.refusals)} file(s) refused: read the plan; "
                        f"ctrl+u again uploads the {len(result.plan.files)} good one(s).",
                        severity="warning")
        else:
            self.notify("Nothing to upload: every file is refused (see the advice) "
                        "or none was found.", severity="warning")


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

