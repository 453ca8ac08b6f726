"""How clip values read on screen, and the detail pane with the wide camera fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.widgets import Static

from odailies_tui.core import formatting as fmt
from odailies_tui.core.edits import Refusal

CIRCLE = "●"
STAR, NO_STAR = "★", "·"


def show_value(value: Any) -> str:
    """A clip value as text: numbers exactly as served (23.976 stays 23.976), ``""`` for none."""
    if value is None or value is False:
        return ""
    if value is True:
        return "yes"
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def stars(rating: Any) -> str:
    """``★★★··`` for 3 (five cells); blank for 0 or none."""
    if not isinstance(rating, int) or isinstance(rating, bool) or rating <= 0:
        return ""
    rating = min(rating, 5)
    return STAR * rating + NO_STAR * (5 - rating)


def clip_duration(value: Any) -> str:
    """Seconds as ``3m 04s``; blank when absent."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt.short_duration(float(value))
    return show_value(value)


#: (label, property) pairs shown in the detail pane, in reading order
DETAIL_FIELDS: tuple[tuple[str, str], ...] = (
    ("lens", "lens"), ("focal length", "focalLength"), ("focus", "focusDistance"),
    ("T-stop", "tStop"), ("f-stop", "fStop"), ("ISO", "asa"), ("shutter", "shutter"),
    ("ND", "ndFilter"), ("filter", "filter"), ("white point", "whitePointKelvin"),
    ("tint", "whitePointCcShift"), ("sensor fps", "sensorFps"), ("in point", "inPoint"),
    ("size", "fileSize"), ("library", "libraryPath"),
)


def detail_value(key: str, value: Any) -> str:
    """One detail field as read: ``T4`` is shown as ``4`` after the "T-stop" label, a bare
    focal length gets ``mm``, a white point ``K``, a file size its unit."""
    if key == "fileSize" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt.size(value)
    shown = show_value(value)
    if key == "tStop" and shown[:1] in ("T", "t") and shown[1:2].isdigit():
        return shown[1:]
    if key == "fStop" and shown[:2] in ("f/", "F/") and shown[2:3].isdigit():
        return shown[2:]
    if key == "focalLength" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{shown} mm"
    if key == "whitePointKelvin" and isinstance(value, (int, float)):
        return f"{shown} K"
    return shown


def detail_text(name: str | None, values: Mapping[str, Any], *, pending: bool = False,
                refusal: Refusal | None = None) -> Text:
    """The detail pane's text for one clip."""
    text = Text(no_wrap=False, overflow="fold")
    if name is None:
        text.append("no clip selected", style="dim")
        return text
    text.append(name, style="bold")
    slate = [f"{label} {show_value(values.get(key)) or '—'}"
             for label, key in (("scene", "scene"), ("shot", "shot"), ("take", "take"))]
    text.append("  " + " · ".join(slate))
    if values.get("circled") is True:
        text.append(f"  {CIRCLE} circled", style="bold green")
    if stars(values.get("rating")):
        text.append(f"  {stars(values.get('rating'))}", style="yellow")
    if pending:
        text.append("  (edit not yet confirmed)", style="italic yellow")
    text.append("\n")
    parts = []
    for label, key in DETAIL_FIELDS:
        value = values.get(key)
        if value is None or value == "":
            continue
        parts.append(f"{label} {detail_value(key, value)}")
    text.append(" · ".join(parts) if parts else "no camera data", style="" if parts else "dim")
    description = show_value(values.get("description"))
    if description:
        text.append("\n")
        text.append(description, style="italic")
    if refusal is not None:
        text.append("\n")
        text.append(f"refused: {refusal.message}", style="bold red")
    return text


class ClipDetail(Static):
    """The selected clip's camera, lens and file fields (what the table has no room for)."""

    DEFAULT_CSS = """
    ClipDetail {
        height: auto; max-height: 6; min-height: 3;
        padding: 0 1; background: $panel; border-top: solid $accent 40%;
    }
    """

    def show_clip(self, name: str | None, values: Mapping[str, Any], *, pending: bool = False,
                  refusal: Refusal | None = None) -> None:
        """Show ``name`` with its values (as the user sees them)."""
        self.update(detail_text(name, values, pending=pending, refusal=refusal))
