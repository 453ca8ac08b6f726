"""The Clips view driven through the real app (Pilot) against the simulator over loopback."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path

from textual import events
from textual.widgets import Input, Static

from odailies_tui.api.models import CLIP_FIELDS
from odailies_tui.api.redact import Secret
from odailies_tui.connection import Connection
from odailies_tui.core.session import Session
from odailies_tui.sim import Simulator
from odailies_tui.ui.app import ODailiesApp
from odailies_tui.ui.clip_form import ClipForm
from odailies_tui.ui.clips_view import ClipsView
from odailies_tui.ui.confirm import ConfirmScreen
from odailies_tui.ui.widgets.fast_table import FastTable


def make_app(sim: Simulator, token: str | None = None) -> ODailiesApp:
    connection = Connection(sim.base_url, sim.project_id, Secret(token or sim.token))
    return ODailiesApp(Session(connection))


def clip_patches(sim: Simulator) -> list[list[dict]]:
    return [json.loads(r.body)["data"] for r in sim.requests
            if r.method == "PATCH" and r.path.startswith("/api/v2/clips/") and r.status]


async def open_clips(app: ODailiesApp, pilot) -> ClipsView:  # noqa: ANN001
    """Switch to the Clips view and wait for the clips to load."""
    await pilot.press("tab")
    view = app.main_screen.query_one(ClipsView)
    for _ in range(200):
        if view.book.loaded and view.table.row_count:
            break
        await pilot.pause(0.02)
    await pilot.pause()
    assert app.focused is view.table
    return view


async def settle(pilot, view: ClipsView, timeout: float = 5.0) -> None:  # noqa: ANN001
    """Wait for the debounce and the PATCH to finish."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while view.edits.busy or view.edits.unsent_count and not view.edits.last_error:
        assert loop.time() < deadline, "edits never settled"
        await pilot.pause(0.05)
    await pilot.pause()


def status_text(view: ClipsView, selector: str = "#clips-status") -> str:
    return str(view.query_one(selector, Static).render())


async def test_c_and_4_on_third_clip_change_only_that_clip(sim: Simulator,
                                                          state_dir: Path) -> None:
    app = make_app(sim)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_clips(app, pilot)
        before = copy.deepcopy(sim.clips)
        third = view.book.names[2]
        assert before[third]["circled"] is False
        await pilot.press("down", "down", "c", "4")
        assert view.table.cursor_key == third
        # the row changes at once, marked pending
        assert view.book.value(third, "circled") is True
        assert "~" in view.table.render_line(3).text
        await settle(pilot, view)
        after = sim.clips
        assert after[third]["circled"] is True and after[third]["rating"] == 4
        expected = copy.deepcopy(before)
        expected[third].update(circled=True, rating=4)
        assert after == expected
        assert "~" not in view.table.render_line(3).text  # confirmed: no pending mark


async def test_twenty_circles_are_at_most_two_requests(sim: Simulator, state_dir: Path) -> None:
    app = make_app(sim)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_clips(app, pilot)
        names = view.book.names[:20]
        before = {n: sim.clips[n]["circled"] for n in names}
        for _ in range(20):
            await pilot.press("c", "down")
        await settle(pilot, view)
        patches = clip_patches(sim)
        assert 1 <= len(patches) <= 2
        for body in patches:
            sent = [item["name"] for item in body]
            assert len(sent) == len(set(sent))
            assert all(set(item) <= set(CLIP_FIELDS) for item in body)
        assert {n: sim.clips[n]["circled"] for n in names} == {
            n: not v for n, v in before.items()}


async def test_edit_while_offline_survives_quit_and_is_sent_next_start(
        sim: Simulator, state_dir: Path) -> None:
    port = sim.port
    app = make_app(sim)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_clips(app, pilot)
        first, second = view.book.names[0], view.book.names[1]
        wanted = {first: not sim.clips[first]["circled"], second: not sim.clips[second]["circled"]}
        sim.stop()
        await pilot.press("c", "down", "c")
        await pilot.pause(0.8)  # debounce + a failed attempt
        assert view.edits.unsent_count == 2
        assert "pending" in status_text(view)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)  # quitting asks first
        await pilot.press("y")
    journals = list(state_dir.glob("edits-*.json"))
    assert len(journals) == 1
    saved = json.loads(journals[0].read_text())["edits"]
    assert {n: v["circled"] for n, v in saved.items()} == wanted

    sim.start(port=port)
    app = make_app(sim)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_clips(app, pilot)
        await settle(pilot, view)
        assert {n: sim.clips[n]["circled"] for n in wanted} == wanted
    assert not journals[0].exists()


