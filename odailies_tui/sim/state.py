"""Project state of the simulator: clips, jobs, validation of PATCH bodies, job progression.

All methods that touch ``clips``/``jobs`` take ``lock``. Validation errors raise ``ApiError``
carrying the HTTP status and the message the server answers with.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from .data import (
    CLIP_KEYS,
    JOB_KEYS,
    JOB_STATES,
    JobMeta,
    format_remaining,
    generate_clips,
    generate_jobs,
    iso,
    job_template,
    new_job_id,
    pick_type,
)

# A fixed instant for non-realtime simulators, so tests and snapshots see the same dates.
FIXED_START = datetime(2026, 4, 22, 10, 0, 0, tzinfo=UTC)

STEP = 1.0  # seconds of sim time per progression step
MAX_STEPS = 3600
TRANSITION_DELAY = 1.5  # willSuspend -> suspended, willResume -> running
COMPLETION_DELAY = 1.0  # executingCompletion -> succeeded
JOB_CAP = 300  # finished jobs kept beyond this are dropped, oldest first
MIN_RUNNING = 2

_LIVE_STATES = {"running", "willSuspend", "willResume", "scheduled", "executingCompletion"}
_PROGRESSING = {"running", "willSuspend", "willResume"}
_FINISHED = {"succeeded", "failed", "aborted"}

_STR_CLIP = {"name", "scene", "shot", "take", "description", "camera", "timecode", "reelName",
             "libraryPath"}
_NUM_CLIP = {"inPoint", "fps", "duration", "whitePointKelvin", "whitePointCcShift", "fileSize"}
_STR_OR_NUM_CLIP = {"shutter", "filter", "ndFilter", "lens", "focalLength", "focusDistance", "asa",
                    "sensorFps", "fStop", "tStop"}
_JOB_UPDATABLE = set(JOB_KEYS) - {"id", "type"}
_JOB_NULLABLE = {"remainingSeconds", "bytesPerSecond", "path", "creationDate", "startDate",
                 "finishDate"}
_DATE_RE = re.compile(r"^\d{8}$")


class ApiError(Exception):
    """An error answer: HTTP ``status`` and the ``message`` of the error envelope."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _is_num(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_zoned(value: str, what: str) -> datetime:
    """Parse ISO 8601 that carries a zone (``Z`` or ``±hh:mm``); else ``ApiError(400)``."""
    if " " in value:
        raise ApiError(400, f"{what} contains a space: a '+' in the UTC offset must be "
                            f"percent-encoded as %2B ({value!r})")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(400, f"{what} is not an ISO 8601 date-time: {value!r}") from None
    if "T" not in value or parsed.tzinfo is None:
        raise ApiError(400, f"{what} needs a date, a time and a zone (Z or ±hh:mm): {value!r}")
    return parsed


