"""ClipBook: every clip of the project as the server last sent it, seen through the pending edits,
sorted by name, with a filter as you type (no Textual).

The server's values and the pending edits are kept apart: a reload replaces the first and never
touches the second, so a value with a pending edit keeps showing the edit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from odailies_tui.api.models import Clip

if TYPE_CHECKING:
    from odailies_tui.api.client import ODailiesClient

#: the properties ``/`` searches
SEARCH_FIELDS: tuple[str, ...] = ("scene", "shot", "take", "camera", "reelName", "description")
#: lists longer than this are compared and indexed in a worker thread
BIG_LIST = 2000


def _haystack(name: str, values: Mapping[str, Any]) -> str:
    """What ``/`` searches for one clip, lower-cased, fields apart."""
    get = values.get
    return "\x00".join(
        (name, *("" if get(k) is None else str(get(k)) for k in SEARCH_FIELDS))).lower()


@dataclass(slots=True)
class LoadResult:
    """What a reload changed: names added, removed, and those whose server values changed."""

    added: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)

    @property
    def reordered(self) -> bool:
        return bool(self.added or self.removed)


@dataclass(slots=True)
class _Prepared:
    fresh: dict[str, Clip]
    result: LoadResult
    names: list[str]
    haystack: dict[str, str]
    circled: set[str]


class ClipBook:
    """Clips by name plus the overlay of pending edits; ``visible`` is the filtered order."""

    def __init__(self, client: ODailiesClient | None = None) -> None:
        self.client = client
        self.clips: dict[str, Clip] = {}
        #: every name, sorted
        self.names: list[str] = []
        #: names that pass the filter, sorted
        self.visible: list[str] = []
        self.filter_text = ""
        #: pending edits (name -> {property: value}); owned and written by the EditQueue
        self.overlay: dict[str, dict[str, Any]] = {}
        self.loaded = False
        self._haystack: dict[str, str] = {}
        self._circled: set[str] = set()
        #: values confirmed by PATCH answers while a reload is on the wire (its answer may
        #: predate them); None when no reload is running
        self._confirmed_during_reload: dict[str, dict[str, Any]] | None = None

    # -- loading ----------------------------------------------------------------------------

    async def reload(self) -> LoadResult:
        """Fetch every clip from the service and merge it in (raises the client's errors).
        A big list is compared and indexed in a worker thread; the swap happens on the loop."""
        if self.client is None:
            raise RuntimeError("ClipBook has no client")
        self._confirmed_during_reload = {}
        try:
            clips = await self.client.list_clips()
            if len(clips) > BIG_LIST:
                prepared = await asyncio.to_thread(self._prepare, clips)
            else:
                prepared = self._prepare(clips)
        finally:
            late, self._confirmed_during_reload = self._confirmed_during_reload, None
        for name, values in late.items():  # the GET may have been answered before the PATCH
            clip = prepared.fresh.get(name)
            if clip is not None:
                clip.values.update(values)
                prepared.result.changed.add(name)
                prepared.haystack[name] = _haystack(name, clip.values)
        return self._commit(prepared)

    def load(self, clips: Iterable[Clip]) -> LoadResult:
        """Replace the server's side with ``clips``; pending edits stay on top."""
        return self._commit(self._prepare(clips))

    def _prepare(self, clips: Iterable[Clip]) -> _Prepared:
        """The new server side, built without touching the book (safe in a thread)."""
        result = LoadResult()
        fresh: dict[str, Clip] = {}
        old = self.clips
        haystack: dict[str, str] = {}
        circled: set[str] = set()
        for clip in clips:
            name = clip.name
            fresh[name] = clip
            before = old.get(name)
            if before is None:
                result.added.add(name)
            elif before.values != clip.values:
                result.changed.add(name)
            haystack[name] = _haystack(name, clip.values)
            if clip.values.get("circled") is True:
                circled.add(name)
        result.removed = set(old) - set(fresh)
        return _Prepared(fresh, result, sorted(fresh), haystack, circled)

    def _commit(self, prepared: _Prepared) -> LoadResult:
        self.clips = prepared.fresh
        self.names = prepared.names
        self._haystack = prepared.haystack
        self._circled = prepared.circled
        for name in list(self.overlay):
            self.touch(name)  # pending edits stay on top
        self.loaded = True
        self._refilter()
        return prepared.result

    def set_server_values(self, name: str, values: Mapping[str, Any]) -> None:
        """Record values the server confirmed it holds (after a PATCH)."""
        if self._confirmed_during_reload is not None:
            self._confirmed_during_reload.setdefault(name, {}).update(
                {k: v for k, v in values.items() if v is not None})
        clip = self.clips.get(name)
        if clip is None:
            clip = self.clips[name] = Clip(name=name)
            self.names = sorted(self.clips)
            self._refilter()
        clip.values.update({k: v for k, v in values.items() if v is not None})
        self.touch(name)

    # -- reading ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, name: object) -> bool:
        return name in self.clips

    def clip(self, name: str) -> Clip | None:
        """The server's clip (without pending edits)."""
        return self.clips.get(name)

    def server_value(self, name: str, key: str) -> Any:
        """A property as the server last sent it (None when absent)."""
        if key == "name":
            return name
        clip = self.clips.get(name)
        return None if clip is None else clip.values.get(key)

    def value(self, name: str, key: str) -> Any:
        """A property as the user sees it: the pending edit if any, else the server's."""
        pending = self.overlay.get(name)
        if pending is not None and key in pending:
            return pending[key]
        return self.server_value(name, key)

    def values(self, name: str) -> dict[str, Any]:
        """Every property of a clip as the user sees it."""
        clip = self.clips.get(name)
        merged = dict(clip.values) if clip is not None else {}
        merged.update(self.overlay.get(name, {}))
        return merged

    def is_pending(self, name: str) -> bool:
        return bool(self.overlay.get(name))

    @property
    def circled_count(self) -> int:
        return len(self._circled)

    # -- filter -----------------------------------------------------------------------------

    def touch(self, name: str) -> None:
        """A clip's visible values changed: refresh what the filter and counts know of it."""
        pending = self.overlay.get(name)
        clip = self.clips.get(name)
        if pending:
            values = self.values(name)
        elif clip is not None:
            values = clip.values
        else:
            values = None
        if values is None:
            self._haystack.pop(name, None)
            self._circled.discard(name)
            return
        self._haystack[name] = _haystack(name, values)
        if values.get("circled") is True:
            self._circled.add(name)
        else:
            self._circled.discard(name)

    def set_filter(self, text: str) -> list[str]:
        """Show only clips whose name, scene, shot, take, camera, reel or description contains
        ``text`` (case-insensitive); returns the new ``visible`` list."""
        text = text.strip().lower()
        previous, self.filter_text = self.filter_text, text
        if text and previous and text.startswith(previous) and self.loaded:
            source: list[str] = self.visible  # narrowing: search only what is shown
        else:
            source = self.names
        self._refilter(source)
        return self.visible

    def _refilter(self, source: list[str] | None = None) -> None:
        text = self.filter_text
        if not text:
            self.visible = self.names
            return
        hay = self._haystack
        self.visible = [n for n in (self.names if source is None else source)
                        if text in hay.get(n, "")]