async def test_bad_date_in_form_shows_error_and_sends_nothing(sim: Simulator,
                                                             state_dir: Path) -> None:
    app = make_app(sim)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_clips(app, pilot)
        name = view.table.cursor_key
        before = copy.deepcopy(sim.clips)
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ClipForm)
        form.query_one("#f-date", Input).focus()
        await pilot.press("ctrl+u", *"20260230")
        await pilot.pause()
        error = form.query_one("#e-date", Static)
        assert error.display and "calendar day" in str(error.render())
        await pilot.press("enter")  # refuses to save
        await pilot.pause()
        assert app.screen is form
        await pilot.press("ctrl+u", *"2026-04-22")
        await pilot.pause()
        assert "yyyyMMdd" in str(error.render())
        await pilot.press("escape")
        await pilot.pause(0.6)
        assert not isinstance(app.screen, ClipForm)
        assert clip_patches(sim) == [] and sim.clips == before
        assert view.table.cursor_key == name


async def test_form_sends_only_changed_fields_and_clears_text(sim: Simulator,
                                                              state_dir: Path) -> None:
    app = make_app(sim)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_clips(app, pilot)
        name = str(view.table.cursor_key)
        await pilot.press("enter")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ClipForm)
        form.query_one("#f-description", Input).focus()
        await pilot.press("ctrl+u")
        form.query_one("#f-date", Input).focus()
        await pilot.press("ctrl+u", *"20260501")
        await pilot.press("ctrl+s")
        await settle(pilot, view)
        assert clip_patches(sim) == [[{"name": name, "description": "", "date": "20260501"}]]
        assert sim.clips[name]["description"] == ""


async def test_marked_clips_edited_together(sim: Simulator, state_dir: Path) -> None:
    app = make_app(sim)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_clips(app, pilot)
        names = view.book.names[:3]
        await pilot.press("m", "m", "m", "e")  # m marks and moves down
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ClipForm) and form.names == names
        form.query_one("#f-scene", Input).focus()
        await pilot.press("ctrl+u", *"42B", "enter")
        await settle(pilot, view)
        assert [sim.clips[n]["scene"] for n in names] == ["42B"] * 3
        assert len(clip_patches(sim)) == 1


async def test_read_only_token_shows_refusal_and_browsing_works(sim: Simulator,
                                                               state_dir: Path) -> None:
    app = make_app(sim, token=sim.readonly_token)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_clips(app, pilot)
        name = view.book.names[0]
        before = copy.deepcopy(sim.clips)
        await pilot.press("c")
        await settle(pilot, view)
        assert sim.clips == before
        assert "this token has no Write permission" in status_text(view, "#clips-refusal")
        assert "1 refused" in status_text(view)
        assert view.book.value(name, "circled") is before[name]["circled"]
        # browsing still works: move, filter
        await pilot.press("down", "down")
        assert view.table.cursor_row == 2
        await pilot.press("slash", *"B0")
        await pilot.pause()
        assert view.table.row_count and all("b0" in view.book._haystack[str(k)]
                                            for k in view.table.keys)
        await pilot.press("escape", "exclamation_mark")
        await pilot.pause()
        assert not view.edits.refusals
        assert app.screen is app.main_screen


async def test_undo_restores_server_and_repeat_circles_a_run(sim: Simulator,
                                                            state_dir: Path) -> None:
    app = make_app(sim)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_clips(app, pilot)
        names = [n for n in view.book.names if not sim.clips[n]["circled"]][:3]
        view.table.move_to_key(names[0])
        await pilot.press("c")
        for name in names[1:]:
            view.table.move_to_key(name)
            await pilot.press("full_stop")
        await settle(pilot, view)
        assert all(sim.clips[n]["circled"] is True for n in names)
        await pilot.press("u")
        await settle(pilot, view)
        assert [sim.clips[n]["circled"] for n in names] == [True, True, False]
        old_rating = sim.clips[names[2]]["rating"]
        await pilot.press("5")
        await settle(pilot, view)
        assert sim.clips[names[2]]["rating"] == 5
        await pilot.press("u")
        await settle(pilot, view)
        assert sim.clips[names[2]]["rating"] == old_rating != 5


