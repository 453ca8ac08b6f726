"""Session: everything the app knows about one project, wired together (no Textual)."""

from __future__ import annotations

import httpx

from odailies_tui.api.client import ODailiesClient
from odailies_tui.connection import Connection
from odailies_tui.core.alerts import AlertCenter
from odailies_tui.core.clipbook import ClipBook
from odailies_tui.core.edits import EditQueue
from odailies_tui.core.job_actions import JobActions
from odailies_tui.core.jobboard import JobBoard
from odailies_tui.core.journal import Journal
from odailies_tui.core.upload_center import UploadCenter


class Session:
    """One project's client and state objects; the UI reads them and sends intents."""

    def __init__(
        self,
        connection: Connection,
        *,
        interval: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
        demo: bool = False,
        journal: Journal | None = None,
    ) -> None:
        self.connection = connection
        self.demo = demo
        self.client = ODailiesClient(connection.base_url, connection.project_id,
                                     connection.token, transport=transport)
        self.board = JobBoard(self.client, interval=interval)
        self.alerts = AlertCenter()  # its policy may be replaced from settings / flags
        self.actions = JobActions(self.client)
        self.clipbook = ClipBook(self.client)
        self.uploads = UploadCenter(self.client)
        self.edits = EditQueue(self.client, self.clipbook, journal or Journal.for_project(
            connection.base_url, connection.project_id))
        self.edits.can_write = lambda: self.actions.can_write  # known read-only: no send

    def __repr__(self) -> str:
        return f"Session({self.connection!r})"

    @property
    def title(self) -> str:
        """What to call this project on screen (never the token)."""
        conn = self.connection
        name = conn.label or conn.project_id
        return f"{name} (simulator)" if self.demo else name

    async def aclose(self) -> None:
        """Close network resources (unsent edits stay in the journal)."""
        await self.edits.aclose()
        await self.uploads.aclose()
        await self.client.aclose()
