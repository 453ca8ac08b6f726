"""Human figures for uploads (sizes, rates, time left), shared by the CLI and the TUI."""

from __future__ import annotations

import humanize


def fmt_size(n: float | None) -> str:
    """``412.3 MB`` (decimal units, as storage vendors count)."""
    return "–" if n is None else humanize.naturalsize(n, format="%.1f")


def fmt_rate(bytes_per_second: float | None) -> str:
    """``412.3 MB/s``, or ``–`` when unknown."""
    return "–" if not bytes_per_second else fmt_size(bytes_per_second) + "/s"


def fmt_duration(seconds: float | None) -> str:
    """``3 minutes``, ``4 seconds``; ``–`` when unknown."""
    if seconds is None:
        return "–"
    if seconds < 1:
        return "under a second"
    return humanize.naturaldelta(seconds)


def fmt_percent(fraction: float) -> str:
    """``42%`` (never shows 100% before the end)."""
    pct = fraction * 100
    return f"{min(int(pct), 99) if fraction < 1 else 100}%"
