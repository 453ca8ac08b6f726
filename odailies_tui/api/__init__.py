"""The o/DAILIES v2 HTTP contract: client, models, validation, errors, redaction."""

from odailies_tui.api.client import DEFAULT_BASE_URL, ODailiesClient
from odailies_tui.api.errors import (
    ApiError,
    ApiTimeout,
    BadRequest,
    InvalidToken,
    MethodNotAllowed,
    NetworkError,
    PermissionDenied,
    ProtocolError,
    ServerError,
    ValidationError,
)
from odailies_tui.api.models import Clip, Job, JobsPage, PatchResult, UploadTicket
from odailies_tui.api.redact import Secret, redact

__all__ = [
    "DEFAULT_BASE_URL", "ODailiesClient", "ApiError", "ApiTimeout", "BadRequest", "InvalidToken",
    "MethodNotAllowed", "NetworkError", "PermissionDenied", "ProtocolError", "ServerError",
    "ValidationError", "Clip", "Job", "JobsPage", "PatchResult", "UploadTicket", "Secret",
    "redact",
]
