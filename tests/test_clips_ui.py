"""The Clips view driven through the real app (Pilot) against the simulator over loopback."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path

from textual import events
from textual.widgets import Input, Select, Static

from odailies_tui.api.models import CLIP_FIELDS
from odailies_tui.api.redact import Secret
from odailies_tui.connection import Connection
from odailies_tui.core.session import Session
from odailies_tui.sim import Simulator
from odailies_tui.ui.app import ODailiesApp
from odailies_tui.ui.clip_detail import detail_text
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
        assert status_text(view).startswith("OFFLINE · 2 edits queued, retrying")
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


async def test_cleared_date_is_refused_next_to_the_field_and_not_sent(
        sim: Simulator, state_dir: Path) -> None:
    app = make_app(sim)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_clips(app, pilot)
        name = str(view.table.cursor_key)
        assert sim.clips[name]["date"]
        before = copy.deepcopy(sim.clips)
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ClipForm)
        form.query_one("#f-date", Input).focus()
        await pilot.press("ctrl+u")
        await pilot.pause()
        error = form.query_one("#e-date", Static)
        assert error.display
        assert str(error.render()) == "a date cannot be cleared; type yyyyMMdd"
        await pilot.press("ctrl+s")  # refuses to save
        await pilot.pause()
        assert app.screen is form
        await pilot.press("escape")
        await pilot.pause(0.6)
        assert clip_patches(sim) == [] and sim.clips == before


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


async def test_known_read_only_token_refuses_first_edit_locally_once(
        sim: Simulator, state_dir: Path) -> None:
    """The Jobs probe already found the token read-only: ``c`` changes nothing, sends
    nothing, and says so once, in one clear sentence."""
    app = make_app(sim, token=sim.readonly_token)
    session = app.session
    session.edits.can_write = lambda: session.actions.can_write  # as core/session.py wires it
    notices: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_clips(app, pilot)
        assert await session.actions.check_write() is False
        original_notify = view.notify

        def notify(message: str, **kwargs) -> None:  # noqa: ANN003
            notices.append(message)
            original_notify(message, **kwargs)

        view.notify = notify  # type: ignore[method-assign]
        name = str(view.table.cursor_key)
        before = copy.deepcopy(sim.clips)
        sim.requests.clear()
        await pilot.press("c")
        await pilot.pause(0.6)
        assert notices == ["this token has no Write permission: edits are not possible; "
                           "browsing works"]
        assert view.book.value(name, "circled") is before[name]["circled"]
        assert not view.edits.pending and not view.edits.refusals
        assert "~" not in view.table.render_line(1).text
        assert clip_patches(sim) == [] and sim.clips == before
        assert "read-only token" in status_text(view)
        await pilot.press("e")  # the form does not open either
        await pilot.pause()
        assert app.screen is app.main_screen and len(notices) == 2


async def test_read_only_token_shows_refusal_and_browsing_works(sim: Simulator,
                                                               state_dir: Path) -> None:
    """The service's own 403 (when the write probe has not answered yet)."""
    app = make_app(sim, token=sim.readonly_token)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_clips(app, pilot)
        view.edits.can_write = lambda: None  # not known yet: the edit goes to the service
        name = view.book.names[0]
        before = copy.deepcopy(sim.clips)
        await pilot.press("c")
        await settle(pilot, view)
        assert sim.clips == before
        bar = status_text(view, "#clips-refusal")
        assert "this token has no Write permission" in bar
        assert bar.count("Write permission") == 1 and "lacks" not in bar  # said once
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


async def test_batch_form_shows_mixed_rating_and_circled_as_various(
        sim: Simulator, state_dir: Path) -> None:
    app = make_app(sim)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_clips(app, pilot)
        names = view.book.names[:3]
        with sim.lock:
            for name, circled, rating in zip(names, (True, False, True), (0, 3, 5), strict=True):
                sim.clips[name].update(circled=circled, rating=rating)
        view.reload()
        await app.workers.wait_for_complete()
        await pilot.press("m", "m", "m", "e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ClipForm)
        rating = form.query_one("#f-rating", Input)
        assert rating.value == "" and rating.placeholder == "(various)"
        circled = form.query_one("#f-circled", Select)
        assert circled.value == "various"
        assert "various" in str(circled.query_one("SelectCurrent Static#label").render())
        assert form.changes() == {}  # nothing touched: nothing to send
        form.query_one("#f-take", Input).focus()
        await pilot.press("ctrl+u", "9", "ctrl+s")
        await settle(pilot, view)
        assert clip_patches(sim) == [[{"name": n, "take": "9"} for n in names]]
        assert [(sim.clips[n]["circled"], sim.clips[n]["rating"]) for n in names] == [
            (True, 0), (False, 3), (True, 5)]


async def test_circled_reads_yes_or_no_in_words(sim: Simulator, state_dir: Path) -> None:
    app = make_app(sim)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_clips(app, pilot)
        name = next(n for n in view.book.names if sim.clips[n]["circled"] is False)
        view.table.move_to_key(name)
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ClipForm)
        circled = form.query_one("#f-circled", Select)
        assert str(circled.query_one("SelectCurrent Static#label").render()) == "no"
        circled.value = True
        await pilot.pause()
        assert str(circled.query_one("SelectCurrent Static#label").render()) == "yes"
        assert form.changes() == {"circled": True}
        await pilot.press("ctrl+s")
        await settle(pilot, view)
        assert clip_patches(sim) == [[{"name": name, "circled": True}]]


