"""Typed errors of the o/DAILIES client. Every message is already redacted."""

from __future__ import annotations

from odailies_tui.api.redact import redact


class ApiError(Exception):
    """Any failure talking to o/DAILIES. ``status`` is the HTTP status, or None."""

    status: int | None = None
    #: a short label for status lines ("invalid token", "offline"...)
    kind: str = "error"

    def __init__(self, message: str, status: int | None = None) -> None:
        self.message = redact(message)
        if status is not None:
            self.status = status
        super().__init__(self.message)

    def __str__(self) -> str:
        if self.status:
            return f"{self.status} {self.kind}: {self.message}"
        return f"{self.kind}: {self.message}"


class ValidationError(ApiError, ValueError):
    """A request refused locally, before anything was sent."""

    kind = "invalid"


class BadRequest(ApiError):
    """400: the service refused the format, a parameter or the body."""

    status = 400
    kind = "refused"


class InvalidToken(ApiError):
    """401: the token is not valid for this project."""

    status = 401
    kind = "invalid token"


class PermissionDenied(ApiError):
    """403: the token lacks the permission (Read, Write or Upload)."""

    status = 403
    kind = "permission denied"


class MethodNotAllowed(ApiError):
    """405: the method is not allowed on that path."""

    status = 405
    kind = "method not allowed"


class ServerError(ApiError):
    """5xx (or an unexpected status): the service failed."""

    status = 500
    kind = "server error"


class NetworkError(ApiError):
    """The request did not complete: refused, reset, DNS, TLS..."""

    kind = "network error"


class ApiTimeout(NetworkError):
    """The service did not answer in time."""

    kind = "timeout"


class ProtocolError(ApiError):
    """The service answered something that does not follow the contract."""

    kind = "bad answer"


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: InvalidToken,
    403: PermissionDenied,
    405: MethodNotAllowed,
}


def error_for_status(status: int, message: str) -> ApiError:
    """Return the typed error for an HTTP status and the server's message."""
    cls = _BY_STATUS.get(status, ServerError)
    return cls(message or f"HTTP {status}", status)
