"""Checks run before anything is sent: the service answers 400 to all of these anyway, but a
refusal found here costs no round trip and cannot half-apply."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from odailies_tui.api.errors import ValidationError
from odailies_tui.api.models import CLIP_FIELDS, JOB_FIELDS, JOB_STATES

_TEXT = {"scene", "shot", "take", "description", "camera", "timecode", "date", "reelName",
         "libraryPath"}
_NUMBER = {"fps", "duration", "whitePointKelvin", "whitePointCcShift", "fileSize"}
_TEXT_OR_NUMBER = {"shutter", "filter", "ndFilter", "lens", "focalLength", "focusDistance", "asa",
                   "sensorFps", "fStop", "tStop"}
#: the service refuses an empty date, so a date can be changed but never cleared
DATE_NOT_CLEARABLE = "a date cannot be cleared; type yyyyMMdd"
JOB_UPDATABLE: tuple[str, ...] = tuple(f for f in JOB_FIELDS if f not in ("id", "type"))


def check_clip_date(value: str) -> str:
    """Return ``value`` if it is ``yyyyMMdd`` and a real calendar day, else raise."""
    if not (isinstance(value, str) and len(value) == 8 and value.isdigit()):
        raise ValidationError(f"date must be yyyyMMdd, e.g. 20260422 (got {value!r})")
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise ValidationError(f"date {value} is not a real calendar day") from None
    return value


def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(float(value)))


def check_clip_value(key: str, value: Any) -> None:
    """Raise ValidationError when ``value`` is not acceptable for clip property ``key``."""
    if key not in CLIP_FIELDS:
        raise ValidationError(f"unknown clip property {key!r}")
    if value is None:
        return  # null is not written by the service; harmless
    if key == "date":
        if value == "":
            raise ValidationError(DATE_NOT_CLEARABLE)
        check_clip_date(value)
    elif key == "rating":
        if not (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 5):
            raise ValidationError(f"rating must be a whole number 0–5 (got {value!r})")
    elif key == "circled":
        if not isinstance(value, bool):
            raise ValidationError(f"circled must be true or false (got {value!r})")
    elif key == "inPoint" or key in _NUMBER:
        if not _is_number(value):
            raise ValidationError(f"{key} must be a number (got {value!r})")
    elif key in _TEXT or key == "name":
        if not isinstance(value, str):
            raise ValidationError(f"{key} must be text (got {value!r})")
    elif key in _TEXT_OR_NUMBER:
        if not (isinstance(value, str) or _is_number(value)):
            raise ValidationError(f"{key} must be text or a number (got {value!r})")


def check_clip_patch(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validate a bulk clip PATCH body: names present and unique, known keys, valid values."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in items:
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise ValidationError("every clip change needs a name")
        if name in seen:
            raise ValidationError(f"clip {name!r} named twice in one request")
        seen.add(name)
        for key, value in item.items():
            check_clip_value(key, value)
        if len(item) < 2:
            raise ValidationError(f"clip {name!r}: nothing to change")
        out.append(dict(item))
    if not out:
        raise ValidationError("no clip changes to send")
    return out


def check_job_patch(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validate a bulk job PATCH body: ids present and unique, known keys, valid values."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in items:
        job_id = item.get("id")
        if not isinstance(job_id, str) or not job_id:
            raise ValidationError("every job change needs an id")
        if job_id in seen:
            raise ValidationError(f"job {job_id} named twice in one request")
        seen.add(job_id)
        fields = [k for k in item if k != "id"]
        if not fields:
            raise ValidationError(f"job {job_id}: nothing to change")
        for key in fields:
            value = item[key]
            if key not in JOB_UPDATABLE:
                raise ValidationError(f"job property {key!r} cannot be changed")
            if key == "state" and value not in JOB_STATES:
                raise ValidationError(f"unknown job state {value!r}")
            if key == "progress" and not (_is_number(value) and 0.0 <= value <= 1.0):
                raise ValidationError(f"progress must be 0–1 (got {value!r})")
            if key == "readFlag" and value not in (0, 1, True, False):
                raise ValidationError(f"readFlag must be 0/1 or a boolean (got {value!r})")
        out.append(dict(item))
    if not out:
        raise ValidationError("no job changes to send")
    return out
