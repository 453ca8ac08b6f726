"""Messages the app's workers post to the views."""

from __future__ import annotations

from textual.message import Message

from odailies_tui.core.jobboard import PollResult


class JobsPolled(Message):
    """A jobs poll finished (well or not); the board holds the merged state."""

    def __init__(self, result: PollResult) -> None:
        super().__init__()
        self.result = result
