"""The Jobs view: totals, a throughput graph and one row per job, updated in place.

Keys: ``enter`` details, ``a`` mark read (``A`` every finished job), ``p`` pause / resume,
``x`` abort (both ask first), ``f`` cycles the state groups, ``/`` filters as you type.
Alerts (finished / failed / stalled jobs) show as notices, ring the bell and, when enabled,
send a desktop notice through the terminal.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Key
from textual.widgets import Input, Sparkline, Static

from odailies_tui.api.errors import InvalidToken, PermissionDenied
from odailies_tui.core import formatting as fmt
from odailies_tui.core.alerts import Alert, AlertCenter, desktop_notice, summarize
from odailies_tui.core.job_actions import JobActions, PlannedAction, plan_abort, plan_toggle
from odailies_tui.core.jobboard import (
    JobBoard,
    TrackedJob,
    filter_label,
    job_matches,
    next_filter_mode,
)
from odailies_tui.ui.confirm import ConfirmScreen
from odailies_tui.ui.messages import JobsPolled
from odailies_tui.ui.widgets.fast_table import Column, FastTable

if TYPE_CHECKING:
    from odailies_tui.core.session import Session

OUTCOME_STYLE = {
    "running": "bold cyan",
    "waiting": "yellow",
    "succeeded": "green",
    "failed": "bold red",
    "other": "magenta",
}
#: rows that need the user: failed and not acknowledged, or stalled
FAILED_ROW = "on #5f0000"
STALLED_ROW = "on #5f5f00"
HIGHLIGHT_TEXT = "bold bright_white"

JOB_COLUMNS = (
    Column("name", "Name", 16, priority=100, flex=True),
    Column("type", "Type", 9, priority=75),
    Column("state", "State", 11, priority=90),
    Column("progress", "Progress", 15, priority=95),
    Column("rate", "Throughput", 11, priority=85, justify="right"),
    Column("left", "Time left", 11, priority=80),
    Column("started", "Started", 12, priority=30),
    Column("finished", "Finished", 12, priority=20),
)
BAR_WIDTH = 10
_TYPE_NAMES = {"DailiesUploadJob": "Dailies", "unknown": "?"}


def short_type(job_type: str) -> str:
    """``CopyJob`` → ``Copy``; unknown types stay as they come, less a ``Job`` suffix."""
    if job_type in _TYPE_NAMES:
        return _TYPE_NAMES[job_type]
    return job_type[:-3] if job_type.endswith("Job") and len(job_type) > 3 else job_type
WRITE_ACTIONS = ("mark_read", "mark_all_read", "toggle_pause", "abort")
WRITE_KEYS = {"a": "mark read", "A": "mark read", "p": "pause or resume", "x": "abort"}


def job_cells(tracked: TrackedJob, attention: str = "") -> dict[str, str | Text]:
    """The cells of one job's row; ``attention`` is "", "failed" or "stalled"."""
    job = tracked.job
    style = HIGHLIGHT_TEXT if attention else OUTCOME_STYLE[tracked.outcome]
    progress = Text(fmt.bar(job.progress, BAR_WIDTH), style=style)
    progress.append(f" {fmt.percent(job.progress):>4}")
    if tracked.outcome == "running":
        left = (fmt.duration(tracked.seconds_left, estimated=tracked.seconds_left_estimated)
                if tracked.seconds_left is not None else (job.remaining or "—"))
        rate = fmt.rate(tracked.throughput, estimated=tracked.throughput_estimated)
    else:
        left = ""
        rate = ""
    state = "STALLED" if attention == "stalled" else job.state
    return {
        "name": job.name or job.id,
        "type": short_type(job.type),
        "state": Text(state, style=style),
        "progress": progress,
        "rate": rate,
        "left": left,
        "started": fmt.clock(job.start_date),
        "finished": fmt.clock(job.finish_date),
    }


class OneLine(Static):
    """A fixed-size line of text that repaints only when its text changes, and never asks
    for a new layout (a layout pass costs far more than painting one line)."""

    _shown: Text | str | None = None

    def show(self, text: Text | str) -> None:
        if text != self._shown:
            self._shown = text
            self.update(text, layout=False)


