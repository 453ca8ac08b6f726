"""The Jobs view: one row per job, totals and freshness in a status line above."""

from __future__ import annotations

import time

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from odailies_tui.core import formatting as fmt
from odailies_tui.core.jobboard import JobBoard, TrackedJob
from odailies_tui.ui.messages import JobsPolled
from odailies_tui.ui.widgets.fast_table import Column, FastTable

OUTCOME_STYLE = {
    "running": "bold cyan",
    "waiting": "yellow",
    "succeeded": "green",
    "failed": "bold red",
    "other": "magenta",
}

JOB_COLUMNS = (
    Column("name", "Name", 18, priority=100, flex=True),
    Column("type", "Type", 16, priority=40),
    Column("state", "State", 11, priority=90),
    Column("progress", "Progress", 15, priority=95),
    Column("rate", "Throughput", 11, priority=85, justify="right"),
    Column("left", "Time left", 12, priority=80),
    Column("started", "Started", 12, priority=30),
    Column("finished", "Finished", 12, priority=20),
)
BAR_WIDTH = 10


def job_cells(tracked: TrackedJob) -> dict[str, str | Text]:
    """The cells of one job's row."""
    job = tracked.job
    style = OUTCOME_STYLE[tracked.outcome]
    progress = Text(fmt.bar(job.progress, BAR_WIDTH), style=style)
    progress.append(f" {fmt.percent(job.progress):>4}")
    if tracked.outcome == "running":
        left = (fmt.duration(tracked.seconds_left, estimated=tracked.seconds_left_estimated)
                if tracked.seconds_left is not None else (job.remaining or "—"))
        rate = fmt.rate(tracked.throughput, estimated=tracked.throughput_estimated)
    else:
        left = ""
        rate = ""
    return {
        "name": job.name or job.id,
        "type": job.type,
        "state": Text(job.state, style=style),
        "progress": progress,
        "rate": rate,
        "left": left,
        "started": fmt.clock(job.start_date),
        "finished": fmt.clock(job.finish_date),
    }


class StatusLine(Static):
    """Totals across running jobs and how fresh they are; OFFLINE when polls fail."""

    DEFAULT_CSS = """
    StatusLine { height: 1; padding: 0 1; background: $panel; }
    StatusLine.-offline { background: $error; color: $text; text-style: bold; }
    """

    def show_board(self, board: JobBoard, next_poll_at: float | None) -> None:
        """Render the line from the board's state."""
        now = time.monotonic()
        self.set_class(board.offline, "-offline")
        if board.offline and board.last_error is not None:
            parts = [f"OFFLINE — {board.last_error}"]
            if board.last_ok is not None:
                parts.append(f"last good poll {fmt.ago(now - board.last_ok)}")
            if next_poll_at is not None:
                parts.append(f"retrying in {max(int(next_poll_at - now), 0)} s")
            self.update(Text(" · ".join(parts)))
            return
        if board.last_ok is None:
            self.update(Text("connecting…"))
            return
        totals = board.totals()
        text = Text()
        text.append(f"{totals.running} running", style="bold cyan" if totals.running else "")
        if totals.waiting:
            text.append(f" · {totals.waiting} waiting", style="yellow")
        if totals.running:
            text.append(" · " + fmt.rate(totals.throughput, estimated=totals.throughput_estimated))
            text.append(" · " + fmt.duration(totals.seconds_left,
                                             estimated=totals.seconds_left_estimated) + " left")
        if totals.failed:
            text.append(f" · {totals.failed} failed", style="bold red")
        text.append(f" · updated {fmt.ago(now - board.last_ok)}", style="dim")
        self.update(text)


class JobsView(Vertical):
    """Every job of the project, newest first, updated in place."""

    BINDINGS = [
        Binding("r", "app.refresh_jobs", "Refresh"),
    ]

    DEFAULT_CSS = """
    JobsView { height: 1fr; }
    """

    def __init__(self, board: JobBoard, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.board = board
        self.next_poll_at: float | None = None

    def compose(self) -> ComposeResult:
        yield StatusLine(id="jobs-status")
        yield FastTable(JOB_COLUMNS, self._cells, id="jobs-table")

    @property
    def table(self) -> FastTable:
        return self.query_one("#jobs-table", FastTable)

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)
        self._tick()

    def _tick(self) -> None:
        self.query_one(StatusLine).show_board(self.board, self.next_poll_at)

    def _cells(self, key: object) -> dict[str, str | Text]:
        tracked = self.board.jobs.get(str(key))
        return job_cells(tracked) if tracked is not None else {}

    @on(JobsPolled)
    def apply_poll(self, message: JobsPolled) -> None:
        """Apply one poll in place: new order only when jobs came or went."""
        result = message.result
        table = self.table
        if result.added or result.removed or table.row_count != len(self.board.order):
            table.set_rows(self.board.order)
        for job_id in result.changed:
            table.refresh_row(job_id)
        self._tick()
