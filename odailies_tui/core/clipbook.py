"""ClipBook: every clip of the project as the server last sent it, seen through the pending edits,
sorted by name, with a filter as you type (no Textual).

The server's values and the pending edits are kept apart: a reload replaces the first and never
touches the second, so a value with a pending edit keeps showing the edit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from odailies_tui.api.models import Clip

if TYPE_CHECKING:
    from odailies_tui.api.client import ODailiesClient

#: the properties ``/`` searches
SEARCH_FIELDS: tuple[str, ...] = ("scene", "shot", "take", "camera", "reelName", "description")


@dataclass(slots=True)
class LoadResult:
    """What a reload changed: names added, removed, and those whose server values changed."""

    added: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)

    @property
    def reordered(self) -> bool:
        return bool(self.added or self.removed)


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
        """Fetch every clip from the service and merge it in (raises the client's errors)."""
        if self.client is None:
            raise RuntimeError("ClipBook has no client")
        self._confirmed_during_reload = {}
        try:
            clips = await self.client.list_clips()
        finally:
            late, self._confirmed_during_reload = self._confirmed_during_reload, None
        for clip in clips:
            newer = late.get(clip.name) if late else None
            if newer:
                clip.values.update(newer)  # the GET may have been answered before the PATCH
        return self.load(clips)

    def load(self, clips: Iterable[Clip]) -> LoadResult:
        """Replace the server's side with ``clips``; pending edits stay on top."""
        result = LoadResult()
        fresh: dict[str, Clip] = {}
        old = self.clips
        for clip in clips:
            fresh[clip.name] = clip
            before = old.get(clip.name)
            if before is None:
                result.added.add(clip.name)
            elif before.values != clip.values:
                result.changed.add(clip.name)
        result.removed = set(old) - set(fresh)
        self.clips = fresh
        if result.reordered or not self.loaded:
            self.names = sorted(fresh)
        for name in result.removed:
            self._haystack.pop(name, None)
            self._circled.discard(name)
        for name in result.added | result.changed:
            self.touch(name)
        self.loaded = True
        self._refilter()
        return result

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
        get = values.get
        self._haystack[name] = "\x00".join(
            (name, *("" if get(k) is None else str(get(k)) for k in SEARCH_FIELDS))).lower()
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
