"""UploadCenter: plans uploads against the project's clips and runs batches in the background.

The CLI and the TUI's Uploads view share it: ``plan()`` reads the clips and applies the naming
rules; ``start()`` runs an ``UploadBatch`` as an asyncio task; listeners hear about every
change of every batch (already throttled by the batches).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from odailies_tui.api.errors import ApiError, InvalidToken, NetworkError
from odailies_tui.api.models import Clip
from odailies_tui.core.upload_plan import UploadPlan, make_plan
from odailies_tui.core.upload_run import ItemState, UploadBatch, UploadItem, UrlSource


class ClipSource(UrlSource, Protocol):
    """What the center needs from the API client."""

    async def list_clips(self) -> list[Clip]: ...


@dataclass(slots=True)
class PlanResult:
    """A plan, and why the clip check could not run (empty when it ran)."""

    plan: UploadPlan
    clips_problem: str = ""


class UploadCenter:
    """Every upload batch of one project."""

    def __init__(self, client: ClipSource, *, parallel: int = 2) -> None:
        self.client = client
        self.parallel = parallel
        self.batches: list[UploadBatch] = []
        self._tasks: dict[UploadBatch, asyncio.Task[bool]] = {}
        self._listeners: list[Callable[[UploadCenter], None]] = []
        #: why the last planning request could not reach o/DAILIES (empty when it could)
        self.plan_problem = ""
        self._plan_problem_at = 0.0

    async def plan(self, paths: Iterable[str | os.PathLike[str]], *, log: bool = False,
                   force: bool = False) -> PlanResult:
        """Plan ``paths`` against the project's clips (InvalidToken propagates)."""
        problem = ""
        try:
            names: list[str] | None = [c.name for c in await self.client.list_clips()]
        except InvalidToken:
            raise
        except NetworkError as exc:
            names, problem = None, str(exc)
            self.plan_problem, self._plan_problem_at = exc.message, time.monotonic()
            self._notify(None)
        except ApiError as exc:
            names, problem = None, str(exc)
        else:
            if self.plan_problem:
                self.plan_problem = ""
                self._notify(None)
        return PlanResult(make_plan(paths, names, log=log, force=force), problem)

    def start(self, plan: UploadPlan) -> UploadBatch:
        """Run the plan's files in the background; returns the batch to watch."""
        batch = UploadBatch(plan.files, parallel=self.parallel)
        self._watch(batch)
        self._tasks[batch] = asyncio.create_task(batch.run(self.client))
        self._notify(batch)
        return batch

    def retry_failed(self) -> int:
        """Send every failed or cancelled file of finished batches again; returns how many."""
        count = 0
        for batch in self.batches:
            if batch.finished.is_set() and (n := batch.requeue_failed()):
                count += n
                self._tasks[batch] = asyncio.create_task(batch.run(self.client))
        return count

    def cancel_all(self) -> None:
        """Stop every running batch (their unsent files end CANCELLED)."""
        for batch in self.batches:
            if not batch.finished.is_set():
                batch.cancel()

    async def aclose(self) -> None:
        """Cancel and wait for every batch."""
        self.cancel_all()
        tasks = [t for t in self._tasks.values() if not t.done()]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- what a UI reads ------------------------------------------------------------------

    @property
    def items(self) -> list[UploadItem]:
        return [item for batch in self.batches for item in batch.items]

    @property
    def active(self) -> bool:
        return any(not b.finished.is_set() for b in self.batches)

    def count(self, state: ItemState) -> int:
        return sum(b.count(state) for b in self.batches)

    @property
    def bytes_sent(self) -> int:
        return sum(b.bytes_sent for b in self.batches)

    @property
    def bytes_planned(self) -> int:
        """Bytes of every file of every batch (failed and cancelled ones too)."""
        return sum(b.bytes_planned for b in self.batches)

    @property
    def connection_problem(self) -> str:
        """Why o/DAILIES cannot be reached right now (planning or URL requests), or ""."""
        for batch in self.batches:
            if batch.network_problem and not batch.finished.is_set():
                return batch.network_problem
        if any((b.reached_at or 0.0) > self._plan_problem_at for b in self.batches):
            return ""  # an upload URL arrived since the failed planning request
        return self.plan_problem

    @property
    def rate(self) -> float | None:
        """Bytes per second of the running batches; once all are done, the last one's average."""
        rates = [b.rate for b in self.batches if not b.finished.is_set() and b.rate]
        if rates:
            return sum(rates)
        if self.batches and not self.active:
            return self.batches[-1].rate
        return None

    @property
    def eta_seconds(self) -> float | None:
        rate = self.rate
        if not rate:
            return None
        left = sum(b.bytes_left for b in self.batches if not b.finished.is_set())
        return left / rate

    def add_listener(self, listener: Callable[[UploadCenter], None]) -> Callable[[], None]:
        """Call ``listener(center)`` whenever a batch changes; returns a remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _watch(self, batch: UploadBatch) -> None:
        self.batches.append(batch)
        batch.add_listener(self._notify)

    def _notify(self, _batch: UploadBatch | None) -> None:
        for listener in list(self._listeners):
            listener(self)
