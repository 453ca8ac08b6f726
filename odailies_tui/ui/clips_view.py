"""The Clips view: every clip sorted by name, circled / rated / edited from the keyboard.

The view reads the ClipBook (server values under pending edits) and sends intents to the
EditQueue; neither HTTP nor JSON happens here. The table is a FastTable (Line API), which paints
only the rows on screen, so 20,000 clips cost what 20 do per frame.
"""

from __future__ import annotations

import math
from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from odailies_tui.api.errors import ApiError
from odailies_tui.core.clipbook import ClipBook, LoadResult
from odailies_tui.core.edits import READ_ONLY_MESSAGE, EditQueue
from odailies_tui.ui.clip_detail import CIRCLE, ClipDetail, clip_duration, show_value, stars
from odailies_tui.ui.clip_form import ClipForm
from odailies_tui.ui.widgets.fast_table import Column, FastTable

RELOAD_EVERY = 60.0
RATE_KEYS = "0–5"

CLIP_COLUMNS = (
    Column("flags", "", 2, priority=100),
    Column("name", "Name", 22, priority=100, flex=True),
    Column("scene", "Scene", 5, priority=92),
    Column("shot", "Shot", 4, priority=90),
    Column("take", "Take", 4, priority=91),
    Column("circled", "C", 1, priority=96),
    Column("rating", "Stars", 5, priority=95),
    Column("camera", "Cam", 3, priority=60),
    Column("reelName", "Reel", 6, priority=50),
    Column("timecode", "Timecode", 11, priority=70),
    Column("fps", "FPS", 6, priority=65, justify="right"),
    Column("date", "Date", 8, priority=40),
    Column("duration", "Length", 7, priority=30, justify="right"),
    Column("description", "Description", 16, priority=45, flex=True),
)


def delivery_state(pending: int, retry_in: float | None) -> str:
    """``2 edits queued, retrying in 8 s`` (the wait rounded up; ``retrying now`` at 0)."""
    edits = "1 edit" if pending == 1 else f"{pending:,} edits"
    if retry_in is None:
        return f"{edits} queued"
    seconds = math.ceil(retry_in)
    return f"{edits} queued, " + (f"retrying in {seconds} s" if seconds > 0 else "retrying now")


class ClipsLoaded(Message):
    """A clips reload finished: what changed, or the error."""

    def __init__(self, result: LoadResult | None, error: str | None) -> None:
        super().__init__()
        self.result = result
        self.error = error


class EditsChanged(Message):
    """The EditQueue changed these clips' values or pending/refused state."""

    def __init__(self, names: set[str]) -> None:
        super().__init__()
        self.names = names


class ClipsStatus(Static):
    """Clip count, circled count, filter in force, marked, pending and refused edits."""

    DEFAULT_CSS = """
    ClipsStatus { height: 1; padding: 0 1; background: $panel; }
    ClipsStatus.-error { background: $error; color: $text; }
    """


def redirect_key(event: events.Key, receiver: object, app: object) -> bool:
    """Keys typed in one burst are all queued on the widget focused when they arrived; after
    ``/`` (or ``enter`` in the filter box) the rest belong to the widget focused now. Re-send
    ``event`` there and return True when ``receiver`` is no longer the focused widget."""
    focused = getattr(app, "focused", None)
    if focused is None or focused is receiver:
        return False
    event.stop()
    event.prevent_default()
    focused._forward_event(events.Key(event.key, event.character))
    return True


class FilterInput(Input):
    """The ``/`` box; keys that reach it after focus went back to the table go there."""

    async def _on_key(self, event: events.Key) -> None:
        if redirect_key(event, self, self.app):
            return
        view = self.parent
        if event.key in ("enter", "escape") and isinstance(view, ClipsView):
            # act now, so the keys queued behind this one already go to the table
            event.stop()
            event.prevent_default()
            if event.key == "enter":
                view.filter_submitted()
            else:
                view.action_clear_filter()


class ClipTable(FastTable):
    """The clip list; keys typed right after ``/`` in the same burst go to the filter box."""

    async def _on_key(self, event: events.Key) -> None:
        if redirect_key(event, self, self.app):
            return
        view = self.parent
        if event.key == "slash" and isinstance(view, ClipsView):
            event.stop()
            event.prevent_default()
            view.action_filter()  # now, so the keys queued behind it reach the filter box