class ProjectState:
    """Clips and jobs of one project, with a simulated clock and job progression."""

    def __init__(
        self,
        project_id: str,
        clips: int,
        jobs: int,
        seed: int,
        realtime: bool,
        skew: Callable[[], float],
        start: datetime | None = None,
        running: int | None = None,
        autospawn: bool | None = None,
    ) -> None:
        self.project_id = project_id
        self.realtime = realtime
        self._skew = skew
        self.lock = threading.RLock()
        self.rng = random.Random(f"state-{seed}")
        self.offset = 0.0
        if start is None:
            self._base = None if realtime else FIXED_START.timestamp()
        else:
            self._base = start.timestamp()
            self._started_real = time.time()
        t0 = self.sim_time()
        self._stepped_to = t0
        self.clips: dict[str, dict] = generate_clips(
            clips, seed, datetime.fromtimestamp(t0 + skew(), UTC)
        )
        self.jobs: dict[str, dict] = {}
        self.meta: dict[str, JobMeta] = {}
        self.live: set[str] = set()
        self._seq = 0
        for api, meta in generate_jobs(jobs, seed, t0, running):
            self._insert(api, meta)
        self.autospawn = jobs > 0 if autospawn is None else autospawn
        self.cap = max(JOB_CAP, jobs)
        self._next_spawn = t0 + self.rng.uniform(20, 60)
        self._day = 12

    # -- clock -------------------------------------------------------------------------------

    def sim_time(self) -> float:
        """Unskewed simulated time (epoch seconds): drives job progression."""
        if self._base is None:
            return time.time() + self.offset
        if self.realtime:  # an explicit start that still follows the wall clock
            return self._base + (time.time() - self._started_real) + self.offset
        return self._base + self.offset

    def stamp(self, t: float | None = None) -> float:
        """The server clock (with skew) at sim time ``t`` (default now)."""
        return (self.sim_time() if t is None else t) + self._skew()

    def now(self) -> datetime:
        """The server clock as an aware UTC datetime."""
        return datetime.fromtimestamp(self.stamp(), UTC)

    # -- clips -------------------------------------------------------------------------------

    def list_clips(self) -> list[dict]:
        with self.lock:
            return [self.clips[name] for name in sorted(self.clips)]

    def get_clip(self, name: str) -> dict:
        with self.lock:
            clip = self.clips.get(name)
            if clip is None:
                # Interpretation: the contract has no 404; an unknown clip is a bad parameter.
                raise ApiError(400, f"unknown clip: {name!r}")
            return dict(clip)

    def patch_clips(self, items: object) -> list[str]:
        """Validate every object first, then write all (a 400 writes nothing)."""
        if not isinstance(items, list):
            raise ApiError(400, "body must be {\"data\": [clip, ...]}")
        seen: set[str] = set()
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise ApiError(400, f"data[{i}] must be an object")
            name = item.get("name")
            if not isinstance(name, str) or not name:
                raise ApiError(400, f"data[{i}] needs a non-empty string 'name'")
            if name in seen:
                raise ApiError(400, f"duplicate name in one request: {name!r}")
            seen.add(name)
            for key, value in item.items():
                _check_clip_field(i, key, value)
        with self.lock:
            for item in items:
                clip = self.clips.setdefault(item["name"], {"name": item["name"]})
                for key, value in item.items():
                    if value is not None:
                        clip[key] = value
        return [item["name"] for item in items]

    # -- jobs: reading -----------------------------------------------------------------------

    def list_jobs(self, since: datetime | None = None) -> list[dict]:
        """Newest first; with ``since`` only jobs with activity at or after it."""
        with self.lock:
            ids = self.meta.keys()
            if since is not None:
                cut = since.timestamp()
                ids = [i for i in ids if self.meta[i].activity >= cut]
            order = sorted(ids, key=lambda i: (self.meta[i].created, self.meta[i].seq),
                           reverse=True)
            return [dict(self.jobs[i]) for i in order]

    def get_job(self, job_id: str) -> dict:
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None:
                # Interpretation: the contract has no 404; an unknown job is a bad parameter.
                raise ApiError(400, f"unknown job id: {job_id!r}")
            return dict(job)

    # -- jobs: writing -----------------------------------------------------------------------

    def patch_jobs(self, items: object) -> list[str]:
        """Validate every object, then apply (a 400 changes nothing)."""
        if not isinstance(items, list):
            raise ApiError(400, "body must be {\"data\": [job, ...]}")
        seen: set[str] = set()
        clean: list[tuple[str, dict]] = []
        with self.lock:
            for i, item in enumerate(items):
                if not isinstance(item, dict):
                    raise ApiError(400, f"data[{i}] must be an object")
                job_id = item.get("id")
                if not isinstance(job_id, str) or not job_id:
                    raise ApiError(400, f"data[{i}] needs a string 'id'")
                if job_id in seen:
                    raise ApiError(400, f"duplicate id in one request: {job_id!r}")
                seen.add(job_id)
                if job_id not in self.jobs:
                    raise ApiError(400, f"unknown job id: {job_id!r}")
                fields: dict = {}
                for key, value in item.items():
                    if key == "id":
                        continue
                    if key == "type":
                        raise ApiError(400, f"data[{i}]: 'type' cannot be changed")
                    if key not in _JOB_UPDATABLE:
                        raise ApiError(400, f"data[{i}]: unknown key {key!r}")
                    fields[key] = _check_job_field(i, key, value)
                if not fields:
                    raise ApiError(400, f"data[{i}] needs at least one updatable field")
                clean.append((job_id, fields))
            t = self.sim_time()
            for job_id, fields in clean:
                self._apply_patch(job_id, fields, t)
        return [job_id for job_id, _ in clean]

    def _apply_patch(self, job_id: str, fields: dict, t: float) -> None:
        job, meta = self.jobs[job_id], self.meta[job_id]
        state = fields.get("state")
        job.update(fields)
        if state == "willSuspend":
            meta.pending = ("suspended", t + TRANSITION_DELAY)
        elif state == "willResume":
            meta.pending = ("running", t + TRANSITION_DELAY)
        elif state is not None:
            meta.pending = None
            if state in _FINISHED | {"suspended", "paused"}:
                self._stop_figures(job)
            if state in _FINISHED and job["finishDate"] is None:
                job["finishDate"] = iso(self.stamp(t))
            if state == "running" and job["startDate"] is None:
                job["startDate"] = iso(self.stamp(t))
        self._touch(job_id, t)

    def set_job(self, job_id: str, **fields: object) -> None:
        """Test helper: write fields as given (no validation, extra keys kept) and mark the job
        active now."""
        with self.lock:
            if job_id not in self.jobs:
                raise KeyError(job_id)
            self.jobs[job_id].update(fields)
            if "state" in fields:
                self.meta[job_id].pending = None
            self._touch(job_id, self.sim_time())

    def add_job(self, **fields: object) -> str:
        """Test helper: insert a job (the newest), defaults filled in; returns its id.

        Fields are stored as given, unvalidated: odd types, states or extra keys are served
        as they are (a job object may carry more fields than the contract lists).
        """
        with self.lock:
            t = self.sim_time()
            job_type = str(fields.get("type", "CopyJob"))
            api, meta = job_template(self.rng, job_type, self._day, 1 + self._seq % 90)
            api.update(creationDate=iso(self.stamp(t)), state="scheduled")
            api.update(fields)
            if "id" not in fields:
                api["id"] = new_job_id(self.rng)
            meta.created, meta.fail_at = t, None
            if api["state"] == "scheduled":
                meta.start_at = None  # a test job waits until told otherwise
            self._insert(api, meta)
            self._touch(api["id"], t)
            return api["id"]

    # -- progression -------------------------------------------------------------------------

    def catch_up(self) -> None:
        """Move every job forward to the current sim time."""
        with self.lock:
            target = self.sim_time()
            t = self._stepped_to
            # At most ~MAX_STEPS steps per catch-up: a day-long jump (or a laptop that slept)
            # costs milliseconds, with coarser steps.
            step = max(STEP, (target - t) / MAX_STEPS)
            while t < target:
                dt = min(step, target - t)
                t += dt
                self._step(t, dt)
            self._stepped_to = max(self._stepped_to, target)

    def _step(self, t: float, dt: float) -> None:
        for job_id in list(self.live):
            job, meta = self.jobs[job_id], self.meta[job_id]
            state = job["state"]
            if meta.pending and t >= meta.pending[1]:
                new_state = meta.pending[0]
                meta.pending = None
                job["state"] = state = new_state
                if new_state == "succeeded":
                    self._finish(job_id, "succeeded", t)
                    continue
                if new_state == "suspended":
                    self._stop_figures(job)
                self._touch(job_id, t)
            if state == "scheduled" and meta.start_at is not None and t >= meta.start_at:
                job["state"] = state = "running"
                job["startDate"] = iso(self.stamp(t))
                meta.start_at = None
                self._touch(job_id, t)
            if state in _PROGRESSING:
                self._progress(job_id, job, meta, t, dt)
        if self.autospawn:
            running = sum(1 for i in self.live if self.jobs[i]["state"] in _PROGRESSING)
            if t >= self._next_spawn or running < MIN_RUNNING:
                self._spawn(t, start_now=running < MIN_RUNNING)
                self._next_spawn = t + self.rng.uniform(20, 60)

    def _progress(self, job_id: str, job: dict, meta: JobMeta, t: float, dt: float) -> None:
        rate = max(0.05, self.rng.gauss(1.0, 0.08)) * meta.rate
        total = max(1, meta.total_bytes)
        progress = min(1.0, float(job["progress"] or 0.0) + rate * dt / total)
        if meta.fail_at is not None and progress >= meta.fail_at:
            job["progress"] = round(meta.fail_at, 4)
            self._finish(job_id, "failed", t)
            return
        if progress >= 1.0:
            job["progress"] = 1.0
            self._stop_figures(job)
            job["state"] = "executingCompletion"
            meta.pending = ("succeeded", t + COMPLETION_DELAY)
            self._touch(job_id, t)
            return
        job["progress"] = round(progress, 4)
        if meta.reports_rate:
            left = (1.0 - progress) * total / rate
            job["bytesPerSecond"] = int(rate)
            job["remainingSeconds"] = int(round(left))
            job["remaining"] = format_remaining(left)
        self._touch(job_id, t)

    def _finish(self, job_id: str, state: str, t: float) -> None:
        job, meta = self.jobs[job_id], self.meta[job_id]
        job["state"] = state
        job["finishDate"] = iso(self.stamp(t))
        self._stop_figures(job)
        meta.pending = None
        self._touch(job_id, t)
        if state == "succeeded" and job["type"] in ("CopyJob", "OffloadJob"):
            api, vmeta = job_template(self.rng, "VerifyJob", self._day, 1)
            api.update(name=job["name"], path=job["path"], state="running",
                       creationDate=iso(self.stamp(t)), startDate=iso(self.stamp(t)))
            vmeta.created, vmeta.total_bytes, vmeta.source = t, meta.total_bytes, meta.source
            self._insert(api, vmeta)
            self._touch(api["id"], t)

    def _spawn(self, t: float, start_now: bool) -> None:
        if self.rng.random() < 0.02:
            self._day += 1
        api, meta = job_template(self.rng, pick_type(self.rng), self._day,
                                 1 + self.rng.randrange(99))
        api["creationDate"] = iso(self.stamp(t))
        meta.created = t
        if start_now or self.rng.random() < 0.5:
            api["state"], api["startDate"] = "running", iso(self.stamp(t))
        else:
            meta.start_at = t + self.rng.uniform(3, 30)
        self._insert(api, meta)
        self._touch(api["id"], t)
        self._trim()

    def _trim(self) -> None:
        excess = len(self.jobs) - self.cap
        if excess <= 0:
            return
        for job_id in sorted(self.meta, key=lambda i: self.meta[i].seq):
            if excess <= 0:
                break
            if job_id not in self.live and self.jobs[job_id]["state"] not in _PROGRESSING:
                del self.jobs[job_id], self.meta[job_id]
                excess -= 1

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _stop_figures(job: dict) -> None:
        job["bytesPerSecond"] = None
        job["remainingSeconds"] = None
        job["remaining"] = ""

    def _insert(self, api: dict, meta: JobMeta) -> None:
        meta.seq = self._seq
        self._seq += 1
        self.jobs[api["id"]] = api
        self.meta[api["id"]] = meta
        self._refresh_live(api["id"])

    def _touch(self, job_id: str, t: float) -> None:
        self.meta[job_id].activity = self.stamp(t)
        self._refresh_live(job_id)

    def _refresh_live(self, job_id: str) -> None:
        if self.jobs[job_id]["state"] in _LIVE_STATES or self.meta[job_id].pending:
            self.live.add(job_id)
        else:
            self.live.discard(job_id)


