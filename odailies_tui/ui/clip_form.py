"""The edit form (``e`` / ``enter``): every writable clip property, grouped, checked as typed.

It returns only the properties the user changed, already converted to the contract's types;
the view hands them to the EditQueue. With several clips marked, a field on which they differ
starts empty ("various") and is left alone unless something is typed into it; Circled reads
yes / no in words (a Select), with "— various —" kept until another choice is made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from odailies_tui.api.errors import ValidationError
from odailies_tui.api.validate import check_clip_value
from odailies_tui.ui.clip_detail import show_value

#: (group title, [(property, label)]) in the order the form shows them
GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Slate", (("scene", "Scene"), ("shot", "Shot"), ("take", "Take"), ("circled", "Circled"),
               ("rating", "Rating 0–5"), ("description", "Description"))),
    ("Camera", (("camera", "Camera"), ("reelName", "Reel"), ("timecode", "Timecode"),
                ("fps", "FPS"), ("sensorFps", "Sensor FPS"), ("asa", "ISO (asa)"),
                ("shutter", "Shutter"), ("whitePointKelvin", "White point K"),
                ("whitePointCcShift", "Tint (CC)"), ("filter", "Filter"),
                ("ndFilter", "ND filter"))),
    ("Lens", (("lens", "Lens"), ("focalLength", "Focal length"),
              ("focusDistance", "Focus distance"), ("fStop", "f-stop"), ("tStop", "T-stop"))),
    ("File", (("date", "Date yyyyMMdd"), ("duration", "Duration s"), ("inPoint", "In point"),
              ("fileSize", "File size bytes"), ("libraryPath", "Library path"))),
)
NUMBER_FIELDS = {"fps", "duration", "whitePointKelvin", "whitePointCcShift", "fileSize",
                 "inPoint"}
TEXT_OR_NUMBER = {"shutter", "filter", "ndFilter", "lens", "focalLength", "focusDistance", "asa",
                  "sensorFps", "fStop", "tStop"}
VARIOUS = "(various)"
#: the Circled choice when the marked clips differ: leaves circled alone
KEEP = "various"
CIRCLED_CHOICES = (("yes", True), ("no", False))


def _number(text: str) -> int | float:
    """``"800"`` -> 800, ``"23.976"`` -> 23.976 (exact as typed); ValueError otherwise."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(text)
    return value


def parse_field(key: str, text: str, original: Any) -> Any:
    """Turn what was typed into the value to send, or raise ValidationError with the reason."""
    if key == "rating":
        try:
            value: Any = int(text.strip() or "0")
        except ValueError:
            raise ValidationError("rating must be a whole number 0–5") from None
    elif key in NUMBER_FIELDS:
        if not text.strip():
            raise ValidationError("a number is needed (the service cannot clear a number)")
        try:
            value = _number(text)
        except ValueError:
            raise ValidationError(f"not a number: {text!r}") from None
    elif key in TEXT_OR_NUMBER:
        value = text
        if isinstance(original, (int, float)) and not isinstance(original, bool) and text.strip():
            try:
                value = _number(text)
            except ValueError:
                value = text
    else:
        value = text.strip() if key == "date" else text
    check_clip_value(key, value)
    return value


def common_values(rows: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], set[str]]:
    """Values shared by every row, and the properties on which the rows differ."""
    shared: dict[str, Any] = {}
    various: set[str] = set()
    if not rows:
        return shared, various
    for _, fields in GROUPS:
        for key, _label in fields:
            first = rows[0].get(key)
            if all(row.get(key) == first for row in rows[1:]):
                shared[key] = first
            else:
                various.add(key)
    return shared, various


