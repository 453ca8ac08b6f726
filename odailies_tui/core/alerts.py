"""Alerts: which job outcomes and warnings deserve the user's attention, and how (no Textual).

``AlertCenter.process`` reads each poll's events and the board, and returns the alerts to show:
a job that succeeded, failed or was aborted (unless already read, e.g. acknowledged in another
o/DAILIES client), a running job whose throughput stays near zero (a stall), a time left that
jumps. Each outcome alerts once per job. Failed and aborted jobs stay highlighted until
acknowledged. ``desktop_notice`` builds the OSC 9 / OSC 777 escape for terminals that show
desktop notifications.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from odailies_tui.api.redact import redact
from odailies_tui.core import formatting as fmt
from odailies_tui.core.jobboard import JobBoard, PollResult, TrackedJob

OUTCOMES = ("succeeded", "failed", "aborted")
DESKTOP_MODES = ("off", "osc9", "osc777")


@dataclass
class AlertPolicy:
    """Which outcomes alert and how. Read from the settings' ``alerts`` section and flags."""

    #: job outcomes that raise an alert
    outcomes: tuple[str, ...] = OUTCOMES
    #: ring the terminal bell with an outcome alert
    bell: bool = True
    #: desktop notice through the terminal: off, osc9 (iTerm2, WezTerm, Windows Terminal...)
    #: or osc777 (urxvt, foot, some VTE terminals)
    desktop: str = "off"
    #: warn when a running job's throughput stays below ``stall_bps`` this long (0: never)
    stall_after: float = 60.0
    stall_bps: float = 1_000_000.0
    #: warn when a job's time left grows ``eta_jump`` times and by ``eta_jump_min`` seconds
    eta_jump: float = 2.0
    eta_jump_min: float = 300.0

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None) -> tuple[AlertPolicy, list[str]]:
        """A policy from a settings mapping; unknown keys and bad values are reported and
        left at their defaults (a bad setting must not stop the monitor)."""
        policy = cls()
        problems: list[str] = []
        known = {f.name for f in fields(cls)}
        for key, value in (raw or {}).items():
            if key not in known:
                problems.append(f"alerts: unknown setting {key!r}")
                continue
            try:
                setattr(policy, key, _coerce(key, value))
            except ValueError as exc:
                problems.append(f"alerts.{key}: {exc}")
        return policy, problems

    def alerts_on(self, outcome: str) -> bool:
        return outcome in self.outcomes