class StatusLine(OneLine):
    """Totals across running jobs and how fresh they are; OFFLINE when polls fail."""

    DEFAULT_CSS = """
    StatusLine { height: 1; padding: 0 1; background: $panel; }
    StatusLine.-offline { background: $error; color: $text; text-style: bold; }
    """

    def show_board(self, board: JobBoard, next_poll_at: float | None, *,
                   extra: str = "") -> None:
        """Render the line from the board's state (times from the board's own clock).

        A token the service rejects is said as such (retrying will not help); OFFLINE shows
        only once polls have failed twice in a row, so one dropped poll on a lossy link does
        not flash a banner across the room."""
        now = board.clock()
        error = board.last_error
        rejected = isinstance(error, (InvalidToken, PermissionDenied))
        offline = error is not None and (rejected or board.failures >= OFFLINE_AFTER
                                         or board.last_ok is None)
        self.set_class(offline, "-offline")
        if offline and error is not None:
            # what matters first (the reason can be long: it goes last)
            parts = ["TOKEN REJECTED" if rejected else "OFFLINE"]
            if board.last_ok is not None and board.last_ok_at is not None:
                parts.append(f"last good poll {board.last_ok_at.strftime('%H:%M:%S')} "
                             f"({fmt.ago(now - board.last_ok)})")
            elif board.last_ok is None:
                parts.append("no data yet")
            if rejected:
                parts.append(str(error))
                parts.append("run `odailies-tui login` or set ODAILIES_TOKEN")
            else:
                if next_poll_at is not None:
                    parts.append(f"retry in {max(int(next_poll_at - now), 0)} s")
                parts.append(str(error))
            self.show(Text(" · ".join(parts), no_wrap=True, overflow="ellipsis"))
            return
        if error is not None:  # one failed poll after good ones: say it quietly
            extra = f"{extra} · last poll failed, retrying" if extra else \
                "last poll failed, retrying"
        if board.last_ok is None:
            self.show(Text("connecting…"))
            return
        totals = board.totals()
        text = Text()
        text.append(f"{totals.running} running", style="bold cyan" if totals.running else "")
        if totals.waiting:
            text.append(f" · {totals.waiting} waiting", style="yellow")
        if totals.running:
            text.append(" · " + fmt.rate(totals.throughput, estimated=totals.throughput_estimated))
            left = fmt.short_duration(totals.seconds_left)
            if totals.seconds_left is not None and totals.seconds_left_estimated:
                left = "~" + left
            text.append(f" · {left} left")
        if totals.failed:
            text.append(f" · {totals.failed} failed", style="bold red")
        if extra:
            text.append(f" · {extra}", style="bold")
        text.append(f" · updated {fmt.ago(now - board.last_ok)}", style="dim")
        self.show(text)


GRAPH_POINTS = 150
#: consecutive failed polls before the status line turns into the OFFLINE banner
OFFLINE_AFTER = 2


def graph_values(board: JobBoard, points: int = GRAPH_POINTS) -> list[float]:
    """The last ``points`` total throughput samples (bytes/s), oldest first, padded with
    zeros on the left so the graph keeps its scale from zero and fills up from the right."""
    values = [bps for _, bps in board.throughput_history][-points:]
    return [0.0] * (points - len(values)) + values


