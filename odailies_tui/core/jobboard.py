"""JobBoard: what the app knows about jobs, kept current with ``since`` polls.

First a full GET, then ``since`` polls whose cursor is the server's clock (``Date`` header) less
an overlap; answers are merged by ``id``. A full resync runs periodically and after any error.
Throughput and time left come from the API, or are estimated from progress over time.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from odailies_tui.api.errors import ApiError, NetworkError
from odailies_tui.api.models import Job, JobsPage

ACTIVE_STATES = frozenset({"running", "executingCompletion", "willSuspend", "willResume"})
WAITING_STATES = frozenset({"scheduled", "paused", "suspended", "unscheduled", "doNotQueue"})
DONE_STATES = frozenset({"succeeded"})
BAD_STATES = frozenset({"failed", "aborted"})
FINISHED_STATES = DONE_STATES | BAD_STATES


#: progress samples a job needs before its time left is estimated from them
ESTIMATE_AFTER_SAMPLES = 4


def outcome(state: str) -> str:
    """Group a state for colour and filtering: running, waiting, succeeded, failed, other."""
    if state in ACTIVE_STATES:
        return "running"
    if state in WAITING_STATES:
        return "waiting"
    if state in DONE_STATES:
        return "succeeded"
    if state in BAD_STATES:
        return "failed"
    return "other"


class JobsSource(Protocol):
    """What the board needs from the API client."""

    async def list_jobs(self, since: datetime | None = None) -> JobsPage: ...


@dataclass(slots=True)
class Sample:
    """One observation of a job: when (monotonic seconds), progress, bytes per second."""

    t: float
    progress: float
    bps: float | None


@dataclass
class TrackedJob:
    """A job plus what the board derives from watching it."""

    job: Job
    seen_at: float
    history: deque[Sample] = field(default_factory=lambda: deque(maxlen=180))
    est_fraction_per_s: float | None = None
    est_total_bytes: float | None = None
    version: int = 0

    @property
    def id(self) -> str:
        return self.job.id

    @property
    def outcome(self) -> str:
        return outcome(self.job.state)

    @property
    def throughput(self) -> float | None:
        """Bytes per second: the API's, else an estimate (see ``throughput_estimated``)."""
        if self.job.bytes_per_second is not None:
            return self.job.bytes_per_second
        if self.outcome != "running":
            return None
        if self.est_fraction_per_s is not None and self.est_total_bytes:
            return self.est_fraction_per_s * self.est_total_bytes
        return None

    @property
    def throughput_estimated(self) -> bool:
        return self.job.bytes_per_second is None and self.throughput is not None

    @property
    def seconds_left(self) -> float | None:
        """Seconds until done: the API's ``remainingSeconds``, else an estimate."""
        job = self.job
        if self.outcome != "running":
            return None
        if job.remaining_seconds is not None:
            return max(job.remaining_seconds, 0.0)
        if (self.est_fraction_per_s and self.est_fraction_per_s > 0
                and len(self.history) >= ESTIMATE_AFTER_SAMPLES):
            # a guess from one or two tiny steps swings wildly ("~3 hours"): wait for a few
            return max(1.0 - job.progress, 0.0) / self.est_fraction_per_s
        return None

    @property
    def seconds_left_estimated(self) -> bool:
        return self.job.remaining_seconds is None and self.seconds_left is not None

    def observe(self, job: Job, now: float) -> bool:
        """Take a fresh copy of the job; update the estimates. True when anything changed."""
        old = self.job
        changed = job != old
        if old.progress != job.progress or not self.history:
            prev = self.history[-1] if self.history else None
            self.history.append(Sample(now, job.progress, job.bytes_per_second))
            if prev is not None and now > prev.t and job.progress > prev.progress:
                dp = job.progress - prev.progress
                rate = dp / (now - prev.t)
                old_rate = self.est_fraction_per_s
                self.est_fraction_per_s = rate if old_rate is None else 0.4 * rate + 0.6 * old_rate
                if job.bytes_per_second and prev.bps:
                    total = ((job.bytes_per_second + prev.bps) / 2) * (now - prev.t) / dp
                    self.est_total_bytes = (total if self.est_total_bytes is None
                                            else 0.5 * total + 0.5 * self.est_total_bytes)
        elif self.history and job.bytes_per_second != self.history[-1].bps:
            self.history.append(Sample(now, job.progress, job.bytes_per_second))
        if outcome(job.state) != "running":
            self.est_fraction_per_s = None
        self.job = job
        self.seen_at = now
        if changed:
            self.version += 1
        return changed


@dataclass(slots=True)
class JobEvent:
    """A job reached an outcome between two polls."""

    job: Job
    old_state: str
    new_state: str

    @property
    def outcome(self) -> str:
        return outcome(self.new_state)


