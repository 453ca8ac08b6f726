"""The wall layout (``--wall``): large totals, the throughput graph, and only the jobs that
matter from across the room (running, or failed and not yet acknowledged)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Digits, Sparkline

from odailies_tui.core import formatting as fmt
from odailies_tui.core.alerts import AlertCenter
from odailies_tui.core.jobboard import JobBoard, Totals
from odailies_tui.ui.jobs_view import JOB_COLUMNS, OneLine, StatusLine, graph_values, job_cells
from odailies_tui.ui.widgets.fast_table import FastTable

if TYPE_CHECKING:
    from odailies_tui.core.session import Session

WALL_COLUMNS = tuple(c for c in JOB_COLUMNS if c.key in ("name", "state", "progress", "rate",
                                                          "left"))


def big_rate(bps: float) -> tuple[str, str]:
    """Throughput for a Digits tile: (number, unit), e.g. ("612", "MB/s"), ("1.24", "GB/s")."""
    if bps >= 1e9:
        return f"{bps / 1e9:.2f}", "GB/s"
    return f"{bps / 1e6:.0f}", "MB/s"


def big_left(seconds: float | None) -> str:
    """Time left for a Digits tile: ``H:MM`` or ``M:SS``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}" if hours else f"{minutes}:{secs:02d}"


class Tile(Vertical):
    """A caption over a large number."""

    DEFAULT_CSS = """
    Tile { width: 1fr; height: 6; border: round $panel-lighten-2; padding: 0 1; }
    Tile > .tile-caption { color: $text-muted; height: 1; }
    Tile > Digits { width: auto; }
    Tile.-alarm { border: heavy $error; }
    Tile.-alarm > Digits { color: $error; }
    """

    def __init__(self, caption: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.caption = caption

    def compose(self) -> ComposeResult:
        yield OneLine(self.caption, classes="tile-caption")
        yield Digits("0")

    def show(self, value: str, caption: str | None = None) -> None:
        digits = self.query_one(Digits)
        if digits.value != value:
            digits.update(value)
        if caption is not None:
            self.query_one(".tile-caption", OneLine).show(caption)


class WallView(Vertical):
    """Big figures for a spare monitor; refreshes itself every second while shown."""

    DEFAULT_CSS = """
    WallView { height: 1fr; }
    WallView > #wall-tiles { height: 6; }
    WallView > #wall-graph { height: 4; margin: 0 1; }
    WallView > #wall-graph-label { height: 1; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, board: JobBoard, *, alerts: AlertCenter | None = None,
                 **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.board = board
        self.alerts = alerts if alerts is not None else AlertCenter()
        self._keys: list[str] = []

    @classmethod
    def for_session(cls, session: Session, **kwargs: object) -> WallView:
        return cls(session.board, alerts=session.alerts, **kwargs)

    def compose(self) -> ComposeResult:
        yield StatusLine(id="wall-status")
        with Horizontal(id="wall-tiles"):
            yield Tile("RUNNING", id="tile-running")
            yield Tile("MB/s", id="tile-rate")
            yield Tile("TIME LEFT", id="tile-left")
            yield Tile("FAILED", id="tile-failed")
        yield OneLine("", id="wall-graph-label")
        yield Sparkline([], summary_function=max, id="wall-graph")
        yield FastTable(WALL_COLUMNS, self._cells, row_style=self._row_style, id="wall-table")

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)
        self.refresh_wall()

    def _tick(self) -> None:
        if self.display and self.is_on_screen:  # pause what nobody sees
            self.refresh_wall()

    def _cells(self, key: object) -> dict[str, str | Text]:
        tracked = self.board.jobs.get(str(key))
        if tracked is None:
            return {}
        attention = ("failed" if tracked.id in self.alerts.unacknowledged else
                     "stalled" if tracked.id in self.alerts.stalled else "")
        return job_cells(tracked, attention)

    def _row_style(self, key: object) -> str | None:
        if str(key) in self.alerts.unacknowledged:
            return "on #5f0000"
        if str(key) in self.alerts.stalled:
            return "on #5f5f00"
        return None

    def wall_keys(self) -> list[str]:
        """Running jobs and unacknowledged failures, newest first."""
        jobs = self.board.jobs
        return [i for i in self.board.order
                if jobs[i].outcome == "running" or i in self.alerts.unacknowledged]

    def refresh_wall(self) -> None:
        """Repaint the figures, graph and rows from the board."""
        board = self.board
        self.query_one(StatusLine).show_board(board, None)
        totals: Totals = board.totals()
        self.query_one("#tile-running", Tile).show(str(totals.running))
        number, unit = big_rate(totals.throughput)
        self.query_one("#tile-rate", Tile).show(
            number, unit + (" (estimated)" if totals.throughput_estimated else ""))
        self.query_one("#tile-left", Tile).show(big_left(totals.seconds_left))
        failed = self.query_one("#tile-failed", Tile)
        failed.show(str(totals.failed))
        failed.set_class(totals.failed > 0, "-alarm")
        values = graph_values(board)
        self.query_one("#wall-graph", Sparkline).data = values
        peak = max(values)
        history = board.throughput_history
        samples = min(len(history), len(values))
        span = history[-1][0] - history[-samples][0] if samples > 1 else 0.0
        self.query_one("#wall-graph-label", OneLine).show(
            f"total throughput, last {fmt.short_duration(span)} · peak "
            f"{fmt.rate(peak) if peak else '—'}")
        keys = self.wall_keys()
        table = self.query_one("#wall-table", FastTable)
        if keys != self._keys:
            self._keys = keys
            table.set_rows(keys)
        table.refresh_rows()