class ClipForm(ModalScreen[dict[str, Any] | None]):
    """Edit one clip, or the same fields of several; dismisses with the changes (or None)."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]

    DEFAULT_CSS = """
    ClipForm { align: center middle; }
    ClipForm > VerticalScroll {
        width: 96; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    ClipForm .form-title { text-style: bold; }
    ClipForm .form-group { text-style: bold; color: $accent; }
    ClipForm Grid { grid-size: 2; grid-columns: 1fr 1fr; grid-gutter: 0 2; height: auto;
                    grid-rows: auto; }
    ClipForm .field { height: auto; }
    ClipForm .row { height: 1; }
    ClipForm .row Label { width: 16; }
    ClipForm .row Input {
        width: 1fr; height: 1; border: none; padding: 0 1; background: $boost;
    }
    ClipForm .row Input:focus { background: $accent 30%; }
    ClipForm .row Select { width: 1fr; height: 1; }
    ClipForm .row Select > SelectCurrent { background: $boost; padding: 0 1; }
    ClipForm .row Select:focus > SelectCurrent { background: $accent 30%; }
    ClipForm .error { color: $error; height: auto; padding-left: 16; }
    ClipForm .hint { color: $text-muted; }
    """

    def __init__(self, names: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
        super().__init__()
        self.names = list(names)
        self.initial, self.various = common_values(rows)
        self.errors: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            if len(self.names) == 1:
                title = f"Edit {self.names[0]}"
            else:
                title = f"Edit {len(self.names)} marked clips (only fields you change are set)"
            yield Static(title, classes="form-title", markup=False)
            for group, fields in GROUPS:
                yield Static(group, classes="form-group")
                with Grid():
                    for key, label in fields:
                        yield from self._field(key, label)
            yield Static("ctrl+s or enter saves · escape cancels · emptying a text field "
                         "clears it (not a date)", classes="hint")

    def _field(self, key: str, label: str) -> ComposeResult:
        with Vertical(classes="field"):
            with Horizontal(classes="row"):
                yield Label(label)
                if key == "circled":
                    # yes / no in words (not a colour), and "various" while the clips differ
                    various = key in self.various
                    choices = ((("— various —", KEEP),) if various else ()) + CIRCLED_CHOICES
                    yield Select(choices, value=KEEP if various else self.initial.get(key) is True,
                                 allow_blank=False, compact=True, id=f"f-{key}")
                else:
                    value = "" if key in self.various else show_value(self.initial.get(key))
                    if key == "rating" and key not in self.various:
                        value = value or "0"
                    placeholder = VARIOUS if key in self.various else ""
                    yield Input(value, placeholder=placeholder, id=f"f-{key}",
                                select_on_focus=False)
            yield Static("", id=f"e-{key}", classes="error", markup=False)

    def on_mount(self) -> None:
        if not self.query("#f-scene"):
            return  # pushed while the app was quitting (``q`` then ``e``): nothing composed
        self.query_one("#f-scene", Input).focus()
        for key in [k for _, fields in GROUPS for k, _ in fields]:
            self.query_one(f"#e-{key}", Static).display = False

    # -- checking ---------------------------------------------------------------------------

    def _check(self, key: str) -> tuple[bool, Any]:
        """(changed, value) for one field; records or clears its error."""
        widget = self.query_one(f"#f-{key}")
        error = self.query_one(f"#e-{key}", Static)
        if isinstance(widget, Select):
            value: Any = widget.value
            self._set_error(key, error, None)
            if value == KEEP:
                return False, None
            return value != (self.initial.get(key) is True) or key in self.various, value
        assert isinstance(widget, Input)
        text = widget.value
        if key in self.various:
            changed = text != ""
        else:
            changed = text != (show_value(self.initial.get(key))
                               or ("0" if key == "rating" else ""))
        if not changed:
            self._set_error(key, error, None)
            return False, None
        try:
            value = parse_field(key, text, self.initial.get(key))
        except ValidationError as exc:
            self._set_error(key, error, exc.message)
            return True, None
        self._set_error(key, error, None)
        return True, value

    def _set_error(self, key: str, widget: Static, message: str | None) -> None:
        if message:
            self.errors[key] = message
            widget.update(message)
            widget.display = True
        else:
            self.errors.pop(key, None)
            widget.display = False

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        if event.input.id and event.input.id.startswith("f-"):
            self._check(event.input.id[2:])

    def changes(self) -> dict[str, Any] | None:
        """Every changed field as it will be sent, or None when a field is invalid."""
        out: dict[str, Any] = {}
        for _, fields in GROUPS:
            for key, _label in fields:
                changed, value = self._check(key)
                if changed and key not in self.errors:
                    out[key] = value
        return None if self.errors else out

    # -- actions ----------------------------------------------------------------------------

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        changes = self.changes()
        if changes is None:
            first = next(iter(self.errors))
            self.query_one(f"#f-{first}").focus()
            self.notify(f"{len(self.errors)} field(s) need fixing before saving",
                        severity="error")
            return
        self.dismiss(changes)

    def action_cancel(self) -> None:
        self.dismiss(None)
