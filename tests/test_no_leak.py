"""No token anywhere: reprs, logs at DEBUG, error texts, tracebacks, Textual's crash report."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import traceback

import httpx
import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from odailies_tui import crashsafe
from odailies_tui.api.client import ODailiesClient
from odailies_tui.api.errors import ApiError, BadRequest, InvalidToken, NetworkError
from odailies_tui.api.redact import Secret
from odailies_tui.connection import Connection
from tests.conftest import leaked_forms
from tests.screen_text import screen_text

TOKEN = "tok-LEAK/canary+42=x"  # '/', '+' and '=' test the percent-encoded forms too


def full_text(exc: BaseException) -> str:
    """Everything an exception can show: str, repr, args, its whole formatted traceback."""
    return "\n".join([str(exc), repr(exc), repr(exc.args),
                      "".join(traceback.format_exception(exc))])


# -- Secret ---------------------------------------------------------------------------------

def test_secret_never_shows_itself():
    secret = Secret(TOKEN)
    shown = [repr(secret), str(secret), f"{secret}", f"{secret!r}", f"{secret:>30}",
             "%s" % secret, "%r" % (secret,), format(secret), repr([secret]),  # noqa: UP031
             repr({"token": secret}), repr((secret,))]
    assert all("***" in s for s in shown)
    assert leaked_forms(TOKEN, *shown) == []
    assert secret.reveal() == TOKEN
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(secret)


def test_long_lived_objects_hold_the_token_masked():
    conn = Connection("http://127.0.0.1:1/api/v2", "P1", Secret(TOKEN))
    client = ODailiesClient(conn.base_url, conn.project_id, conn.token)
    try:
        assert leaked_forms(TOKEN, repr(conn), str(conn), repr(client), repr(vars(client))) == []
    finally:
        asyncio.run(client.aclose())


# -- requests that fail, logged at DEBUG ----------------------------------------------------

async def _fail(client: ODailiesClient, what: str) -> ApiError:
    with pytest.raises(ApiError) as info:
        if what == "jobs":
            await client.list_jobs()
        elif what == "clips":
            await client.list_clips()
        else:
            await client.upload_url("_thumbnails/A001.jpg")
    return info.value


async def test_failing_requests_leak_nothing_at_debug(sim, debug_logs):
    sim.add_token(TOKEN, {"read"})
    errors: list[ApiError] = []
    # a valid token on a wrong project (400), a token lacking Upload (403)
    client = ODailiesClient(sim.base_url, "no-such-project", TOKEN, retries=0)
    errors.append(await _fail(client, "jobs"))
    await client.aclose()
    client = ODailiesClient(sim.base_url, sim.project_id, TOKEN, retries=0)
    errors.append(await _fail(client, "upload"))
    await client.list_jobs()  # a success is logged too
    await client.aclose()
    # an unknown token (401)
    client = ODailiesClient(sim.base_url, sim.project_id, TOKEN + "-bad", retries=0)
    errors.append(await _fail(client, "clips"))
    await client.aclose()
    assert [type(e) for e in errors][0] is BadRequest
    assert isinstance(errors[2], InvalidToken)

    logs = debug_logs.getvalue()
    assert "httpx" in logs or "httpcore" in logs or "odailies_tui" in logs  # logs were captured
    texts = [full_text(e) for e in errors]
    assert leaked_forms(TOKEN, logs, *texts) == []
    assert leaked_forms(TOKEN + "-bad", logs, *texts) == []


async def test_killed_server_errors_leak_nothing(sim, debug_logs):
    client = ODailiesClient(sim.base_url, sim.project_id, Secret(TOKEN), retries=1)
    sim.stop()
    error = await _fail(client, "jobs")
    await client.aclose()
    assert isinstance(error, NetworkError)
    assert leaked_forms(TOKEN, full_text(error), debug_logs.getvalue()) == []


def test_http_library_exceptions_logged_with_exc_info_are_redacted(debug_logs):
    Secret(TOKEN)
    url = f"http://127.0.0.1:9/api/v2/jobs/P1/{TOKEN}"
    try:
        raise httpx.ConnectError(f"boom while fetching {url}")
    except httpx.ConnectError:
        logging.getLogger("httpx").debug("request to %s failed", url, exc_info=True)
        logging.getLogger("someone.else").exception("unexpected: %r", url)
    logs = debug_logs.getvalue()
    assert "request to http://127.0.0.1:9/api/v2/jobs/P1/***" in logs
    assert "ConnectError" in logs  # the traceback is there, masked
    assert leaked_forms(TOKEN, logs) == []


def test_uncaught_exceptions_are_printed_redacted(capsys):
    crashsafe.install()
    Secret(TOKEN)
    try:
        raise RuntimeError(f"GET http://127.0.0.1/clips/P1/{TOKEN} failed")
    except RuntimeError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)

    def worker() -> None:
        raise RuntimeError(f"in a thread: {TOKEN}")

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    err = capsys.readouterr().err
    assert "RuntimeError: GET http://127.0.0.1/clips/P1/***" in err
    assert "in a thread: ***" in err
    assert leaked_forms(TOKEN, err) == []


# -- Textual's crash report -----------------------------------------------------------------

class CrashingApp(App[None]):
    """Crashes in a timer callback with the token in a local and in the exception text."""

    def __init__(self, token: Secret) -> None:
        super().__init__()
        self.token = token

    def compose(self) -> ComposeResult:
        yield Static("monitoring")

    def on_mount(self) -> None:
        self.set_timer(0.01, self.poll)

    def poll(self) -> None:
        raw = self.token.reveal()
        url = f"http://127.0.0.1:9/api/v2/jobs/P1/{raw}"
        raise RuntimeError(f"forced crash inside a poll of {url}")


async def run_and_capture(app: App, seconds: float = 0.3) -> tuple[str, BaseException | None]:
    """Run ``app`` headless for ``seconds``; return (its last screen as text, what it raised).

    The crash report itself goes to stderr (read it with ``capsys``). Reusable for the
    Pilot test of the real app.
    """
    screen = ""
    raised: BaseException | None = None
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(seconds)
            screen = screen_text(app) + "\n" + app.export_screenshot() + "\n" + app.title \
                + " " + app.sub_title
    except Exception as exc:  # noqa: BLE001 - Pilot re-raises the app's crash
        raised = exc
    return screen, raised


async def test_textual_crash_report_shows_no_token(capsys, debug_logs):
    crashsafe.install()
    assert crashsafe.is_installed()
    app = CrashingApp(Secret(TOKEN))
    screen, raised = await run_and_capture(app)
    err = capsys.readouterr().err
    assert isinstance(raised, RuntimeError) and app.return_code == 1
    assert "Traceback" in err and "forced crash inside a poll of" in err
    assert "http://127.0.0.1:9/api/v2/jobs/P1/***" in err
    assert "locals" not in err  # Textual's default report would show every frame's locals
    assert leaked_forms(TOKEN, err, screen, debug_logs.getvalue()) == []


async def test_without_crashsafe_textual_would_print_the_token(capsys, monkeypatch):
    """The check above can fail: Textual's own report prints locals, token included."""
    crashsafe.install()
    monkeypatch.setattr(App, "_fatal_error", crashsafe.ORIGINALS["_fatal_error"])
    Secret(TOKEN)
    await run_and_capture(CrashingApp(Secret(TOKEN)))
    err = capsys.readouterr().err
    assert "locals" in err and TOKEN in err.replace("\n", "").replace("│", "").replace(" ", "")