async def test_offline_status_is_compact_and_complete_at_80_columns(
        sim: Simulator, state_dir: Path) -> None:
    app = make_app(sim)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_clips(app, pilot)
        view.edits.backoff = (8.0, 30.0)
        await pilot.press("slash", *"A00", "enter", "m")  # a filter and a mark: more to say
        sim.stop()
        await pilot.press("c", "down", "c")
        await pilot.pause(0.8)  # debounce + a failed attempt
        line = status_text(view)
        assert line.startswith("OFFLINE · 2 edits queued, retrying in ")
        assert line.split("retrying in ")[1].split(" s")[0] in {"7", "8", "9", "10"}
        assert len(line) <= 78  # the status line has one cell of padding each side
        shown = view.query_one("#clips-status").content_region.width
        assert view.query_one("#clips-status").render_line(0).text.rstrip() == line[:shown]
        assert "network error" in status_text(view, "#clips-refusal")  # the full reason


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


async def test_filter_puts_cursor_on_first_match_and_clearing_keeps_it(
        sim: Simulator, state_dir: Path) -> None:
    app = make_app(sim)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_clips(app, pilot)
        target = [n for n in view.book.names if n.startswith("B")][3]
        view.table.move_to_key(target)  # on a match, but not the first
        await pilot.press("slash", "B")
        await pilot.pause()
        shown = list(view.table.keys)
        assert shown and all("b" in view.book._haystack[k] for k in shown)
        assert view.table.cursor_key == shown[0] != target
        assert "shown" in status_text(view)
        await pilot.press("enter", "down")
        assert view.table.cursor_key == shown[1]
        await pilot.press("escape")
        await pilot.pause()
        assert view.table.row_count == len(view.book.names)
        assert view.table.cursor_key == shown[1]  # cleared: still on its clip
        assert isinstance(app.focused, FastTable)


async def test_end_then_filter_then_c_circles_the_first_match_on_screen(
        state_dir: Path) -> None:
    """The trial: 5,000 clips, ``end``, ``/B027C``, ``enter``, ``c`` circled the last match,
    off-screen. The cursor must be on the first match, scrolled into view."""
    big = Simulator(clips=5000, jobs=1)
    big.start()
    try:
        app = make_app(big)
        async with app.run_test(size=(80, 24)) as pilot:
            view = await open_clips(app, pilot)
            await pilot.press("end")
            assert view.table.cursor_row == 4999
            await pilot.press("slash", *"B027C", "enter")
            await pilot.pause()
            shown = list(view.table.keys)
            assert len(shown) > 1 and all("b027c" in view.book._haystack[k] for k in shown)
            first = shown[0]
            before = big.clips[first]["circled"]
            await pilot.press("c")
            assert view.table.cursor_key == first
            assert view.book.value(first, "circled") is (not before)
            assert first in view.table.render_line(1).text  # on screen, the top row
            await settle(pilot, view)
            assert big.clips[first]["circled"] is (not before)
            assert clip_patches(big) == [[{"name": first, "circled": not before}]]
    finally:
        big.stop()


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
        assert {"Circle", "Rate", "Edit", "Mark ↓", "Undo", "Repeat", "Filter",
                "Reload"} <= described
        rows = screen._rows
        assert ("0–5", "Rate") in rows and ("c/space", "Circle") in rows
        assert not [d for _, d in rows if d.startswith("Rate ")]  # no "Rate 2", "Rate 0-5"


async def test_footer_reads_rate_once(sim: Simulator, state_dir: Path) -> None:
    app = make_app(sim)
    async with app.run_test(size=(160, 40)) as pilot:
        await open_clips(app, pilot)
        footer = " ".join(str(key.render()) for key in app.screen.query("FooterKey"))
        assert "0–5 Rate" in footer and "Rate 0" not in footer
        assert footer.count("Rate") == 1


def test_detail_pane_labels_read_as_words() -> None:
    text = detail_text("A001C001", {"tStop": "T4", "fStop": 2.8, "focalLength": 35,
                                    "whitePointKelvin": 5600, "inPoint": 12}).plain
    assert "T-stop 4" in text and "T T4" not in text
    assert "f-stop 2.8" in text and "focal length 35 mm" in text
    assert "white point 5600 K" in text and "in point 12" in text
