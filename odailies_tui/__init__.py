"""odailies-tui: a keyboard-first terminal monitor for o/DAILIES projects."""

__version__ = "0.1.0"
