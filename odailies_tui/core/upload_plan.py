"""Upload planning: where each local file goes on o/DAILIES, decided before any byte moves.

The rules come from ``API.md`` (Upload):

* ``.mp4`` goes to ``_graded/`` and defines the clip's base filename; a LOG variant goes to
  ``_log/`` under exactly the graded file's name. A file is LOG when it sits in a folder named
  ``_log`` (or ``log``), or when the caller asks for LOG (``--log``); a folder named ``_graded``
  (or ``graded``) always means graded.
* ``.jpg`` goes to ``_thumbnails/{clip name}.jpg``.
* ``.ale`` goes to the root.

Refused, each with what to rename: other extensions (``.mov``, ``.txt``, an upper-case ``.MP4``,
``.jpeg``), a flat ``_thumbnails_X.jpg`` (silently ignored by the pipeline), a thumbnail or LOG
file whose base name is no clip of the project nor a graded file of this upload (``force`` turns
that refusal into a warning), empty or unreadable files, and two files with one destination.
A LOG file without a graded twin in the same upload is a warning.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

GRADED_DIR = "_graded"
LOG_DIR = "_log"
THUMBNAILS_DIR = "_thumbnails"

#: folder names (lower case) that say what the ``.mp4`` files inside them are
_LOG_FOLDERS = {"_log", "log"}
_GRADED_FOLDERS = {"_graded", "graded"}
#: wrong spellings of supported extensions, and the right one
_EXT_FIXES = {".mp4": ".mp4", ".m4v": ".mp4", ".jpg": ".jpg", ".jpeg": ".jpg", ".ale": ".ale"}
_FLAT_THUMB_PREFIX = "_thumbnails_"


class Role(StrEnum):
    """What a planned file is for the o/DAILIES pipeline."""

    GRADED = "graded"
    LOG = "LOG"
    THUMBNAIL = "thumbnail"
    ALE = "ALE"


@dataclass(frozen=True, slots=True)
class PlannedFile:
    """One local file and the object path it will be uploaded to."""

    source: Path
    dest: str
    role: Role
    size: int
    clip: str | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """A file that cannot be sent as it is: why, and what to do about it."""

    source: Path
    reason: str
    advice: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}. {self.advice}"


@dataclass(slots=True)
class UploadPlan:
    """The whole decision: files to send, refusals, warnings and skipped hidden files."""

    files: list[PlannedFile] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is refused and there is something to send."""
        return not self.refusals and bool(self.files)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def good_files_only(self) -> UploadPlan:
        """This plan with its refused files left out (to send the good ones anyway)."""
        return UploadPlan(list(self.files), [], list(self.warnings), list(self.skipped))

    def by_dest(self) -> dict[str, PlannedFile]:
        """The planned files keyed by destination."""
        return {f.dest: f for f in self.files}


def expand_paths(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[Path],
                                                                   list[Path]]:
    """Expand folders recursively (sorted, hidden entries skipped).

    Returns ``(files, skipped_hidden, missing)``. A file named explicitly is kept even when
    hidden, so that it gets a proper refusal instead of vanishing.
    """
    files: list[Path] = []
    skipped: list[Path] = []
    missing: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                hidden_dirs = [d for d in dirs if d.startswith(".")]
                skipped.extend(Path(root, d) for d in sorted(hidden_dirs))
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    (skipped if name.startswith(".") else files).append(Path(root, name))
        elif path.is_file():
            files.append(path)
        else:
            missing.append(path)
    return files, skipped, missing


def _folder_role(path: Path) -> Role | None:
    parent = path.parent.name.lower()
    if parent in _LOG_FOLDERS:
        return Role.LOG
    if parent in _GRADED_FOLDERS:
        return Role.GRADED
    return None


