"""Human figures for the screen and the CLI: rates, durations, sizes, bars (no Textual)."""

from __future__ import annotations

from datetime import UTC, datetime

import humanize

_BAR_FULL = "█"
_BAR_PARTS = " ▏▎▍▌▋▊▉"


def size(nbytes: float | None) -> str:
    """``12.4 GB`` (decimal units, as drives and the web app count)."""
    if nbytes is None:
        return "—"
    return humanize.naturalsize(nbytes, format="%.1f")


def rate(bps: float | None, *, estimated: bool = False) -> str:
    """``412.3 MB/s``; ``~`` marks an estimate; ``—`` when unknown."""
    if bps is None:
        return "—"
    text = humanize.naturalsize(bps, format="%.1f") + "/s"
    return f"~{text}" if estimated else text


def duration(seconds: float | None, *, estimated: bool = False) -> str:
    """``3 minutes``; ``~`` marks an estimate; ``—`` when unknown."""
    if seconds is None:
        return "—"
    if seconds < 1:
        text = "a moment"
    else:
        text = humanize.naturaldelta(seconds)
    return f"~{text}" if estimated else text


def short_duration(seconds: float | None) -> str:
    """Compact ``12m 04s`` / ``1h 05m`` / ``45s`` for narrow columns."""
    if seconds is None:
        return "—"
    total = int(round(max(seconds, 0)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def percent(fraction: float) -> str:
    """``62%`` (floors, so 99.6% never shows as done)."""
    return f"{int(max(min(fraction, 1.0), 0.0) * 100)}%"


def bar(fraction: float, width: int) -> str:
    """A progress bar of ``width`` cells with eighth-cell resolution."""
    fraction = max(min(fraction, 1.0), 0.0)
    eighths = int(fraction * width * 8)
    full, part = divmod(eighths, 8)
    text = _BAR_FULL * full
    if full < width:
        text += _BAR_PARTS[part] if part else ""
    return text.ljust(width, "·" if width else " ")[:width]


def clock(when: datetime | None, *, now: datetime | None = None) -> str:
    """Local ``HH:MM`` today, ``Mon 3 HH:MM`` on another day, ``—`` when absent."""
    if when is None:
        return "—"
    local = when.astimezone()
    today = (now or datetime.now(UTC)).astimezone().date()
    if local.date() == today:
        return local.strftime("%H:%M")
    return f"{local.strftime('%b')} {local.day} {local.strftime('%H:%M')}"


def ago(seconds: float) -> str:
    """``3 s ago`` / ``2 min ago`` / ``1 h ago``."""
    seconds = max(seconds, 0)
    if seconds < 90:
        return f"{int(seconds)} s ago"
    if seconds < 5400:
        return f"{int(seconds // 60)} min ago"
    return f"{int(seconds // 3600)} h ago"
