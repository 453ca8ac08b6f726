"""Typed models for clips and jobs, parsed leniently and kept with their unknown fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from odailies_tui.api.errors import ProtocolError

JOB_STATES: tuple[str, ...] = (
    "scheduled", "running", "succeeded", "failed", "aborted", "paused", "suspended",
    "unscheduled", "willSuspend", "willResume", "doNotQueue", "executingCompletion", "unknown",
)
JOB_TYPES: tuple[str, ...] = (
    "CopyJob", "OffloadJob", "RenderJob", "RelinkJob", "VerifyJob", "UploadJob",
    "DailiesUploadJob", "unknown",
)

#: every clip property of the contract (``name`` included)
CLIP_FIELDS: tuple[str, ...] = (
    "name", "scene", "shot", "take", "description", "circled", "rating", "inPoint", "camera",
    "timecode", "fps", "date", "duration", "reelName", "whitePointKelvin", "whitePointCcShift",
    "shutter", "filter", "ndFilter", "lens", "focalLength", "focusDistance", "asa", "sensorFps",
    "fStop", "tStop", "fileSize", "libraryPath",
)
#: every job property of the contract
JOB_FIELDS: tuple[str, ...] = (
    "id", "type", "state", "name", "readFlag", "remaining", "remainingSeconds", "bytesPerSecond",
    "progress", "path", "creationDate", "startDate", "finishDate",
)


def parse_time(value: Any, *, field_name: str = "time") -> datetime | None:
    """Parse ISO 8601 with ``Z`` or an offset; None stays None; naive times are refused."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        kind = type(value).__name__
        raise ProtocolError(f"{field_name}: expected an ISO 8601 string, got {kind}")
    text = value.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ProtocolError(f"{field_name}: not ISO 8601: {value!r}") from None
    if parsed.tzinfo is None:
        raise ProtocolError(f"{field_name}: time without a zone: {value!r}")
    return parsed


def parse_flag(value: Any) -> bool:
    """``readFlag`` comes as 0/1 and may be sent as a boolean: treat them alike."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@dataclass(slots=True)
class Job:
    """One o/DAILIES job as served. ``type``/``state`` keep unknown values as they come."""

    id: str
    type: str = "unknown"
    state: str = "unknown"
    name: str = ""
    read: bool = False
    remaining: str = ""
    remaining_seconds: float | None = None
    bytes_per_second: float | None = None
    progress: float = 0.0
    path: str | None = None
    creation_date: datetime | None = None
    start_date: datetime | None = None
    finish_date: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_api(cls, raw: Any) -> Job:
        """Build a job from one object of a jobs answer."""
        if not isinstance(raw, dict) or not raw.get("id"):
            raise ProtocolError("a job without an id")
        progress = _num(raw.get("progress")) or 0.0
        return cls(
            id=str(raw["id"]),
            type=str(raw.get("type") or "unknown"),
            state=str(raw.get("state") or "unknown"),
            name=str(raw.get("name") or ""),
            read=parse_flag(raw.get("readFlag", 0)),
            remaining=str(raw.get("remaining") or ""),
            remaining_seconds=_num(raw.get("remainingSeconds")),
            bytes_per_second=_num(raw.get("bytesPerSecond")),
            progress=min(max(progress, 0.0), 1.0),
            path=raw.get("path"),
            creation_date=parse_time(raw.get("creationDate"), field_name="creationDate"),
            start_date=parse_time(raw.get("startDate"), field_name="startDate"),
            finish_date=parse_time(raw.get("finishDate"), field_name="finishDate"),
            extra={k: v for k, v in raw.items() if k not in JOB_FIELDS},
        )


_CLIP_SCALARS = frozenset(f for f in CLIP_FIELDS if f != "name")


@dataclass(slots=True)
class Clip:
    """One clip. Known properties live in ``values`` (raw, exact: 23.976 stays 23.976);
    fields the contract does not list are kept in ``extra``."""

    name: str
    values: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_api(cls, raw: Any) -> Clip:
        """Build a clip from one object of a clips answer."""
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise ProtocolError("a clip without a name")
        values = {}
        extra = {}
        for key, value in raw.items():
            if key == "name":
                continue
            if key in _CLIP_SCALARS:
                values[key] = value
            else:
                extra[key] = value
        return cls(name=raw["name"], values=values, extra=extra)

    def get(self, key: str, default: Any = None) -> Any:
        """A property's value (or ``default`` when absent or null)."""
        if key == "name":
            return self.name
        value = self.values.get(key)
        return default if value is None else value

    @property
    def circled(self) -> bool:
        return bool(self.values.get("circled"))

    @property
    def rating(self) -> int:
        value = self.values.get("rating")
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


@dataclass(slots=True)
class PatchResult:
    """What the service says a PATCH did."""

    updated: int
    project_id: str
    keys: list[str]


@dataclass(slots=True)
class UploadTicket:
    """A signed upload URL and when it stops being valid."""

    url: str
    expires_at: datetime | None


@dataclass(slots=True)
class JobsPage:
    """One jobs answer: the jobs, the server's clock (``Date`` header) and the body size."""

    jobs: list[Job]
    server_time: datetime | None
    nbytes: int
    since: datetime | None = None