def make_plan(
    paths: Iterable[str | os.PathLike[str]],
    clip_names: Collection[str] | None,
    *,
    log: bool = False,
    force: bool = False,
) -> UploadPlan:
    """Plan the upload of ``paths`` (files or folders).

    ``clip_names`` are the project's clips (from GET clips); ``None`` means they could not be
    read, which refuses thumbnails and LOG files unless ``force``. ``log`` sends loose ``.mp4``
    files to ``_log/``; ``force`` sends thumbnails and LOG files that match no clip anyway.
    """
    plan = UploadPlan()
    files, plan.skipped, missing = expand_paths(paths)
    for path in missing:
        plan.refusals.append(Refusal(path, "no such file or folder",
                                     "Check the path (quote names with spaces)."))

    candidates: list[PlannedFile] = []
    for path in files:
        item = _classify(path, log, plan)
        if item is not None:
            candidates.append(item)

    graded = {f.clip for f in candidates if f.role is Role.GRADED}
    known = set(clip_names or ()) | graded
    for item in candidates:
        if item.role in (Role.THUMBNAIL, Role.LOG) and item.clip not in known:
            what = "thumbnail" if item.role is Role.THUMBNAIL else "LOG file"
            if clip_names is None:
                reason = f"{what} {item.clip!r} cannot be checked: the project's clips are unknown"
            else:
                reason = f"{what} {item.clip!r} matches no clip of the project"
            if force:
                plan.warnings.append(f"{item.source}: {reason}; sending anyway (--force).")
            else:
                plan.refusals.append(Refusal(item.source, reason, _no_clip_advice(item, known)))
                continue
        if item.role is Role.LOG and item.clip not in graded:
            plan.warnings.append(
                f"{item.source}: LOG file without a graded twin in this upload "
                f"({GRADED_DIR}/{item.clip}.mp4); fine if the graded file is already on o/DAILIES."
            )
        plan.files.append(item)

    _refuse_collisions(plan)
    return plan


def _classify(path: Path, log: bool, plan: UploadPlan) -> PlannedFile | None:
    """Map one file to its destination, or add a refusal and return None."""
    name = path.name
    stem, dot, ext = name.rpartition(".")
    ext = f".{ext}" if dot else ""
    if not dot or not stem:
        stem, ext = name, ""
    right_ext = _EXT_FIXES.get(ext.lower())
    if right_ext is None:
        plan.refusals.append(Refusal(
            path, f"unsupported file type {ext or '(no extension)'!r}",
            "o/DAILIES takes .mp4 (graded or LOG dailies), .jpg (thumbnails) and .ale "
            "(metadata); convert it or leave it out."))
        return None
    if ext != right_ext:
        plan.refusals.append(Refusal(
            path, f"extension {ext!r} is not the exact spelling the pipeline expects",
            f"Rename it to {stem + right_ext!r}."))
        return None
    try:
        size = path.stat().st_size
        with open(path, "rb"):
            pass
    except OSError as exc:
        plan.refusals.append(Refusal(path, f"cannot read it ({exc.strerror or exc})",
                                     "Check its permissions."))
        return None
    if size == 0:
        plan.refusals.append(Refusal(path, "empty file (0 bytes)",
                                     "Leave it out or re-export it."))
        return None

    if right_ext == ".ale":
        return PlannedFile(path, name, Role.ALE, size)
    if right_ext == ".jpg":
        if stem.lower().startswith(_FLAT_THUMB_PREFIX):
            clip = stem[len(_FLAT_THUMB_PREFIX):]
            plan.refusals.append(Refusal(
                path, "flat thumbnail name: the pipeline silently ignores it",
                f"Rename it to {clip}.jpg (the clip's name); it will go to "
                f"{THUMBNAILS_DIR}/{clip}.jpg."))
            return None
        return PlannedFile(path, f"{THUMBNAILS_DIR}/{name}", Role.THUMBNAIL, size, stem)
    role = _folder_role(path) or (Role.LOG if log else Role.GRADED)
    folder = LOG_DIR if role is Role.LOG else GRADED_DIR
    return PlannedFile(path, f"{folder}/{name}", role, size, stem)


def _no_clip_advice(item: PlannedFile, known: set[str]) -> str:
    close = _closest(item.clip or "", known)
    hint = f" Did you mean {close}?" if close else ""
    ext = ".jpg" if item.role is Role.THUMBNAIL else ".mp4"
    return (f"Rename it to the clip's exact name (<clip name>{ext}), upload its graded file "
            f"with it, or pass --force to send it anyway.{hint}")


def _closest(name: str, known: set[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    return found[0] if found else None


def _refuse_collisions(plan: UploadPlan) -> None:
    by_dest: dict[str, list[PlannedFile]] = {}
    for item in plan.files:
        by_dest.setdefault(item.dest, []).append(item)
    keep: list[PlannedFile] = []
    for dest, items in by_dest.items():
        if len(items) == 1:
            keep.append(items[0])
            continue
        sources = ", ".join(str(i.source) for i in items)
        for item in items:
            plan.refusals.append(Refusal(
                item.source, f"{len(items)} files would go to {dest} ({sources})",
                "Keep only one of them, or rename the others."))
    plan.files = [f for f in plan.files if f in keep]
