"""The client and board against a strict server that is not our simulator: a tiny, different
implementation of the jobs contract (offset times, its own Date header), over loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from odailies_tui.api import ODailiesClient
from odailies_tui.core.jobboard import JobBoard

TOKEN = "foreign/token+1"


class Foreign:
    """Serves /api/v2/jobs/p1/{token}; remembers each query it got."""

    def __init__(self) -> None:
        self.queries: list[str] = []
        self.jobs = [
            {"id": "J2", "type": "OffloadJob", "state": "running", "name": "Card 2",
             "readFlag": 0, "remaining": "2m", "remainingSeconds": 120, "bytesPerSecond": 3e8,
             "progress": 0.25, "path": "/Volumes/X", "creationDate": "2026-04-22T12:05:00+02:00",
             "startDate": "2026-04-22T12:05:01+02:00", "finishDate": None},
            {"id": "J1", "type": "CopyJob", "state": "succeeded", "name": "Card 1",
             "readFlag": 1, "remaining": "", "remainingSeconds": None, "bytesPerSecond": None,
             "progress": 1, "path": None, "creationDate": "2026-04-22T09:00:00Z",
             "startDate": "2026-04-22T09:00:01Z", "finishDate": "2026-04-22T09:10:00Z"},
        ]


@pytest.fixture
def foreign() -> Iterator[tuple[Foreign, str]]:
    state = Foreign()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            parts = urlsplit(self.path)
            segments = [unquote(s) for s in parts.path.split("/")]
            state.queries.append(parts.query)
            if segments[3:] != ["jobs", "p1", TOKEN]:
                body, status = {"error": {"message": "invalid token"}}, 401
            else:
                query = parse_qs(parts.query)
                jobs = state.jobs
                if "since" in query:
                    jobs = [j for j in jobs if j["state"] == "running"]
                body, status = {"data": jobs}, 200
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.send_header("Date", formatdate(usegmt=True))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/api/v2"
    finally:
        server.shutdown()
        server.server_close()


async def test_board_uses_since_after_first_poll(foreign: tuple[Foreign, str]) -> None:
    state, base_url = foreign
    async with ODailiesClient(base_url, "p1", TOKEN) as client:
        board = JobBoard(client)
        first = await board.poll()
        assert first.ok and first.full and set(first.added) == {"J1", "J2"}
        state.jobs[0]["progress"] = 0.5
        second = await board.poll()
    assert second.ok and not second.full
    assert state.queries[0] == "" and state.queries[1].startswith("since=")
    assert "%3A" in state.queries[1]  # percent-encoded
    assert second.changed == ["J2"] and board.jobs["J2"].job.progress == 0.5
    assert board.order == ["J2", "J1"]  # newest first, offsets compared as instants
    assert board.jobs["J1"].job.read is True
