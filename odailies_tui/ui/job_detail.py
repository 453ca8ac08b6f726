"""Job details: every field of one job, dates in local time and relative, its history."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Sparkline, Static

from odailies_tui.core import formatting as fmt
from odailies_tui.core.alerts import AlertCenter
from odailies_tui.core.jobboard import JobBoard, TrackedJob


def when(value: datetime | None, now: datetime) -> str:
    """``2026-04-22 12:03:07 (5 min ago)`` in local time; ``—`` when absent."""
    if value is None:
        return "—"
    local = value.astimezone()
    delta = (now - value).total_seconds()
    rel = fmt.ago(delta) if delta >= 0 else f"in {fmt.short_duration(-delta)}"
    return f"{local.strftime('%Y-%m-%d %H:%M:%S')} ({rel})"


def history_rates(tracked: TrackedJob) -> list[float]:
    """Per-sample throughput of a job (bytes/s): the API's figure, else from progress steps."""
    out: list[float] = []
    prev = None
    for sample in tracked.history:
        if sample.bps is not None:
            out.append(float(sample.bps))
        elif prev is not None and sample.t > prev.t and tracked.est_total_bytes:
            out.append(max(sample.progress - prev.progress, 0.0) / (sample.t - prev.t)
                       * tracked.est_total_bytes)
        else:
            out.append(0.0)
        prev = sample
    return out or [0.0]


def detail_table(tracked: TrackedJob, alerts: AlertCenter | None, now: datetime) -> Table:
    """Every field of the job, labelled."""
    job = tracked.job
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    state = Text(job.state)
    if alerts is not None and tracked.id in alerts.stalled:
        state.append("  STALLED: no throughput — check the cable or drive", style="bold yellow")
    if alerts is not None and tracked.id in alerts.unacknowledged:
        state.append("  (not acknowledged: a marks read)", style="bold red")
    rows: list[tuple[str, str | Text]] = [
        ("Name", job.name or "—"),
        ("Id", job.id),
        ("Type", job.type),
        ("State", state),
        ("Read", "yes" if job.read else "no"),
        ("Progress", f"{fmt.bar(job.progress, 20)} {job.progress * 100:.1f}%"),
        ("Throughput", fmt.rate(tracked.throughput, estimated=tracked.throughput_estimated)),
        ("Time left", fmt.duration(tracked.seconds_left,
                                   estimated=tracked.seconds_left_estimated)),
        ("Remaining (server)", job.remaining or "—"),
        ("Remaining seconds", "—" if job.remaining_seconds is None
         else f"{job.remaining_seconds:g}"),
        ("Bytes per second", "—" if job.bytes_per_second is None
         else f"{job.bytes_per_second:,.0f}"),
        ("Path", job.path or "—"),
        ("Created", when(job.creation_date, now)),
        ("Started", when(job.start_date, now)),
        ("Finished", when(job.finish_date, now)),
    ]
    for key, value in sorted(job.extra.items()):
        rows.append((key, str(value)))
    for label, value in rows:
        table.add_row(label, value if isinstance(value, Text) else Text(value))
    return table


class JobDetailScreen(ModalScreen[None]):
    """One job in full; refreshes every second from the board while open."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close")]

    DEFAULT_CSS = """
    JobDetailScreen { align: center middle; }
    JobDetailScreen > VerticalScroll {
        width: 100; max-width: 100%; height: auto; max-height: 95%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    JobDetailScreen .detail-title { text-style: bold; }
    JobDetailScreen Sparkline { height: 3; margin: 1 0 0 0; }
    """

    def __init__(self, board: JobBoard, job_id: str, alerts: AlertCenter | None = None) -> None:
        super().__init__()
        self.board = board
        self.job_id = job_id
        self.alerts = alerts

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("", classes="detail-title", markup=False)
            yield Static("", id="detail-fields")
            yield Static("Throughput history", id="detail-history-label")
            yield Sparkline([], summary_function=max, id="detail-history")
            yield Static("[dim]escape closes[/dim]")

    def on_mount(self) -> None:
        self.refresh_detail()
        self.set_interval(1.0, self.refresh_detail)

    def refresh_detail(self) -> None:
        tracked = self.board.jobs.get(self.job_id)
        title = self.query_one(".detail-title", Static)
        if tracked is None:
            title.update("This job is no longer listed by o/DAILIES")
            return
        title.update(f"{tracked.job.name or tracked.id} — {tracked.job.type}")
        self.query_one("#detail-fields", Static).update(
            detail_table(tracked, self.alerts, datetime.now(UTC)))
        rates = history_rates(tracked)
        samples = list(tracked.history)
        span = samples[-1].t - samples[0].t if len(samples) > 1 else 0.0
        self.query_one("#detail-history-label", Static).update(
            f"Throughput history: last {fmt.short_duration(span)}, "
            f"peak {fmt.rate(max(rates)) if max(rates) else '—'}")
        self.query_one("#detail-history", Sparkline).data = (
            rates if len(rates) > 1 and max(rates) > 0 else [])

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
