"""Keep the token out of crash reports, tracebacks and logs. Call :func:`install` at start.

What Textual 8.2 does: on an unhandled exception ``App._handle_exception`` calls
``App._fatal_error``, which builds ``rich.traceback.Traceback(show_locals=True, width=None,
locals_max_length=5, suppress=[rich])`` (the flag is hard-coded; no setting or App attribute turns
it off), pre-renders it into ``App._exit_renderables`` and prints it to stderr when the app exits.
Local variables of every frame therefore reach the terminal: a ``str`` token or URL in any frame
would leak. Exceptions with ``__rich__`` and driver-thread failures go through ``App.panic``.

What :func:`install` does (idempotent):

* replaces ``App._fatal_error`` with a version that shows **no locals**, redacts the exception
  messages, notes and syntax-error lines in the extracted trace (so a wrapped line cannot split
  a token), then redacts every rendered line once more (source lines included);
* wraps ``App.panic`` so whatever it renders is redacted line by line;
* sets ``sys.excepthook`` and ``threading.excepthook`` to print redacted plain tracebacks;
* installs a log-record factory that redacts every record's message, exception text and stack,
  whichever logger or handler it goes to, and quiets the ``httpx``/``httpcore`` loggers.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback as pytraceback
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from odailies_tui.api.logs import quiet_http_loggers
from odailies_tui.api.redact import redact

_MARK = "_odailies_crashsafe"
_installed = False
#: Textual's own methods, kept so a test can show what they would have printed
ORIGINALS: dict[str, Any] = {}


# -- plain text -----------------------------------------------------------------------------

def format_exception_redacted(exc: BaseException | None,
                              tb: TracebackType | None = None) -> str:
    """A plain Python traceback of ``exc`` (chain included), every known token masked."""
    if exc is None:
        return ""
    text = "".join(pytraceback.format_exception(type(exc), exc, tb or exc.__traceback__))
    return redact(text)


def _excepthook(exc_type: type[BaseException], exc: BaseException,
                tb: TracebackType | None) -> None:
    sys.stderr.write(format_exception_redacted(exc, tb))


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    sys.stderr.write(f"Exception in thread {redact(name)}:\n")
    sys.stderr.write(format_exception_redacted(args.exc_value, args.exc_traceback))


# -- logging --------------------------------------------------------------------------------

def _redacting_factory(base: Any) -> Any:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record: keep only its format string
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = format_exception_redacted(
                record.exc_info[1], record.exc_info[2]).rstrip("\n")
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    setattr(factory, _MARK, True)
    return factory


# -- rich / Textual -------------------------------------------------------------------------

def _redact_trace(trace: Any) -> Any:
    """Mask tokens in every text of a ``rich.traceback.Trace`` (in place; returns it)."""
    for stack in trace.stacks:
        stack.exc_value = redact(stack.exc_value)
        stack.notes = [redact(note) for note in stack.notes]
        if stack.syntax_error is not None:
            stack.syntax_error.msg = redact(stack.syntax_error.msg)
            stack.syntax_error.line = redact(stack.syntax_error.line)
        for frame in stack.frames:
            frame.locals = None
            if frame.line:
                frame.line = redact(frame.line)
        for nested in stack.exceptions:
            _redact_trace(nested)
    return trace


def safe_traceback(exc: BaseException | None = None, **options: Any) -> Any:
    """A ``rich.traceback.Traceback`` of ``exc`` (default: the one being handled): no locals,
    tokens masked."""
    from rich.traceback import Traceback

    if exc is None:
        exc = sys.exc_info()[1]
    if exc is None:
        raise ValueError("no exception to show")
    trace = Traceback.extract(type(exc), exc, exc.__traceback__, show_locals=False)
    options.setdefault("width", None)
    return Traceback(_redact_trace(trace), show_locals=False, **options)


def redact_segments(segments: Iterable[Any]) -> list[Any]:
    """Rendered rich segments with each line that held a token rewritten, masked."""
    from rich.segment import Segment

    out: list[Segment] = []
    for line in Segment.split_lines(segments):
        text = "".join(seg.text for seg in line if not seg.control)
        clean = redact(text)
        if clean == text:
            out.extend(line)
        else:
            style = next((seg.style for seg in line if seg.text.strip()), None)
            out.append(Segment(clean, style))
        out.append(Segment.line())
    return out


def _render_redacted(app: Any, renderable: Any) -> Any:
    from rich.segment import Segments

    return Segments(redact_segments(app.console.render(renderable, app.console.options)))


def _patch_textual() -> None:
    import rich
    from textual.app import App

    if getattr(App._fatal_error, _MARK, False):
        return
    original_panic = App.panic
    ORIGINALS.update(_fatal_error=App._fatal_error, panic=App.panic)

    def _fatal_error(self: App) -> None:
        """Exit after an unhandled exception, printing a traceback without locals or token."""
        self.bell()
        error = sys.exc_info()[1] or getattr(self, "_exception", None)
        try:
            if error is None:
                raise ValueError("no exception")
            report: Any = _render_redacted(self, safe_traceback(error, suppress=[rich]))
        except Exception:  # noqa: BLE001 - never lose the report: fall back to plain text
            report = format_exception_redacted(error) or "stopped on an unexpected error"
        self._exit_renderables.append(report)
        self._close_messages_no_wait()

    def panic(self: App, *renderables: Any) -> None:
        """``App.panic`` with every rendered line redacted."""
        original_panic(self, *(_render_redacted(self, r) for r in renderables))

    setattr(_fatal_error, _MARK, True)
    setattr(panic, _MARK, True)
    App._fatal_error = _fatal_error  # type: ignore[method-assign]
    App.panic = panic  # type: ignore[method-assign]


def is_installed() -> bool:
    """True once :func:`install` has patched Textual, the excepthooks and logging."""
    from textual.app import App

    return (getattr(App._fatal_error, _MARK, False) and getattr(App.panic, _MARK, False)
            and sys.excepthook is _excepthook
            and getattr(logging.getLogRecordFactory(), _MARK, False))


def install() -> None:
    """Make crash reports, uncaught tracebacks and logs token-free (safe to call twice)."""
    global _installed
    _patch_textual()
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook
    factory = logging.getLogRecordFactory()
    if not getattr(factory, _MARK, False):
        logging.setLogRecordFactory(_redacting_factory(factory))
    quiet_http_loggers()
    _installed = True
