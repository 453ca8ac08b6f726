"""Keep the HTTP libraries' loggers from ever printing a raw URL."""

from __future__ import annotations

import logging

from odailies_tui.api.redact import redact

_HTTP_LOGGERS = ("httpx", "httpcore", "httpcore.connection", "httpcore.http11",
                 "httpcore.http2", "httpcore.proxy", "hpack")


class RedactingFilter(logging.Filter):
    """Rewrites a record's message with every known token replaced by ``***``."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record: drop its arguments rather than risk a leak
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        return True


_FILTER = RedactingFilter()


def quiet_http_loggers(level: int = logging.WARNING) -> None:
    """Raise the HTTP loggers to ``level`` and redact whatever they still emit."""
    for name in _HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < level:
            logger.setLevel(level)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    app_logger = logging.getLogger("odailies_tui")
    if _FILTER not in app_logger.filters:
        app_logger.addFilter(_FILTER)