class ThroughputGraph(Horizontal):
    """Total throughput over the last minutes: a one-line sparkline with its peak."""

    DEFAULT_CSS = """
    ThroughputGraph { height: 1; padding: 0 1; }
    ThroughputGraph > .graph-label { width: auto; color: $text-muted; }
    ThroughputGraph > Sparkline { width: 1fr; height: 1; margin: 0 1; }
    ThroughputGraph > .graph-peak { width: 26; color: $text-muted; text-align: right; }
    """

    def __init__(self, board: JobBoard, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.board = board

    def compose(self) -> ComposeResult:
        yield Static("throughput", classes="graph-label")
        yield Sparkline([], summary_function=max)
        yield OneLine("", classes="graph-peak")

    def update_graph(self) -> None:
        values = graph_values(self.board)
        self.query_one(Sparkline).data = values
        history = self.board.throughput_history
        samples = min(len(history), GRAPH_POINTS)
        span = history[-1][0] - history[-samples][0] if samples > 1 else 0.0
        peak = max(values)
        self.query_one(".graph-peak", OneLine).show(
            f"{fmt.short_duration(span)} · peak {fmt.rate(peak) if peak else '—'}")


class JobsView(Vertical):
    """Every job of the project, newest first, updated in place."""

    #: keys the help screen lists that are not bindings (the table handles them)
    HELP_EXTRA = (("enter", "Job details"),)

    BINDINGS = [
        Binding("r", "app.refresh_jobs", "Refresh", show=False),
        Binding("a", "mark_read", "Read"),
        Binding("A", "mark_all_read", "All read", show=False),
        Binding("p", "toggle_pause", "Pause"),
        Binding("x", "abort", "Abort"),
        Binding("f", "cycle_filter", "Group"),
        Binding("slash", "start_filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    DEFAULT_CSS = """
    JobsView { height: 1fr; }
    JobsView > #jobs-filter { dock: bottom; height: 1; border: none; padding: 0 1; display: none; }
    JobsView > #jobs-filter.-shown { display: block; }
    """

    def __init__(self, board: JobBoard, *, alerts: AlertCenter | None = None,
                 actions: JobActions | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.board = board
        self.alerts = alerts if alerts is not None else AlertCenter()
        self.actions = actions
        self.next_poll_at: float | None = None
        self.filter_mode = "all"
        self.filter_text = ""
        self._attention: dict[str, str] = {}

    @classmethod
    def for_session(cls, session: Session, **kwargs: object) -> JobsView:
        """The Jobs view wired to a session's board, alerts and actions."""
        return cls(session.board, alerts=session.alerts, actions=session.actions, **kwargs)

    def compose(self) -> ComposeResult:
        yield StatusLine(id="jobs-status")
        yield ThroughputGraph(self.board, id="jobs-graph")
        yield FastTable(JOB_COLUMNS, self._cells, row_style=self._row_style, id="jobs-table")
        yield Input(placeholder="filter jobs: name, type, state, path (escape clears)",
                    id="jobs-filter")

    @property
    def table(self) -> FastTable:
        return self.query_one("#jobs-table", FastTable)

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)
        self._tick()

    # -- rendering ----------------------------------------------------------------------------

    def _tick(self) -> None:
        extra = []
        if self.filter_mode != "all":
            extra.append(filter_label(self.filter_mode))
        if self.filter_text:
            extra.append(f"“{self.filter_text}”")
        if self.actions is not None and self.actions.read_only:
            extra.append("read-only")
        self.query_one(StatusLine).show_board(self.board, self.next_poll_at,
                                              extra=" ".join(extra))

    def _cells(self, key: object) -> dict[str, str | Text]:
        tracked = self.board.jobs.get(str(key))
        if tracked is None:
            return {}
        return job_cells(tracked, self._attention.get(tracked.id, ""))

    def _row_style(self, key: object) -> str | None:
        attention = self._attention.get(str(key))
        if attention == "failed":
            return FAILED_ROW
        if attention == "stalled":
            return STALLED_ROW
        return None

    def _attention_map(self) -> dict[str, str]:
        marks = {job_id: "stalled" for job_id in self.alerts.stalled}
        marks.update({job_id: "failed" for job_id in self.alerts.unacknowledged})
        return marks

    def visible_keys(self) -> list[str]:
        """Job ids shown with the current group and filter, newest first."""
        if self.filter_mode == "all" and not self.filter_text:
            return list(self.board.order)
        jobs = self.board.jobs
        return [i for i in self.board.order
                if job_matches(jobs[i], self.filter_mode, self.filter_text,
                               self.alerts.needs_attention)]

    def _restyle(self) -> None:
        """Refresh the rows whose highlight changed."""
        marks = self._attention_map()
        changed = {k for k in marks.keys() | self._attention.keys()
                   if marks.get(k) != self._attention.get(k)}
        self._attention = marks
        for job_id in changed:
            self.table.refresh_row(job_id)

    @on(JobsPolled)
    def apply_poll(self, message: JobsPolled) -> None:
        """Apply one poll in place: new order only when jobs came or went (or, with a filter,
        when a job changed); then announce what needs the user."""
        result = message.result
        self.announce_all(self.alerts.process(result, self.board))
        table = self.table
        filtered = self.filter_mode != "all" or bool(self.filter_text)
        if (result.added or result.removed or table.row_count != len(self.board.order)
                or (filtered and (result.changed or result.full))):
            self._show_rows()
        # only on-screen lines whose cells really changed are repainted
        table.refresh_changed(result.changed)
        self._restyle()
        if result.ok:
            self.query_one(ThroughputGraph).update_graph()
            if self.actions is not None and self.actions.can_write is None:
                self._probe_write()
        self._tick()

    # -- alerts -------------------------------------------------------------------------------

    def announce_all(self, alerts: list[Alert]) -> None:
        """Show one poll's alerts: notices (many are summed up), one bell, desktop notices
        when enabled."""
        if not alerts:
            return
        for alert in summarize(alerts):
            timeout = 30.0 if alert.severity == "error" else 8.0
            self.app.notify(alert.message, title=alert.title,
                            severity=alert.severity,  # type: ignore[arg-type]
                            timeout=timeout, markup=False)
            if alert.desktop:
                self._desktop(alert)
        if any(alert.bell for alert in alerts):
            self.app.bell()

    def _desktop(self, alert: Alert) -> None:
        seq = desktop_notice(alert, self.alerts.policy.desktop,
                             in_tmux=bool(os.environ.get("TMUX")))
        driver = self.app._driver
        if seq and driver is not None and not self.app.is_headless:
            driver.write(seq)

    # -- actions ------------------------------------------------------------------------------

    def selected(self) -> TrackedJob | None:
        """The job under the cursor."""
        key = self.table.cursor_key
        return self.board.jobs.get(str(key)) if key is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS and self.actions is not None and self.actions.read_only:
            return None  # shown greyed out; the key says why (see on_key)
        return True

    def on_key(self, event: Key) -> None:
        if (event.key in WRITE_KEYS and self.actions is not None and self.actions.read_only
                and not isinstance(self.app.focused, Input)):
            event.stop()
            what = WRITE_KEYS[event.key]
            if event.key in ("a", "A"):
                self._acknowledge_locally(event.key == "A")
            self.app.notify(f"Cannot {what}: {self.actions.denied_reason}",
                            title="Read-only token", severity="warning", markup=False)

    def _acknowledge_locally(self, everything: bool) -> None:
        if everything:
            self.alerts.acknowledge_all()
        elif (tracked := self.selected()) is not None:
            self.alerts.acknowledge(tracked.id)
        self._restyle()

    @on(FastTable.Activated, "#jobs-table")
    def _activated(self, event: FastTable.Activated) -> None:
        event.stop()
        self.action_details()

    def action_details(self) -> None:
        """``enter``: every field of the selected job, and its history."""
        from odailies_tui.ui.job_detail import JobDetailScreen

        tracked = self.selected()
        if tracked is None or isinstance(self.app.screen, JobDetailScreen):
            return

        self.app.push_screen(JobDetailScreen(self.board, tracked.id, self.alerts))

    def action_mark_read(self) -> None:
        """``a``: mark the selected job read (acknowledges its alert)."""
        tracked = self.selected()
        if tracked is None:
            return
        self.alerts.acknowledge(tracked.id)
        self._restyle()
        if tracked.job.read:
            self.app.notify(f"{tracked.job.name or tracked.id} is already read", timeout=3)
            return
        self._mark_read([tracked.id])

    def action_mark_all_read(self) -> None:
        """``A``: mark every finished job read."""
        self.alerts.acknowledge_all()
        self._restyle()
        if self.actions is None:
            return
        todo = JobActions.finished_unread(t.job for t in self.board.jobs.values())
        if not todo:
            self.app.notify("No unread finished jobs", timeout=3)
            return
        self._mark_read([j.id for j in todo])

    def action_toggle_pause(self) -> None:
        """``p``: pause a running job / resume a paused one, after asking."""
        tracked = self.selected()
        if tracked is not None:
            self._ask_and_send(tracked, plan_toggle(tracked.job))

    def action_abort(self) -> None:
        """``x``: abort the selected job, after asking."""
        tracked = self.selected()
        if tracked is not None:
            self._ask_and_send(tracked, plan_abort(tracked.job))

    def _ask_and_send(self, tracked: TrackedJob, planned: PlannedAction) -> None:
        if self.actions is None:
            return
        name = tracked.job.name or tracked.id
        if not planned.possible:
            self.app.notify(f"Cannot {planned.verb} {name}: {planned.reason}",
                            severity="warning", markup=False)
            return
        question = (f"{planned.verb.capitalize()} “{name}” ({tracked.job.type}, "
                    f"{tracked.job.state}, {fmt.percent(tracked.job.progress)})?\n"
                    f"Sends state {planned.state} to o/DAILIES.")

        def answered(yes: bool | None) -> None:
            if yes:
                self._send_state(tracked.id, planned)

        self.app.push_screen(ConfirmScreen(f"{planned.verb.capitalize()} job", question,
                                           yes=planned.verb.capitalize()), answered)

    @work(group="job-actions", exit_on_error=False, description="change a job")
    async def _send_state(self, job_id: str, planned: PlannedAction) -> None:
        assert self.actions is not None
        tracked = self.board.jobs.get(job_id)
        if tracked is None:
            return
        result = await self.actions.set_state(tracked.job, planned)
        self._report(result.ok, result.message)

    @work(group="job-actions", exit_on_error=False, description="mark jobs read")
    async def _mark_read(self, job_ids: list[str]) -> None:
        assert self.actions is not None
        jobs = [self.board.jobs[i].job for i in job_ids if i in self.board.jobs]
        result = await self.actions.mark_read(jobs)
        self._report(result.ok, result.message)

    def _report(self, ok: bool, message: str) -> None:
        self.app.notify(message, title="o/DAILIES" if ok else "Not done",
                        severity="information" if ok else "warning", markup=False)
        self.refresh_bindings()
        self._tick()
        refresh = getattr(self.app, "action_refresh_jobs", None)
        if ok and refresh is not None:
            refresh()  # show the server's new state now

    @work(group="job-probe", exclusive=True, exit_on_error=False,
          description="check write permission")
    async def _probe_write(self) -> None:
        assert self.actions is not None
        await self.actions.check_write()
        self.refresh_bindings()
        self._tick()

    # -- grouping and filter -------------------------------------------------------------------

    def _show_rows(self) -> None:
        """Show the jobs the group and filter let through (or say why there are none)."""
        table = self.table
        keys = self.visible_keys()
        if self.filter_text:
            table.empty_text = f"no job matches “{self.filter_text}” (escape clears)"
        elif self.filter_mode != "all":
            group = filter_label(self.filter_mode)
            table.empty_text = f"nothing in “{group}” (f shows the next group)"
        else:
            table.empty_text = "no jobs yet" if self.board.last_ok is not None else ""
        table.set_rows(keys)

    def action_cycle_filter(self) -> None:
        """``f``: all → active → needs attention → done."""
        self.filter_mode = next_filter_mode(self.filter_mode)
        self._show_rows()
        self._tick()

    def action_start_filter(self) -> None:
        """``/``: type to filter; ``enter`` returns to the table, ``escape`` clears."""
        box = self.query_one("#jobs-filter", Input)
        box.add_class("-shown")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#jobs-filter", Input)
        box.value = ""
        box.remove_class("-shown")
        self.filter_text = ""
        self._show_rows()
        self.table.focus()
        self._tick()

    @on(Input.Changed, "#jobs-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self._show_rows()
        self._tick()

    @on(Input.Submitted, "#jobs-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.query_one("#jobs-filter", Input).remove_class("-shown")
        self.table.focus()