async def test_filter_as_you_type_keeps_cursor_on_clip(sim: Simulator, state_dir: Path) -> None:
    app = make_app(sim)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_clips(app, pilot)
        target = next(n for n in view.book.names if n.startswith("B"))
        view.table.move_to_key(target)
        await pilot.press("slash", "B")
        await pilot.pause()
        shown = list(view.table.keys)
        assert shown and all("b" in view.book._haystack[k] for k in shown)
        assert view.table.cursor_key == target
        assert "shown" in status_text(view)
        await pilot.press("escape")
        await pilot.pause()
        assert view.table.row_count == len(view.book.names)
        assert view.table.cursor_key == target
        assert isinstance(app.focused, FastTable)


async def test_quit_without_unsent_edits_does_not_ask(sim: Simulator, state_dir: Path) -> None:
    app = make_app(sim)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_clips(app, pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0 or app.return_code is None
    assert not app.is_running


async def test_keys_typed_in_one_burst_after_slash_and_enter(sim: Simulator,
                                                            state_dir: Path) -> None:
    """Over SSH keys arrive in bursts: ``/B001`` then ``enter``, ``down``, ``c`` at once must
    filter by B001 and then circle the second clip shown, not type ``c`` into the filter."""
    app = make_app(sim)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_clips(app, pilot)
        for key, char in (("slash", "/"), ("B", "B"), ("0", "0"), ("0", "0"), ("1", "1")):
            app.post_message(events.Key(key, char))
        await pilot.pause(0.2)
        assert view.filter_input.value == "B001"
        shown = list(view.table.keys)
        assert shown and all(k.startswith("B001") for k in shown)
        target = shown[1]
        before = sim.clips[target]["circled"]
        for key, char in (("enter", "\r"), ("down", None), ("c", "c")):
            app.post_message(events.Key(key, char))
        await pilot.pause(0.2)
        await settle(pilot, view)
        assert view.filter_input.value == "B001"
        assert view.table.cursor_key == target
        assert sim.clips[target]["circled"] is (not before)


async def test_background_reload_merges_in_place_and_waits_while_hidden(
        sim: Simulator, state_dir: Path) -> None:
    app = make_app(sim)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_clips(app, pilot)
        first, second = view.book.names[0], view.book.names[1]
        view.table.move_to_key(second)
        view.edits.debounce = view.edits.max_wait = 30.0  # keep the edit pending for now
        await pilot.press("c")  # pending edit on the second clip...
        with sim.lock:
            sim.clips[first]["scene"] = "77"  # ...while someone else changes the first
            sim.clips[second]["description"] = "from the web app"
        mine = view.book.value(second, "circled")
        assert mine is not sim.clips[second]["circled"]

        def clip_gets() -> int:
            return sum(1 for r in sim.requests
                       if r.method == "GET" and r.path.startswith("/api/v2/clips/"))

        await pilot.press("tab")  # away from Clips: the minute's reload waits
        gets = clip_gets()
        view._timed_reload()
        await pilot.pause(0.2)
        assert clip_gets() == gets
        await pilot.press("shift+tab")  # back: the due reload runs now
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert clip_gets() == gets + 1
        assert view.book.value(first, "scene") == "77"
        assert view.book.value(second, "description") == "from the web app"
        assert view.table.cursor_key == second
        assert view.book.value(second, "circled") is mine  # pending edit not overwritten
        assert "77" in view.table.render_line(1).text  # merged in place, on screen
        view.edits.retry_now()
        await settle(pilot, view)
        assert sim.clips[second]["circled"] is mine


async def test_help_lists_the_clip_keys(sim: Simulator, state_dir: Path) -> None:
    app = make_app(sim)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_clips(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        screen = app.screen
        assert type(screen).__name__ == "HelpScreen"
        described = {description for _, description in screen._rows}
        assert {"Circle", "Rate 0-5", "Edit", "Mark", "Undo", "Repeat", "Filter",
                "Reload"} <= described
