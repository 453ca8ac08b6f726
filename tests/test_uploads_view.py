"""The Uploads view (Pilot): plan shown first, refusals block, progress rows fed by the center."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import Button, Input

from odailies_tui.api.client import ODailiesClient
from odailies_tui.core.upload_center import UploadCenter
from odailies_tui.core.upload_run import ItemState
from odailies_tui.sim import Simulator
from odailies_tui.ui.uploads_view import UploadDialog, UploadsView, item_cells


class Host(App[None]):
    def __init__(self, center: UploadCenter) -> None:
        super().__init__()
        self.center = center

    def compose(self) -> ComposeResult:
        yield UploadsView(self.center, id="uploads")


def _file(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))
    return path


async def _wait(pilot, condition, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        assert loop.time() < end, "timed out"
        await pilot.pause(0.05)


async def test_upload_from_the_view_shows_plan_then_progress_then_done(
        sim: Simulator, tmp_path: Path) -> None:
    clip = sorted(sim.clips)[0]
    day = tmp_path / "Day 01"
    _file(day / f"{clip}.mp4", 3_000_000)
    _file(day / f"{clip}.jpg", 10_000)
    async with ODailiesClient(sim.base_url, sim.project_id, sim.token) as client:
        center = UploadCenter(client)
        app = Host(center)
        async with app.run_test(size=(120, 30)) as pilot:
            view = app.query_one(UploadsView)
            assert "No uploads yet" in str(view.query_one("#uploads-summary").render())
            await pilot.press("n")
            dialog = app.screen
            assert isinstance(dialog, UploadDialog)
            dialog.query_one(Input).value = f'"{day}"'
            await pilot.press("enter")
            await _wait(pilot, lambda: dialog.plan is not None)
            plan_text = str(dialog.query_one("#upload-plan-text").render())
            assert f"_graded/{clip}.mp4" in plan_text and f"_thumbnails/{clip}.jpg" in plan_text
            assert not dialog.query_one("#upload-go", Button).disabled
            assert sim.uploads == {}  # nothing moves before the confirmation
            await pilot.press("ctrl+u")
            await _wait(pilot, lambda: center.batches and center.batches[0].finished.is_set())
            await pilot.pause(0.1)
            assert {i.state for i in center.items} == {ItemState.DONE}
            assert sim.uploads[f"_graded/{clip}.mp4"].size == 3_000_000
            assert view.query_one("#uploads-table").row_count == 2
            summary = str(view.query_one("#uploads-summary").render())
            assert "2 done" in summary


async def test_refused_plan_cannot_be_confirmed(sim: Simulator, tmp_path: Path) -> None:
    bad = _file(tmp_path / "_thumbnails_X.jpg", 100)
    async with ODailiesClient(sim.base_url, sim.project_id, sim.token) as client:
        center = UploadCenter(client)
        app = Host(center)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("n")
            dialog = app.screen
            dialog.query_one(Input).value = str(bad)
            await pilot.press("enter")
            await _wait(pilot, lambda: dialog.plan is not None)
            text = str(dialog.query_one("#upload-plan-text").render())
            assert "Rename it to X.jpg" in text and "Nothing will be sent" in text
            assert dialog.query_one("#upload-go", Button).disabled
            await pilot.press("ctrl+u")
            await pilot.pause()
            assert app.screen is dialog and center.batches == []
            await pilot.press("escape")
            assert not isinstance(app.screen, UploadDialog)
    assert sim.uploads == {}


def test_failed_row_shows_the_reason(tmp_path: Path) -> None:
    from odailies_tui.core.upload_plan import PlannedFile, Role
    from odailies_tui.core.upload_run import UploadItem

    item = UploadItem(PlannedFile(tmp_path / "a.ale", "a.ale", Role.ALE, 10),
                      state=ItemState.FAILED, reason="gave up after 5 attempts")
    cells = item_cells(item)
    assert str(cells["state"]) == "failed"
    assert "gave up" in str(cells["note"])
    item.attempts = 5
    item.last_error = "cannot reach o/DAILIES (cannot connect: All connection attempts failed)"
    cells = item_cells(item)  # the cause fits a narrow cell; enter shows the whole message
    assert str(cells["state"]) == "failed ×5"
    assert str(cells["note"]) == "cannot reach o/DAILIES"


async def test_tab_reaches_the_uploads_view_in_the_app(sim: Simulator, state_dir: Path) -> None:
    from odailies_tui.api.redact import Secret
    from odailies_tui.connection import Connection
    from odailies_tui.core.session import Session
    from odailies_tui.ui.app import ODailiesApp

    connection = Connection(sim.base_url, sim.project_id, Secret(sim.token))
    app = ODailiesApp(Session(connection, interval=1000.0))
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(4):
            if app.main_screen.current_view == "uploads":
                break
            await pilot.press("tab")
        assert app.main_screen.current_view == "uploads"
        await pilot.press("n")
        assert isinstance(app.screen, UploadDialog)
        await pilot.press("escape")


async def test_palette_command_opens_the_upload_dialog(sim: Simulator) -> None:
    from odailies_tui.ui.uploads_view import UploadCommands

    class PaletteHost(Host):
        COMMANDS = App.COMMANDS | {UploadCommands}

    async with ODailiesClient(sim.base_url, sim.project_id, sim.token) as client:
        app = PaletteHost(UploadCenter(client))
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"upload files")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await _wait(pilot, lambda: isinstance(app.screen, UploadDialog))


def _item(tmp_path: Path, name: str = "a.ale", size: int = 1000, **kw):
    from odailies_tui.core.upload_plan import PlannedFile, Role
    from odailies_tui.core.upload_run import UploadItem

    path = tmp_path / name
    with open(path, "wb") as f:
        f.truncate(size)  # sparse
    return UploadItem(PlannedFile(path, name, Role.ALE, size), **kw)


def test_row_waiting_between_attempts_says_so_with_no_rate(tmp_path: Path) -> None:
    import time

    item = _item(tmp_path, state=ItemState.RUNNING, attempts=1, max_attempts=5,
                 last_error="cannot reach o/DAILIES (cannot connect: refused)")
    item.meter.update(0, 0.0)
    item.meter.update(500, 0.5)  # an old rate is known...
    item.retry_at = time.monotonic() + 3.6
    cells = item_cells(item)
    assert str(cells["state"]) == "retry 4 s"
    assert str(cells["note"]) == "cannot reach o/DAILIES"
    assert cells["rate"] == "—"  # ...but neither it nor a time left is shown


def test_summary_counts_failed_and_cancelled_files_honestly(tmp_path: Path) -> None:
    from odailies_tui.core.upload_run import UploadBatch
    from odailies_tui.ui.uploads_view import summary_line

    center = UploadCenter(None)  # type: ignore[arg-type]
    items = [_item(tmp_path, "a.ale", 53_500_000), _item(tmp_path, "b.ale", 4_000_000_000),
             _item(tmp_path, "c.ale", 10_000)]
    batch = UploadBatch([i.file for i in items])
    batch.items[0].state = ItemState.DONE
    batch.items[1].state, batch.items[1].bytes_sent = ItemState.FAILED, 1_000_000
    batch.items[2].state = ItemState.CANCELLED
    batch.finished.set()
    center.batches.append(batch)
    line = summary_line(center)
    assert "1 done · 1 failed · 1 cancelled" in line
    assert "53.5 MB of 4.1 GB" in line
    batch.network_problem = "cannot connect (refused)"
    batch.finished.clear()
    assert "cannot reach o/DAILIES: cannot connect, retrying" in summary_line(center)


async def test_failed_row_shows_its_reason_at_80_columns_and_enter_opens_details(
        sim: Simulator, tmp_path: Path) -> None:
    from odailies_tui.ui.uploads_view import UploadDetail

    async with ODailiesClient(sim.base_url, sim.project_id, sim.readonly_token) as client:
        center = UploadCenter(client)
        app = Host(center)
        async with app.run_test(size=(80, 24)) as pilot:
            view = app.query_one(UploadsView)
            plan = (await center.plan([_file(tmp_path / "day.ale", 500)])).plan
            batch = center.start(plan)
            await _wait(pilot, batch.finished.is_set)
            await pilot.pause(0.1)
            table = view.table
            keys = [c.key for c in table.visible_columns]
            assert {"note", "rate"} <= set(keys) and "size" not in keys
            screen_text = "\n".join(
                "".join(s.text for s in table.render_line(y)) for y in range(2))
            assert "permission" in screen_text
            assert "1 failed" in str(view.query_one("#uploads-summary").render())
            table.focus()
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, UploadDetail)
            detail = str(app.screen.query_one("#upload-detail-text").render())
            assert str(tmp_path / "day.ale") in detail and "Destination" in detail
            assert "Attempts" in detail and "permission" in detail
            await pilot.press("escape")
            assert not isinstance(app.screen, UploadDetail)
        wider = Host(center)
        async with wider.run_test(size=(100, 24)):
            table = wider.query_one(UploadsView).table
            keys = [c.key for c in table.visible_columns]
            assert {"note", "rate"} <= set(keys) and "size" not in keys
            widths = dict(zip(keys, table._widths, strict=True))
            assert widths["note"] >= 28


async def test_ctrl_u_after_editing_the_paths_plans_again_then_uploads(
        sim: Simulator, tmp_path: Path) -> None:
    first = _file(tmp_path / "first.ale", 100)
    second = _file(tmp_path / "second.ale", 200)
    async with ODailiesClient(sim.base_url, sim.project_id, sim.token) as client:
        center = UploadCenter(client)
        app = Host(center)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("n")
            dialog = app.screen
            dialog.query_one(Input).value = str(first)
            await pilot.press("enter")
            await _wait(pilot, lambda: dialog.plan is not None)
            dialog.query_one(Input).value = str(second)  # edited, enter not pressed
            await pilot.pause()
            await pilot.press("ctrl+u")
            await _wait(pilot, lambda: bool(center.batches))
            assert [i.file.source for i in center.batches[0].items] == [second]
            assert not isinstance(app.screen, UploadDialog)


async def test_ctrl_u_offers_to_send_the_good_files_and_skip_the_refused(
        sim: Simulator, tmp_path: Path) -> None:
    from odailies_tui.ui.confirm import ConfirmScreen

    good = _file(tmp_path / "day" / "day01.ale", 300)
    _file(tmp_path / "day" / "notes.txt", 10)
    async with ODailiesClient(sim.base_url, sim.project_id, sim.token) as client:
        center = UploadCenter(client)
        app = Host(center)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("n")
            dialog = app.screen
            dialog.query_one(Input).value = str(tmp_path / "day")
            await pilot.press("ctrl+u")  # plans: one refused, so it shows the plan first
            await _wait(pilot, lambda: dialog.plan is not None)
            await pilot.pause()
            assert app.screen is dialog and center.batches == []
            text = str(dialog.query_one("#upload-plan-text").render())
            assert "notes.txt" in text and "upload the 1 good file(s)" in text
            assert not dialog.query_one("#upload-go", Button).disabled
            await pilot.press("ctrl+u")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("y")
            await _wait(pilot, lambda: bool(center.batches) and center.batches[0].finished.is_set())
            assert [i.file.source for i in center.batches[0].items] == [good]
            assert set(sim.uploads) == {"day01.ale"}