def _coerce(key: str, value: Any) -> Any:
    if key == "outcomes":
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise ValueError("expected a list of outcomes")
        out = tuple(str(i).strip() for i in items if str(i).strip())
        bad = [o for o in out if o not in OUTCOMES]
        if bad:
            raise ValueError(f"unknown outcome(s) {bad}; known: {', '.join(OUTCOMES)}")
        return out
    if key == "bell":
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value
    if key == "desktop":
        if value not in DESKTOP_MODES:
            raise ValueError(f"expected one of {', '.join(DESKTOP_MODES)}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError("expected a number >= 0")
    return float(value)


@dataclass(frozen=True, slots=True)
class Alert:
    """One thing to tell the user. ``severity`` is information, warning or error."""

    kind: str  # succeeded, failed, aborted, stalled, eta
    job_id: str
    title: str
    message: str
    severity: str
    #: ring the bell / send a desktop notice for this one
    bell: bool = False
    desktop: bool = False


@dataclass
class _Watch:
    slow_since: float | None = None
    last_progress: float = -1.0
    last_left: float | None = None
    eta_warned_at: float | None = None


@dataclass
class AlertCenter:
    """Turns polls into alerts, at most one per job and outcome; remembers what is unread."""

    policy: AlertPolicy = field(default_factory=AlertPolicy)
    #: failed/aborted jobs not yet acknowledged: highlighted in the table
    unacknowledged: set[str] = field(default_factory=set)
    #: running jobs whose throughput has stayed near zero for ``policy.stall_after``
    stalled: set[str] = field(default_factory=set)
    #: every alert raised so far (bounded), newest last
    log: list[Alert] = field(default_factory=list)
    _announced: set[tuple[str, str]] = field(default_factory=set)
    _acknowledged: set[str] = field(default_factory=set)
    _watch: dict[str, _Watch] = field(default_factory=dict)

    def process(self, result: PollResult, board: JobBoard) -> list[Alert]:
        """The alerts one poll brings (none for a failed poll)."""
        if not result.ok:
            return []
        now = board.clock()
        alerts: list[Alert] = []
        for event in result.events:
            job = event.job
            key = (job.id, event.new_state)
            if key in self._announced or job.read:
                continue
            self._announced.add(key)
            if event.new_state in ("failed", "aborted"):
                self.unacknowledged.add(job.id)
            if self.policy.alerts_on(event.new_state):
                alerts.append(self._outcome_alert(board.jobs.get(job.id), job.id, job.name,
                                                  event.new_state))
        for job_id in result.changed:
            tracked = board.jobs.get(job_id)
            if tracked is not None and tracked.job.read:
                self.unacknowledged.discard(job_id)  # read elsewhere: acknowledged
        for job_id in result.removed:
            self.forget(job_id)
        if result.full:
            # failures nobody has read yet stay highlighted (no alert: they are not news)
            for job_id, tracked in board.jobs.items():
                if (tracked.job.state in ("failed", "aborted") and not tracked.job.read
                        and job_id not in self._acknowledged):
                    self.unacknowledged.add(job_id)
            # prune what the board no longer holds
            for job_id in [j for j in self.unacknowledged | self.stalled | set(self._watch)
                           | self._acknowledged
                           if j not in board.jobs]:
                self.forget(job_id)
            self._announced = {k for k in self._announced if k[0] in board.jobs}
        alerts.extend(self._watch_running(board, now))
        self.log.extend(alerts)
        del self.log[:-200]
        return alerts

    def acknowledge(self, job_id: str) -> bool:
        """Stop highlighting a job; True when it was highlighted."""
        self._acknowledged.add(job_id)
        if job_id in self.unacknowledged:
            self.unacknowledged.discard(job_id)
            return True
        return False

    def acknowledge_all(self) -> list[str]:
        """Acknowledge every highlighted job; returns their ids."""
        ids = sorted(self.unacknowledged)
        self._acknowledged.update(ids)
        self.unacknowledged.clear()
        return ids

    def forget(self, job_id: str) -> None:
        self.unacknowledged.discard(job_id)
        self._acknowledged.discard(job_id)
        self.stalled.discard(job_id)
        self._watch.pop(job_id, None)

    def needs_attention(self, tracked: TrackedJob) -> bool:
        """Highlighted (failed, unread) or stalled."""
        return tracked.id in self.unacknowledged or tracked.id in self.stalled

    # -- internals ----------------------------------------------------------------------------

    def _outcome_alert(self, tracked: TrackedJob | None, job_id: str, name: str,
                       state: str) -> Alert:
        label = name or job_id
        kind = tracked.job.type if tracked is not None else "job"
        if state == "succeeded":
            title, severity = "Job finished", "information"
        elif state == "failed":
            title, severity = "Job FAILED", "error"
        else:
            title, severity = "Job aborted", "warning"
        message = f"{label} ({kind}) {state}"
        if tracked is not None and state != "succeeded":
            message += f" at {fmt.percent(tracked.job.progress)}"
        return Alert(state, job_id, title, message, severity,
                     bell=self.policy.bell, desktop=self.policy.desktop != "off")

    def _watch_running(self, board: JobBoard, now: float) -> list[Alert]:
        alerts: list[Alert] = []
        policy = self.policy
        for job_id, tracked in board.jobs.items():
            job = tracked.job
            if job.state != "running":
                if job_id in self._watch:
                    self._watch.pop(job_id)
                    self.stalled.discard(job_id)
                continue
            watch = self._watch.setdefault(job_id, _Watch(last_progress=job.progress))
            bps = tracked.throughput
            moving = (bps >= policy.stall_bps) if bps is not None else (
                job.progress > watch.last_progress)
            watch.last_progress = job.progress
            if moving:
                watch.slow_since = None
                self.stalled.discard(job_id)
            else:
                if watch.slow_since is None:
                    watch.slow_since = now
                if (policy.stall_after > 0 and job_id not in self.stalled
                        and now - watch.slow_since >= policy.stall_after):
                    self.stalled.add(job_id)
                    alerts.append(Alert(
                        "stalled", job_id, "Transfer stalled",
                        f"{job.name or job_id}: no throughput for "
                        f"{fmt.short_duration(now - watch.slow_since)}: check the cable or drive",
                        "warning", bell=policy.bell, desktop=policy.desktop != "off"))
            left = tracked.seconds_left
            prev = watch.last_left
            watch.last_left = left
            if (left is not None and prev is not None and policy.eta_jump > 0
                    and left >= prev * policy.eta_jump and left - prev >= policy.eta_jump_min
                    and (watch.eta_warned_at is None or now - watch.eta_warned_at >= 300)):
                watch.eta_warned_at = now
                alerts.append(Alert(
                    "eta", job_id, "Time left jumped",
                    f"{job.name or job_id}: {fmt.short_duration(prev)} → "
                    f"{fmt.short_duration(left)} left",
                    "warning"))
        return alerts


def summarize(alerts: list[Alert], limit: int = 3) -> list[Alert]:
    """What to put on screen for one poll's alerts: each failure (up to ``limit``), one
    notice for many finished jobs, each warning (up to ``limit``); the rest summed up.
    A day with hundreds of jobs must not bury the screen (or the CPU) under notices."""
    out: list[Alert] = []
    groups = (
        ("failed", [a for a in alerts if a.kind in ("failed", "aborted")], "error",
         "jobs FAILED or aborted"),
        ("succeeded", [a for a in alerts if a.kind == "succeeded"], "information",
         "jobs finished"),
        ("warning", [a for a in alerts if a.kind not in OUTCOMES], "warning", "warnings"),
    )
    for kind, group, severity, label in groups:
        keep = 1 if kind == "succeeded" and len(group) > 1 else limit
        if len(group) <= keep:
            out.extend(group)
            continue
        shown = group[:keep - 1] if keep > 1 else []
        out.extend(shown)
        rest = group[len(shown):]
        names = ", ".join(a.message.split(" (")[0].split(":")[0] for a in rest[:4])
        more = f" and {len(rest) - 4} more" if len(rest) > 4 else ""
        out.append(Alert(kind, "", f"{len(rest)} {label}", names + more, severity,
                         bell=any(a.bell for a in rest), desktop=any(a.desktop for a in rest)))
    return out


# -- desktop notices through the terminal -------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _clean(text: str, limit: int = 200) -> str:
    return _CONTROL.sub(" ", redact(text))[:limit]


def desktop_notice(alert: Alert, mode: str, *, in_tmux: bool = False) -> str:
    """The escape sequence that asks the terminal for a desktop notification ("" when off).

    Control characters are stripped and the text is redacted, so neither a job name nor a
    token can smuggle escapes or secrets out. Inside tmux the sequence is wrapped for
    passthrough (tmux needs ``set -g allow-passthrough on`` to forward it).
    """
    title = _clean(alert.title, 80)
    body = _clean(alert.message)
    if mode == "osc9":
        seq = f"\x1b]9;{title}: {body}\x07"
    elif mode == "osc777":
        seq = f"\x1b]777;notify;{title.replace(';', ',')};{body.replace(';', ',')}\x07"
    else:
        return ""
    if in_tmux:
        seq = "\x1bPtmux;" + seq.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return seq


# -- command-line flags ---------------------------------------------------------------------------

def add_monitor_args(parser: Any) -> None:
    """Flags of the monitor: layout, demo faults and alerts (flag > settings > default)."""
    parser.add_argument("--wall", action="store_true",
                        help="start on the wall layout: large totals, the graph, and only "
                             "running or failed jobs (for a spare monitor)")
    parser.add_argument("--fault", metavar="SPEC", default=None,
                        help="with --demo: simulator faults, e.g. "
                             "latency=0.5,error_rate=0.1,drop_rate=0.2,clock_skew=-600")
    parser.add_argument("--alert-on", metavar="LIST", default=None,
                        help="job outcomes that alert, comma-separated "
                             "(default: succeeded,failed,aborted; settings key alerts.outcomes)")
    parser.add_argument("--no-bell", action="store_true",
                        help="no terminal bell with alerts (settings key alerts.bell)")
    parser.add_argument("--notify", choices=DESKTOP_MODES, default=None,
                        help="desktop notices through the terminal: osc9 (iTerm2, WezTerm, "
                             "Windows Terminal, kitty), osc777 (foot, urxvt, VTE) or off "
                             "(default; settings key alerts.desktop)")
    parser.add_argument("--stall-after", type=float, default=None, metavar="SECONDS",
                        help="warn when a running job moves no data this long "
                             "(default 60, 0 turns it off; settings key alerts.stall_after)")


def policy_from(args: Any, settings_alerts: Mapping[str, Any] | None) -> tuple[AlertPolicy,
                                                                              list[str]]:
    """The alert policy: flags over the settings' ``alerts`` section over defaults.
    Returns the policy and any problems found (to print, not to stop on)."""
    policy, problems = AlertPolicy.from_mapping(settings_alerts)
    overrides: dict[str, Any] = {}
    if getattr(args, "alert_on", None) is not None:
        overrides["outcomes"] = args.alert_on
    if getattr(args, "no_bell", False):
        overrides["bell"] = False
    if getattr(args, "notify", None) is not None:
        overrides["desktop"] = args.notify
    if getattr(args, "stall_after", None) is not None:
        overrides["stall_after"] = args.stall_after
    for key, value in overrides.items():
        try:
            setattr(policy, key, _coerce(key, value))
        except ValueError as exc:
            flag = {"outcomes": "alert-on", "desktop": "notify"}.get(key, key)
            problems.append(f"--{flag.replace('_', '-')}: {exc}")
    return policy, problems
