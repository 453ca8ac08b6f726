"""Read what a Pilot-driven app shows, as plain text lines (for assertions)."""

from __future__ import annotations

from textual.app import App


def screen_text(app: App) -> str:
    """The current screen, one line per terminal row, without styles."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)
