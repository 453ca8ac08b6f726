"""The ``?`` screen: every key that works where the user is, built from the bindings."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    """A list of (key, description) rows; any of escape, ``?``, ``q`` closes it."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 64; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, title: str, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self._title = title
        self._rows = rows

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for key, description in self._rows:
            table.add_row(key, description)
        with VerticalScroll():
            yield Static(f"[b]{self._title}[/b] — keys", markup=True)
            yield Static(table)
            yield Static("[dim]escape closes[/dim]", markup=True)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
