"""Job actions: mark read, pause / resume, abort (no Textual; the UI calls these, never HTTP).

Every action needs the Write permission. Whether the token has it is learnt without changing
anything (an empty bulk PATCH, see ``ODailiesClient.probe_job_write``) or from a 403; once known
to be read-only, actions send nothing and say why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from odailies_tui.api.errors import ApiError, NetworkError, PermissionDenied
from odailies_tui.api.models import Job, PatchResult
from odailies_tui.core.jobboard import FINISHED_STATES

#: states a pause request makes sense from
PAUSABLE = frozenset({"running", "scheduled", "willResume"})
#: states a resume request makes sense from
RESUMABLE = frozenset({"paused", "suspended", "willSuspend"})
#: states an abort makes sense from
ABORTABLE = frozenset({"running", "scheduled", "paused", "suspended", "willSuspend",
                       "willResume", "unscheduled", "doNotQueue"})

READ_ONLY_REASON = ("read-only token: it lacks the Write permission "
                    "(set it in the o/DAILIES web app)")


class JobsWriter(Protocol):
    """What actions need from the API client."""

    async def patch_jobs(self, changes: Iterable[Mapping[str, Any]]) -> PatchResult: ...

    async def probe_job_write(self) -> bool: ...


@dataclass(slots=True)
class ActionResult:
    """What an action did: ``sent`` is False when nothing went over the wire."""

    ok: bool
    message: str
    sent: bool = False
    ids: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PlannedAction:
    """An action for one job, or the reason it cannot be done."""

    verb: str  # pause, resume, abort
    state: str | None  # the state to request, None when impossible
    reason: str = ""

    @property
    def possible(self) -> bool:
        return self.state is not None


def plan_toggle(job: Job) -> PlannedAction:
    """``p``: pause a running job (``willSuspend``), resume a paused one (``willResume``)."""
    if job.state in RESUMABLE:
        return PlannedAction("resume", "willResume")
    if job.state in PAUSABLE:
        return PlannedAction("pause", "willSuspend")
    return PlannedAction("pause", None, f"a {job.state} job cannot be paused or resumed")


def plan_abort(job: Job) -> PlannedAction:
    """``x``: abort a job that has not finished."""
    if job.state in ABORTABLE:
        return PlannedAction("abort", "aborted")
    return PlannedAction("abort", None, f"a {job.state} job cannot be aborted")


class JobActions:
    """Sends job changes for the UI and remembers whether the token may write."""

    def __init__(self, client: JobsWriter) -> None:
        self.client = client
        #: None: not known yet; True/False once probed or refused
        self.can_write: bool | None = None
        self.denied_reason = ""

    @property
    def read_only(self) -> bool:
        return self.can_write is False

    async def check_write(self) -> bool | None:
        """Find out (once) whether the token may write; None when the service was unreachable."""
        if self.can_write is not None:
            return self.can_write
        try:
            allowed = await self.client.probe_job_write()
        except ApiError:
            return None
        self.can_write = allowed
        if not allowed:
            self.denied_reason = READ_ONLY_REASON
        return allowed

    async def set_state(self, job: Job, planned: PlannedAction) -> ActionResult:
        """Request ``planned.state`` for one job (after the user confirmed)."""
        if not planned.possible:
            return ActionResult(False, planned.reason)
        return await self._send([{"id": job.id, "state": planned.state}],
                                f"{planned.verb} {job.name or job.id}")

    async def mark_read(self, jobs: Sequence[Job]) -> ActionResult:
        """Mark jobs read (``readFlag``) in one PATCH; jobs already read are skipped."""
        todo = [j for j in jobs if not j.read]
        if not todo:
            return ActionResult(True, "nothing to mark read")
        what = todo[0].name or todo[0].id if len(todo) == 1 else f"{len(todo)} jobs"
        return await self._send([{"id": j.id, "readFlag": True} for j in todo],
                                f"mark {what} read")

    @staticmethod
    def finished_unread(jobs: Iterable[Job]) -> list[Job]:
        """Finished jobs not yet read (what ``A`` marks)."""
        return [j for j in jobs if j.state in FINISHED_STATES and not j.read]

    async def _send(self, changes: list[dict[str, Any]], what: str) -> ActionResult:
        if self.read_only:
            return ActionResult(False, f"cannot {what}: {self.denied_reason}")
        try:
            answer = await self.client.patch_jobs(changes)
        except PermissionDenied as exc:
            self.can_write = False
            self.denied_reason = f"{READ_ONLY_REASON} — server said: {exc.message}"
            return ActionResult(False, f"cannot {what}: {self.denied_reason}", sent=True)
        except NetworkError as exc:
            return ActionResult(False, f"cannot {what}: {exc} (not sent or not confirmed; "
                                       "try again)", sent=True)
        except ApiError as exc:
            return ActionResult(False, f"cannot {what}: {exc}", sent=True)
        self.can_write = True
        return ActionResult(True, f"{what}: server updated {answer.updated}", sent=True,
                            ids=list(answer.keys))
