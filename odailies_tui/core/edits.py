"""EditQueue: optimistic clip edits, coalesced per clip, sent as one bulk PATCH (no Textual).

An edit shows at once (the ClipBook's overlay), is written to the journal, and is sent a short
moment after the last one (``debounce``) together with every other pending edit: one object per
clip, as the contract demands. The server's answer decides what happens next:

* 200: the values are the server's now; the pending mark goes.
* 400 / 401 / 403 (and a local ValidationError): the edit is *refused*: the server's value shows
  again and the refusal, with the server's message, stays listed until dismissed. A 400 on a
  batch of several clips is resent clip by clip, so one bad clip does not sink the others.
* network error, timeout, 5xx: nothing is lost; the edit stays queued and is retried with
  jittered exponential back-off.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from odailies_tui.api.errors import (
    ApiError,
    BadRequest,
    InvalidToken,
    NetworkError,
    PermissionDenied,
    ValidationError,
)
from odailies_tui.api.validate import check_clip_value
from odailies_tui.core.clipbook import ClipBook
from odailies_tui.core.journal import Journal

if TYPE_CHECKING:
    from odailies_tui.api.client import ODailiesClient

log = logging.getLogger("odailies_tui.core.edits")

NO_WRITE = "this token has no Write permission"
#: the one message for an edit a read-only token cannot make (locally or after a 403)
READ_ONLY_MESSAGE = f"{NO_WRITE}: edits are not possible; browsing works"
#: properties whose "no value" can be written back (null is ignored by the service)
_EMPTY_VALUE = {"circled": False, "rating": 0}
#: text properties an empty string clears (not ``date``: the service refuses an empty date)
_TEXT_FIELDS = {"scene", "shot", "take", "description", "camera", "timecode", "reelName",
                "libraryPath"}


class ReadOnlyToken(ApiError):
    """The service said this token may not write; edits are refused without sending."""

    status = 403
    kind = "permission denied"


@dataclass(slots=True)
class Refusal:
    """An edit the service (or validation) refused: what, and the message it gave."""

    name: str
    changes: dict[str, Any]
    message: str
    at: float = field(default_factory=time.time)


@dataclass(slots=True)
class EditRecord:
    """One user action for undo: per clip, the values before and after."""

    before: dict[str, dict[str, Any]]
    after: dict[str, dict[str, Any]]


@dataclass(slots=True)
class FlushOutcome:
    """What one flush did (for tests and the status line)."""

    sent: int = 0
    confirmed: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)
    error: str | None = None


class EditQueue:
    """Pending clip edits of one project and the machinery that delivers them."""

    def __init__(
        self,
        client: ODailiesClient,
        book: ClipBook,
        journal: Journal | None = None,
        *,
        debounce: float = 0.4,
        max_wait: float = 5.0,
        backoff: tuple[float, float] = (1.0, 30.0),
        can_write: Callable[[], bool | None] | None = None,
    ) -> None:
        self.client = client
        self.book = book
        self.journal = journal or Journal(None)
        self.debounce = debounce
        self.max_wait = max_wait
        self.backoff = backoff
        #: asks what is already known of the token's Write permission (None: not known);
        #: the session passes the job actions' probe result, so no edit is tried in vain
        self.can_write = can_write
        #: name -> {property: value} not yet confirmed (shared with the book's overlay)
        self.pending: dict[str, dict[str, Any]] = book.overlay
        #: name -> {property: value} in the request on the wire
        self.inflight: dict[str, dict[str, Any]] = {}
        self.refusals: list[Refusal] = []
        self.undo_stack: list[EditRecord] = []
        #: the values the last user edit set, for ``.`` (repeat)
        self.last_changes: dict[str, Any] | None = None
        #: the service refused a clip write with 403
        self.write_refused = False
        self.last_error: str | None = None
        #: the last failed delivery could not reach the service (vs. a 5xx answer)
        self.offline = False
        self.retry_at: float | None = None
        self.requests_sent = 0
        #: called with the names whose pending/refused state or values changed
        self.listeners: list[Callable[[set[str]], None]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._first_pending_at: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._failures = 0

    # -- reading ----------------------------------------------------------------------------

    @property
    def read_only(self) -> bool:
        """The token is known to lack the Write permission (a 403 here, or the probe)."""
        if self.write_refused:
            return True
        return self.can_write is not None and self.can_write() is False

    @property
    def retry_in(self) -> float | None:
        """Seconds until the next delivery attempt after a failure (None: none waiting)."""
        if self.retry_at is None or not self.last_error:
            return None
        return max(0.0, self.retry_at - time.monotonic())

    @property
    def unsent_count(self) -> int:
        """Clips with an edit the server has not confirmed."""
        return sum(1 for values in self.pending.values() if values)

    @property
    def busy(self) -> bool:
        """A flush is scheduled or running."""
        return self._timer is not None or (self._task is not None and not self._task.done())

    def status(self, name: str) -> str:
        """``"pending"``, ``"refused"`` or ``""`` for one clip."""
        if self.pending.get(name):
            return "pending"
        if any(r.name == name for r in self.refusals):
            return "refused"
        return ""

    def refusal_for(self, name: str) -> Refusal | None:
        """The latest refusal of a clip's edit, if one is listed."""
        for refusal in reversed(self.refusals):
            if refusal.name == name:
                return refusal
        return None

    # -- editing ----------------------------------------------------------------------------

    def edit(self, names: Iterable[str], changes: Mapping[str, Any]) -> set[str]:
        """Set ``changes`` on every clip in ``names``: shown at once, sent shortly.

        Raises ValidationError for a bad value (nothing changes) and ReadOnlyToken when the
        service already said this token may not write. Returns the names that changed.
        """
        names = list(dict.fromkeys(names))
        changes = self._checked(changes)
        if not names or not changes:
            return set()
        before: dict[str, dict[str, Any]] = {}
        after: dict[str, dict[str, Any]] = {}
        for name in names:
            old = {k: self.book.value(name, k) for k in changes}
            if old == changes:
                continue
            before[name] = old
            after[name] = dict(changes)
        if not after:
            return set()
        self.undo_stack.append(EditRecord(before, after))
        del self.undo_stack[:-100]
        self.last_changes = dict(changes)
        return self._apply(after)

    def toggle_circled(self, name: str) -> set[str]:
        """``c``: flip circled on one clip."""
        return self.edit([name], {"circled": not bool(self.book.value(name, "circled"))})

    def repeat(self, names: Iterable[str]) -> set[str]:
        """``.``: apply the last edit's values to ``names``."""
        if not self.last_changes:
            return set()
        return self.edit(names, self.last_changes)

    def undo(self) -> set[str]:
        """``u``: put back the values from before the last edit (and send them)."""
        if not self.undo_stack:
            return set()
        record = self.undo_stack.pop()
        restore: dict[str, dict[str, Any]] = {}
        for name, values in record.before.items():
            restore[name] = {}
            for key, value in values.items():
                if value is None:
                    if key in _EMPTY_VALUE:
                        value = _EMPTY_VALUE[key]
                    elif key in _TEXT_FIELDS:
                        value = ""
                    else:
                        continue  # a number cannot be cleared (null is not written)
                restore[name][key] = value
        return self._apply({n: v for n, v in restore.items() if v})

    def dismiss_refusals(self) -> set[str]:
        """Forget the listed refusals."""
        names = {r.name for r in self.refusals}
        self.refusals.clear()
        self._notify(names)
        return names

    def _checked(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        if self.read_only:
            raise ReadOnlyToken(READ_ONLY_MESSAGE)
        out: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "name":
                raise ValidationError("a clip's name cannot be edited here")
            check_clip_value(key, value)
            if value is not None:
                out[key] = value
        return out

    def _apply(self, after: Mapping[str, Mapping[str, Any]]) -> set[str]:
        changed: set[str] = set()
        for name, values in after.items():
            pending = self.pending.setdefault(name, {})
            flying = self.inflight.get(name, {})
            for key, value in values.items():
                if key not in flying and _same(value, self.book.server_value(name, key)):
                    pending.pop(key, None)  # back to what the server holds: nothing to send
                else:
                    pending[key] = value
            if not pending:
                del self.pending[name]
            self.book.touch(name)
            changed.add(name)
        self._save()
        self._notify(changed)
        self.schedule()
        return changed

    # -- delivering -------------------------------------------------------------------------

    def restore(self) -> int:
        """Put the journal's edits back in the queue (call once at start); returns how many
        clips had unsent edits. They are sent at the next flush."""
        saved = self.journal.load()
        for name, values in saved.items():
            clean = {}
            for key, value in values.items():
                try:
                    check_clip_value(key, value)
                except ValidationError:
                    continue
                if key != "name" and value is not None:
                    clean[key] = value
            if clean:
                self.pending.setdefault(name, {}).update(clean)
                self.book.touch(name)
        if saved:
            self._notify(set(saved))
        return len([n for n in saved if self.pending.get(n)])

    def schedule(self, delay: float | None = None) -> None:
        """Arm the flush ``delay`` seconds from now (default: the debounce), re-arming any
        earlier timer; a burst of edits is sent once, at most ``max_wait`` after the first."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a plain script): call flush() yourself
        if not self.unsent_count:
            return
        now = loop.time()
        if self._first_pending_at is None:
            self._first_pending_at = now
        if delay is None:
            delay = min(self.debounce, max(self._first_pending_at + self.max_wait - now, 0.0))
            if self.retry_at is not None:
                delay = max(delay, self.retry_at - time.monotonic())
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_later(delay, self._kick)

    def retry_now(self) -> None:
        """Send what is pending now (``r``), forgetting any back-off."""
        self.retry_at = None
        self.schedule(0.0)

    def _kick(self) -> None:
        self._timer = None
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            while True:
                self._again = False
                outcome = await self.flush()
                if outcome.error is not None:
                    return  # back-off already scheduled
                if not self._again:
                    return  # edits made during the flight armed their own timer
        except Exception:  # never let a bug kill delivery silently
            log.exception("edit delivery failed")

    async def flush(self) -> FlushOutcome:
        """Send every pending edit now, in one bulk PATCH (clip by clip after a 400)."""
        outcome = FlushOutcome()
        batch = {name: dict(values) for name, values in self.pending.items() if values}
        if not batch:
            return outcome
        self._first_pending_at = None
        self.inflight = batch
        try:
            error = await self._send(batch, outcome)
            if isinstance(error, BadRequest) and len(batch) > 1:
                error = None
                for name, values in batch.items():
                    single = await self._send({name: values}, outcome)
                    if single is not None:
                        error = single
                        break
        finally:
            self.inflight = {}
        if error is not None:
            outcome.error = str(error)
            self._failures += 1
            low, high = self.backoff
            delay = min(high, low * 2 ** (self._failures - 1)) * (0.8 + 0.4 * random.random())
            self.retry_at = time.monotonic() + delay
            self.schedule(delay)
        else:
            self._failures = 0
            self.retry_at = None
            self.last_error = None
            self.offline = False
        self._save()
        self._notify(set(batch))
        return outcome

    async def _send(self, batch: dict[str, dict[str, Any]],
                    outcome: FlushOutcome) -> ApiError | None:
        """One PATCH. Returns the error that keeps edits queued (network), or a BadRequest
        that should be split, else None (confirmed or refused)."""
        items = [{"name": name, **values} for name, values in batch.items()]
        try:
            self.requests_sent += 1
            outcome.sent += 1
            await self.client.patch_clips(items)
        except (ValidationError, InvalidToken, PermissionDenied, BadRequest) as exc:
            if isinstance(exc, BadRequest) and len(batch) > 1:
                return exc
            message = exc.message
            if isinstance(exc, PermissionDenied):
                self.write_refused = True
                message = READ_ONLY_MESSAGE  # the service's wording says the same: once
            self._refuse(batch, message)
            outcome.refused |= set(batch)
            return None
        except (NetworkError, ApiError) as exc:
            self.last_error = str(exc)
            self.offline = isinstance(exc, NetworkError)
            return exc
        for name, values in batch.items():
            self.book.set_server_values(name, values)
            self._settle(name, values)
            outcome.confirmed.add(name)
        return None

    def _settle(self, name: str, sent: Mapping[str, Any]) -> None:
        """Drop the pending values the server now holds (keep any newer edit)."""
        pending = self.pending.get(name)
        if pending is None:
            return
        for key, value in sent.items():
            if key in pending and _same(pending[key], value):
                del pending[key]
        if not pending:
            del self.pending[name]
        self.book.touch(name)

    def _refuse(self, batch: Mapping[str, Mapping[str, Any]], message: str) -> None:
        for name, values in batch.items():
            self._settle(name, values)
            self.refusals.append(Refusal(name, dict(values), message))
        del self.refusals[:-500]

    def _save(self) -> None:
        self.journal.save({n: v for n, v in self.pending.items() if v})

    def _notify(self, names: set[str]) -> None:
        for listener in list(self.listeners):
            listener(names)

    async def aclose(self) -> None:
        """Stop the timer and wait for a running flush (the journal keeps the rest)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._task is not None and not self._task.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 5.0)
            except (TimeoutError, asyncio.CancelledError):
                pass


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same kind (so ``True`` is not ``1`` and ``4`` is not ``"4"``)."""
    return a == b and type(a) is type(b)