def _check_clip_field(i: int, key: str, value: object) -> None:
    if key not in CLIP_KEYS:
        raise ApiError(400, f"data[{i}]: unknown key {key!r}")
    if value is None:
        return  # null fields are ignored, never written
    bad = False
    if key in _STR_CLIP:
        bad = not isinstance(value, str)
    elif key == "circled":
        bad = not isinstance(value, bool)
    elif key == "rating":
        bad = not (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 5)
    elif key == "date":
        if not isinstance(value, str) or not _DATE_RE.match(value):
            raise ApiError(400, f"data[{i}]: 'date' must be a yyyyMMdd string, got {value!r}")
        try:
            datetime.strptime(value, "%Y%m%d")
        except ValueError:
            raise ApiError(400, f"data[{i}]: 'date' is not a calendar day: {value!r}") from None
    elif key in _NUM_CLIP:
        bad = not _is_num(value)
    elif key in _STR_OR_NUM_CLIP:
        bad = not (isinstance(value, str) or _is_num(value))
    if bad:
        raise ApiError(400, f"data[{i}]: bad value for {key!r}: {value!r}")


def _check_job_field(i: int, key: str, value: object) -> object:
    """Validate one job field; return the value to store."""
    if value is None:
        if key in _JOB_NULLABLE:
            return None
        raise ApiError(400, f"data[{i}]: {key!r} cannot be null")
    if key == "state":
        if value not in JOB_STATES:
            raise ApiError(400, f"data[{i}]: unknown state {value!r}")
        return value
    if key == "readFlag":
        if value in (0, 1) and not isinstance(value, float):
            return int(value)  # booleans are accepted and stored as 0/1
        raise ApiError(400, f"data[{i}]: readFlag must be 0, 1, true or false, got {value!r}")
    if key == "progress":
        if not _is_num(value) or not 0.0 <= value <= 1.0:
            raise ApiError(400, f"data[{i}]: progress must be a number 0..1, got {value!r}")
        return value
    if key in ("remainingSeconds", "bytesPerSecond"):
        if not _is_num(value) or value < 0:
            raise ApiError(400, f"data[{i}]: {key} must be a number >= 0, got {value!r}")
        return value
    if key in ("creationDate", "startDate", "finishDate"):
        if not isinstance(value, str):
            raise ApiError(400, f"data[{i}]: {key} must be an ISO 8601 string")
        parse_zoned(value, key)
        return value
    if not isinstance(value, str):  # name, remaining, path
        raise ApiError(400, f"data[{i}]: {key} must be a string, got {value!r}")
    return value