async def test_panic_output_is_redacted(capsys):
    crashsafe.install()

    class PanickingApp(App[None]):
        def on_mount(self) -> None:
            self.set_timer(0.01, self.die)

        def die(self) -> None:
            self.panic(f"driver died talking to http://127.0.0.1/jobs/P1/{TOKEN}")

    Secret(TOKEN)
    await run_and_capture(PanickingApp())
    err = capsys.readouterr().err
    assert "driver died talking to http://127.0.0.1/jobs/P1/***" in err
    assert leaked_forms(TOKEN, err) == []


# -- the real app: a crash forced inside a poll ---------------------------------------------

def _real_app(sim, token: str):
    from odailies_tui.connection import Connection
    from odailies_tui.core.session import Session
    from odailies_tui.ui.app import ODailiesApp

    sim.add_token(token, {"read", "write", "upload"})
    session = Session(Connection(sim.base_url, sim.project_id, Secret(token)), interval=0.2)
    return ODailiesApp, session


async def test_parser_failing_inside_a_poll_leaks_nothing(sim, odailies_env, debug_logs,
                                                          capsys, monkeypatch):
    """A model parser raising (its message holding a URL with the token) during a poll."""
    from odailies_tui.api import models

    crashsafe.install()
    app_class, session = _real_app(sim, TOKEN)
    url = f"{sim.base_url}/jobs/{sim.project_id}/{TOKEN}"

    calls = []

    def broken_parser(cls, raw):
        calls.append(raw)
        raise ValueError(f"cannot parse a job from {url}: {raw!r}")

    monkeypatch.setattr(models.Job, "from_api", classmethod(broken_parser))
    screen, raised = await run_and_capture(app_class(session), seconds=0.6)
    captured = capsys.readouterr()
    assert screen and calls  # the app did draw, and did poll
    assert leaked_forms(TOKEN, screen, captured.out, captured.err, debug_logs.getvalue(),
                        full_text(raised) if raised else "") == []


async def test_real_app_crash_after_a_poll_prints_no_token(sim, odailies_env, debug_logs,
                                                           capsys):
    """An unhandled error in the app right after a poll: the crash report holds no token."""
    crashsafe.install()
    app_class, session = _real_app(sim, TOKEN)

    class CrashAfterPoll(app_class):  # type: ignore[misc, valid-type]
        def on_jobs_polled(self, message) -> None:
            raw = self.session.connection.token.reveal()
            where = f"{self.session.connection.base_url}/jobs/P/{raw}"
            raise RuntimeError(f"forced crash after a poll of {where}")

    screen, raised = await run_and_capture(CrashAfterPoll(session), seconds=0.6)
    captured = capsys.readouterr()
    assert isinstance(raised, RuntimeError)  # the crash did happen
    assert "forced crash after a poll of" in captured.err and "/jobs/P/***" in captured.err
    assert leaked_forms(TOKEN, screen, captured.out, captured.err,
                        debug_logs.getvalue()) == []