@dataclass(slots=True)
class Totals:
    """Figures across running jobs for the header line."""

    running: int
    waiting: int
    failed: int
    throughput: float
    throughput_estimated: bool
    seconds_left: float | None
    seconds_left_estimated: bool


@dataclass(slots=True)
class PollResult:
    """What one poll did, for the UI to apply in place."""

    ok: bool
    full: bool
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    events: list[JobEvent] = field(default_factory=list)
    error: ApiError | None = None
    nbytes: int = 0
    #: the first good poll after one or more failed ones (it is always a full resync)
    recovered: bool = False


class JobBoard:
    """All jobs of a project, merged by id, newest first, with derived figures."""

    def __init__(
        self,
        source: JobsSource,
        *,
        interval: float = 2.0,
        idle_interval: float | None = None,
        max_interval: float = 60.0,
        overlap: float = 5.0,
        resync_every: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now().astimezone(),
        rng: random.Random | None = None,
        reset_pool_after: int = 3,
    ) -> None:
        self.source = source
        self.interval = interval
        self.idle_interval = idle_interval if idle_interval is not None else max(interval * 5, 10.0)
        self.max_interval = max_interval
        self.overlap = timedelta(seconds=overlap)
        self.resync_every = resync_every
        self.clock = clock
        self.wall = wall
        self.reset_pool_after = reset_pool_after
        self.rng = rng or random.Random()
        self.jobs: dict[str, TrackedJob] = {}
        self._totals: Totals | None = None
        self.order: list[str] = []
        self.cursor: datetime | None = None
        self.last_ok: float | None = None
        #: local wall-clock time of the last good poll (for "last good poll at 14:02:17")
        self.last_ok_at: datetime | None = None
        #: how many times the connection pool was rebuilt after repeated network failures
        self.pool_resets = 0
        self.last_full: float | None = None
        self.last_error: ApiError | None = None
        self.failures = 0
        self.polls = 0
        self.server_time: datetime | None = None
        #: (monotonic time, total bytes/s of running jobs), one sample per good poll
        self.throughput_history: deque[tuple[float, float]] = deque(maxlen=300)
        self._need_full = True

    # -- state ------------------------------------------------------------------------------

    @property
    def offline(self) -> bool:
        """True while the last poll failed."""
        return self.last_error is not None

    def request_full(self) -> None:
        """Make the next poll a full GET (after an error, on user request...)."""
        self._need_full = True

    def ordered(self) -> list[TrackedJob]:
        """Jobs newest first."""
        return [self.jobs[i] for i in self.order]

    def totals(self) -> Totals:
        """Totals across running jobs (computed once per merged poll)."""
        if self._totals is None:
            self._totals = self._compute_totals()
        return self._totals

    def _compute_totals(self) -> Totals:
        running = [t for t in self.jobs.values() if t.outcome == "running"]
        rates = [t.throughput for t in running]
        lefts = [t.seconds_left for t in running]
        known_lefts = [s for s in lefts if s is not None]
        return Totals(
            running=len(running),
            waiting=sum(1 for t in self.jobs.values() if t.outcome == "waiting"),
            failed=sum(1 for t in self.jobs.values() if t.outcome == "failed" and not t.job.read),
            throughput=sum(r for r in rates if r is not None),
            throughput_estimated=any(t.throughput_estimated for t in running),
            seconds_left=max(known_lefts) if known_lefts else None,
            seconds_left_estimated=any(t.seconds_left_estimated for t in running),
        )

    def next_interval(self) -> float:
        """Seconds until the next poll: fast while jobs run, slow when idle, backing off
        (with jitter) while offline."""
        if self.failures:
            backoff = min(self.interval * (2 ** min(self.failures, 8)), self.max_interval)
            return backoff * (0.75 + self.rng.random() * 0.5)
        if any(t.outcome == "running" for t in self.jobs.values()):
            return self.interval
        return self.idle_interval

    # -- polling ----------------------------------------------------------------------------

    async def poll(self, *, full: bool | None = None) -> PollResult:
        """Fetch and merge jobs. Never raises for API failures: they land in the result."""
        now = self.clock()
        want_full = (full if full is not None else
                     self._need_full or self.cursor is None
                     or (self.last_full is not None and now - self.last_full >= self.resync_every))
        try:
            page = await self.source.list_jobs(None if want_full else self.cursor)
        except Exception as exc:  # a poll must never take the monitor down
            error = exc if isinstance(exc, ApiError) else ApiError(
                f"unexpected {type(exc).__name__} while polling")
            self.failures += 1
            self.last_error = error
            self._need_full = True
            await self._maybe_reset_pool(error)
            return PollResult(ok=False, full=want_full, error=error)
        recovered = self.failures > 0
        result = self._merge(page, want_full, self.clock())
        result.recovered = recovered
        return result

    async def _maybe_reset_pool(self, error: ApiError) -> None:
        """After ``reset_pool_after`` network failures in a row, rebuild the connection pool
        (a half-dead keep-alive connection can outlive a network change)."""
        if not isinstance(error, NetworkError) or self.reset_pool_after <= 0:
            return
        if self.failures % self.reset_pool_after:
            return
        reset = getattr(self.source, "reset_pool", None)
        if reset is None:
            return
        try:
            await reset()
            self.pool_resets += 1
        except Exception:  # closing a broken pool may fail; the next poll retries
            pass

    def _merge(self, page: JobsPage, full: bool, now: float) -> PollResult:
        self._totals = None
        result = PollResult(ok=True, full=full, nbytes=page.nbytes)
        first = self.last_ok is None
        fresh_ids = set()
        for job in page.jobs:
            fresh_ids.add(job.id)
            tracked = self.jobs.get(job.id)
            if tracked is None:
                tracked = TrackedJob(job=job, seen_at=now)
                tracked.history.append(Sample(now, job.progress, job.bytes_per_second))
                self.jobs[job.id] = tracked
                result.added.append(job.id)
                if not first and job.state in FINISHED_STATES:
                    # born and finished between two polls: still news
                    result.events.append(JobEvent(job, "new", job.state))
                continue
            old_state = tracked.job.state
            if tracked.observe(job, now):
                result.changed.append(job.id)
                if job.state != old_state and job.state in FINISHED_STATES:
                    result.events.append(JobEvent(job, old_state, job.state))
        if full:
            for gone in [i for i in self.jobs if i not in fresh_ids]:
                del self.jobs[gone]
                result.removed.append(gone)
            self.last_full = now
            self._need_full = False
        if result.added or result.removed or full:
            self._reorder(page if full else None)
        # the next cursor: the server's own clock, less an overlap
        if page.server_time is not None:
            self.server_time = page.server_time
            self.cursor = page.server_time - self.overlap
        else:
            self.cursor = None  # no server clock: stay on full polls rather than guess
        self.last_ok = now
        self.last_ok_at = self.wall()
        self.last_error = None
        self.failures = 0
        self.polls += 1
        self.throughput_history.append((now, self.totals().throughput))
        return result

    def _reorder(self, page: JobsPage | None) -> None:
        if page is not None:
            order = [j.id for j in page.jobs]
            seen = set(order)
            order += [i for i in self.order if i not in seen and i in self.jobs]
        else:
            order = list(self.jobs)
        # newest first, as the API orders them; jobs without a creation date keep their place
        positions = {jid: n for n, jid in enumerate(order)}

        def key(jid: str) -> tuple[float, int]:
            created = self.jobs[jid].job.creation_date
            return (-created.timestamp() if created else 0.0, positions[jid])

        self.order = sorted(order, key=key)