class ClipsView(Vertical):
    """Clip list, filter box, detail pane; keys for circle, rate, edit, mark, undo, repeat."""

    BINDINGS = [
        Binding("c,space", "toggle_circled", "Circle", key_display="c/space",
                id="clips.circle"),
        # one row in the footer and in ? help: every rating key reads "0–5 Rate"
        Binding("0", "rate(0)", "Rate", key_display=RATE_KEYS, id="clips.rate",
                tooltip="Rating 0–5 (0 clears the stars)"),
        *(Binding(str(n), f"rate({n})", "Rate", key_display=RATE_KEYS, show=False)
          for n in range(1, 6)),
        Binding("e", "edit", "Edit", key_display="e/enter", id="clips.edit"),
        Binding("m", "mark", "Mark ↓", id="clips.mark"),
        Binding("u", "undo", "Undo", id="clips.undo"),
        Binding("full_stop", "repeat", "Repeat", key_display=".", id="clips.repeat"),
        Binding("slash", "filter", "Filter", key_display="/", id="clips.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("exclamation_mark", "dismiss_refusals", "Dismiss refusals", show=False),
        Binding("r", "reload", "Reload", id="clips.reload"),
    ]

    DEFAULT_CSS = """
    ClipsView { height: 1fr; }
    ClipsView > #clips-filter { display: none; height: 1; border: none; padding: 0 1; }
    ClipsView > #clips-filter.-shown { display: block; }
    ClipsView > #clips-refusal { display: none; height: auto; max-height: 2; padding: 0 1;
                                 background: $error 30%; }
    ClipsView > #clips-refusal.-shown { display: block; }
    """

    def __init__(self, book: ClipBook, edits: EditQueue, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.book = book
        self.edits = edits
        self.marked: set[str] = set()
        self.load_error: str | None = None
        self._reload_timer: Timer | None = None
        self._reload_due = False
        self._refusals_seen = 0

    def compose(self) -> ComposeResult:
        yield ClipsStatus("loading clips…", id="clips-status")
        yield Static("", id="clips-refusal", markup=False)
        yield FilterInput(placeholder="filter: name, scene, shot, take, camera, reel, "
                          "description", id="clips-filter", disabled=True)
        yield ClipTable(CLIP_COLUMNS, self._cells, row_style=self._row_style, id="clips-table")
        yield ClipDetail(id="clips-detail")

    @property
    def table(self) -> FastTable:
        return self.query_one("#clips-table", FastTable)

    @property
    def filter_input(self) -> Input:
        return self.query_one("#clips-filter", Input)

    def on_mount(self) -> None:
        self.edits.listeners.append(self._edits_changed)
        self.set_interval(1.0, self._tick)
        replayed = self.edits.restore()
        if replayed:
            self.notify(f"{replayed} unsent clip edit(s) from the last session will be sent now",
                        title="Clips")
            self.edits.schedule(0.0)
        self.reload()

    def on_unmount(self) -> None:
        if self._edits_changed in self.edits.listeners:
            self.edits.listeners.remove(self._edits_changed)

    def _edits_changed(self, names: set[str]) -> None:
        self.post_message(EditsChanged(names))

    # -- rows -------------------------------------------------------------------------------

    def _cells(self, key: object) -> dict[str, str | Text]:
        name = str(key)
        values = self.book.values(name)
        status = self.edits.status(name)
        flag = "▸" if name in self.marked else " "
        flag += {"pending": "~", "refused": "!"}.get(status, " ")
        return {
            "flags": flag,
            "name": name,
            "scene": show_value(values.get("scene")),
            "shot": show_value(values.get("shot")),
            "take": show_value(values.get("take")),
            "circled": Text(CIRCLE, style="bold green") if values.get("circled") is True else "",
            "rating": Text(stars(values.get("rating")), style="yellow"),
            "camera": show_value(values.get("camera")),
            "reelName": show_value(values.get("reelName")),
            "timecode": show_value(values.get("timecode")),
            "fps": show_value(values.get("fps")),
            "date": show_value(values.get("date")),
            "duration": clip_duration(values.get("duration")),
            "description": show_value(values.get("description")),
        }

    def _row_style(self, key: object) -> str | None:
        status = self.edits.status(str(key))
        if status == "pending":
            return "italic"
        if status == "refused":
            return "red"
        return "bold" if str(key) in self.marked else None

    # -- status -----------------------------------------------------------------------------

    def update_status(self) -> None:
        """Render the status line, the refusal bar and the detail pane."""
        book, edits = self.book, self.edits
        status = self.query_one(ClipsStatus)
        pending = edits.unsent_count
        undelivered = bool(edits.last_error and pending)
        # (text, style, priority) in reading order; what does not fit goes, least needed first
        parts: list[tuple[str, str, int]] = []
        if undelivered:
            # what matters first and complete at 80 columns; the error itself is in the bar
            parts.append(("OFFLINE" if edits.offline else "NOT SENT", "bold reverse red", 100))
            parts.append((f"{delivery_state(pending, edits.retry_in)}", "bold red", 100))
        if not book.loaded:
            parts.append(("cannot load clips" if self.load_error else "loading clips…", "", 90))
        else:
            parts.append((f"{len(book):,} clips", "bold", 90))
            parts.append((f"{book.circled_count:,} circled", "", 40))
            if book.filter_text:
                parts.append((f"filter “{book.filter_text}”: {len(book.visible):,} shown",
                              "cyan", 80))
            if self.marked:
                parts.append((f"{len(self.marked)} marked", "bold", 70))
        if pending and not undelivered:
            parts.append((f"{pending} pending", "yellow", 75))
        if edits.refusals:
            parts.append((f"{len(edits.refusals)} refused", "bold red", 85))
        if edits.read_only:
            parts.append(("read-only token", "dim", 60))
        if edits.journal.error:
            parts.append(("JOURNAL NOT SAVED", "bold red", 95))
        width = status.content_region.width or 10_000
        while len(parts) > 1 and sum(len(t) + 3 for t, _, _ in parts) - 3 > width:
            parts.remove(min(parts, key=lambda part: part[2]))
        text = Text()
        for index, (part, style, _priority) in enumerate(parts):
            if index:
                text.append(" · ")
            text.append(part, style=style)
        status.set_class(bool(self.load_error and not book.loaded), "-error")
        status.update(text)
        bar = self.query_one("#clips-refusal", Static)
        lines = []
        if edits.refusals:
            last = edits.refusals[-1]
            more = f" (+{len(edits.refusals) - 1} more)" if len(edits.refusals) > 1 else ""
            lines.append(f"refused: {last.name} — {last.message}{more} · ! dismisses")
        if undelivered:
            lines.append(f"not sent: {edits.last_error} · r retries now")
        elif self.load_error and not book.loaded:
            lines.append(f"cannot load clips: {self.load_error} · r retries now")
        bar.update("\n".join(lines))
        bar.set_class(bool(lines), "-shown")
        self.update_detail()

    def on_resize(self) -> None:
        self.update_status()  # the status line drops or regains parts to fit

    def _tick(self) -> None:
        """Once a second while edits wait for a retry: count the seconds down."""
        if self.edits.retry_in is not None and self.edits.unsent_count:
            self.update_status()

    def update_detail(self) -> None:
        name = self.table.cursor_key
        detail = self.query_one(ClipDetail)
        if name is None:
            detail.show_clip(None, {})
            return
        name = str(name)
        detail.show_clip(name, self.book.values(name), pending=self.book.is_pending(name),
                         refusal=self.edits.refusal_for(name))

    @on(FastTable.Highlighted, "#clips-table")
    def _highlighted(self) -> None:
        self.update_detail()

    # -- loading ----------------------------------------------------------------------------

    @work(exclusive=True, group="clips-load", exit_on_error=False, description="load clips")
    async def reload(self) -> None:
        """Fetch the clips in the background, then arm the next reload."""
        if self._reload_timer is not None:
            self._reload_timer.stop()
            self._reload_timer = None
        try:
            result: LoadResult | None = await self.book.reload()
            error = None
        except ApiError as exc:
            result, error = None, str(exc)
        self.post_message(ClipsLoaded(result, error))
        self._reload_timer = self.set_timer(RELOAD_EVERY, self._timed_reload)

    def _timed_reload(self) -> None:
        """The minute is up: reload now if the view is on screen, else when it is shown."""
        if self.display:
            self.reload()
        else:
            self._reload_due = True

    def on_show(self) -> None:
        if self._reload_due:
            self._reload_due = False
            self.reload()

    @on(ClipsLoaded)
    def _loaded(self, message: ClipsLoaded) -> None:
        self.load_error = message.error
        result = message.result
        table = self.table
        if result is not None:
            if result.reordered or table.row_count != len(self.book.visible):
                self.marked &= set(self.book.clips)
                table.set_rows(self.book.visible)
            for name in result.changed:
                table.refresh_row(name)
        elif message.error and self.book.loaded:
            self.notify(f"clips not reloaded: {message.error}", severity="warning")
        self.update_status()

    @on(EditsChanged)
    def _edits_changed_msg(self, message: EditsChanged) -> None:
        table = self.table
        for name in message.names:
            table.refresh_row(name)
        refusals = self.edits.refusals
        if len(refusals) > self._refusals_seen:
            last = refusals[-1]
            self.notify(f"{last.name}: {last.message}", title="Edit refused", severity="error")
        self._refusals_seen = len(refusals)
        self.update_status()

    # -- editing ----------------------------------------------------------------------------

    def _cursor_name(self) -> str | None:
        key = self.table.cursor_key
        return None if key is None else str(key)

    def _edit(self, names: list[str], changes: dict[str, Any]) -> None:
        try:
            changed = self.edits.edit(names, changes)
        except ApiError as exc:
            self.notify(exc.message, title="Edit not made", severity="error")
            self.update_status()
            return
        for name in changed:
            self.table.refresh_row(name)

    def action_toggle_circled(self) -> None:
        name = self._cursor_name()
        if name is not None:
            self._edit([name], {"circled": self.book.value(name, "circled") is not True})

    def action_rate(self, rating: int) -> None:
        name = self._cursor_name()
        if name is not None:
            self._edit([name], {"rating": rating})

    def action_repeat(self) -> None:
        name = self._cursor_name()
        if name is None:
            return
        if not self.edits.last_changes:
            self.notify("nothing to repeat yet", severity="warning")
            return
        self._edit([name], dict(self.edits.last_changes))

    def action_undo(self) -> None:
        if not self.edits.undo_stack:
            self.notify("nothing to undo", severity="warning")
            return
        try:
            changed = self.edits.undo()
        except ApiError as exc:
            self.notify(exc.message, title="Undo not made", severity="error")
            return
        for name in changed:
            self.table.refresh_row(name)

    def action_mark(self) -> None:
        name = self._cursor_name()
        if name is None:
            return
        self.marked.symmetric_difference_update({name})
        self.table.refresh_row(name)
        self.table.action_cursor(1)
        self.update_status()

    def action_edit(self) -> None:
        names = [n for n in self.book.names if n in self.marked] if self.marked else []
        if not names:
            name = self._cursor_name()
            if name is None:
                return
            names = [name]
        if self.edits.read_only:
            self.notify(READ_ONLY_MESSAGE, title="Edit not made", severity="error")
            return
        rows = [self.book.values(n) for n in names]

        def done(changes: dict[str, Any] | None) -> None:
            if changes:
                self._edit(names, changes)
                if len(names) > 1:
                    self.marked.clear()
                    self.table.refresh_rows()
                    self.update_status()
            self._focus(self.table)

        self.app.push_screen(ClipForm(names, rows), done)

    @on(FastTable.Activated, "#clips-table")
    def _activated(self) -> None:
        self.action_edit()

    def action_dismiss_refusals(self) -> None:
        self.edits.dismiss_refusals()

    def action_reload(self) -> None:
        self.edits.retry_now()
        self.reload()

    # -- filter -----------------------------------------------------------------------------

    def _focus(self, widget: Input | FastTable) -> None:
        """Focus now, not after the queued keys: what is typed right after ``/`` (or after
        ``enter`` in the filter box) must land in the right widget."""
        try:
            self.screen.set_focus(widget)
        except Exception:  # not on a screen (being removed)
            widget.focus()

    def action_filter(self) -> None:
        box = self.filter_input
        box.disabled = False
        box.add_class("-shown")
        self._focus(box)

    @on(Input.Changed, "#clips-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.apply_filter(event.value)

    def apply_filter(self, text: str) -> None:
        """Narrow the table to clips matching ``text``. A new filter puts the cursor on the
        first match (scrolled into view), so ``c`` acts on a clip the user can see; clearing
        the filter keeps the cursor on its clip."""
        before = self.book.filter_text
        rows = self.book.set_filter(text)
        table = self.table
        if self.book.filter_text and self.book.filter_text != before:
            table.set_rows(rows, keep_cursor=False)
            table.action_jump(0)
        else:
            table.set_rows(rows)
        self.update_status()

    def filter_submitted(self) -> None:
        """``enter`` in the filter box: keep the filter, back to the table."""
        if not self.filter_input.value:
            self._hide_filter()
        self._focus(self.table)

    def _hide_filter(self) -> None:
        box = self.filter_input
        box.remove_class("-shown")
        box.disabled = True

    def action_clear_filter(self) -> None:
        box = self.filter_input
        if box.value or box.has_class("-shown") or self.book.filter_text:
            box.value = ""
            self.apply_filter("")
            self._focus(self.table)
            self._hide_filter()
        elif self.marked:
            self.marked.clear()
            self.table.refresh_rows()
            self.update_status()