# -- grouping / filtering ---------------------------------------------------------------------

#: what ``f`` cycles through, in order, with the label the status line shows
FILTER_MODES: tuple[tuple[str, str], ...] = (
    ("all", "all jobs"),
    ("active", "active"),
    ("attention", "needs attention"),
    ("done", "done"),
)


def next_filter_mode(mode: str) -> str:
    """The mode after ``mode`` in ``FILTER_MODES`` (wrapping)."""
    names = [name for name, _ in FILTER_MODES]
    index = names.index(mode) if mode in names else -1
    return names[(index + 1) % len(names)]


def filter_label(mode: str) -> str:
    """What to call a filter mode on screen."""
    return dict(FILTER_MODES).get(mode, mode)


def job_matches(tracked: TrackedJob, mode: str = "all", text: str = "",
                attention: Callable[[TrackedJob], bool] | None = None) -> bool:
    """Whether a job passes a state group and a typed filter.

    ``active``: running or waiting to run; ``attention``: failed/aborted and not yet read, or
    flagged by ``attention`` (a stall, say); ``done``: finished any way. ``text`` matches name,
    type, state or path, case-insensitively.
    """
    group = tracked.outcome
    if mode == "active" and group not in ("running", "waiting"):
        return False
    if mode == "done" and tracked.job.state not in FINISHED_STATES:
        return False
    if mode == "attention":
        flagged = attention(tracked) if attention is not None else False
        if not flagged and not (group == "failed" and not tracked.job.read):
            return False
    if text:
        needle = text.casefold()
        job = tracked.job
        hay = f"{job.name}\n{job.type}\n{job.state}\n{job.path or ''}\n{job.id}".casefold()
        if needle not in hay:
            return False
    return True
