"""The edit journal: every clip edit not yet confirmed by the server, kept on disk.

One small JSON file per project under the user state directory (``ODAILIES_STATE_DIR``
overrides it). Writes are atomic: a temporary file in the same directory, fsync, then rename,
so a crash leaves either the old journal or the new one, never half of one.

File layout::

    {"version": 1, "project": "P1", "edits": {"A001C001": {"circled": true, "rating": 4}}}
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

log = logging.getLogger("odailies_tui.core.journal")

VERSION = 1
ENV_STATE_DIR = "ODAILIES_STATE_DIR"


def default_state_dir() -> Path:
    """The user state directory (``odailies_tui.settings.state_dir``); created on first save."""
    try:
        from odailies_tui.settings import state_dir
    except ImportError:  # pragma: no cover - settings.py ships with the app
        import platformdirs

        override = os.environ.get(ENV_STATE_DIR, "").strip()
        path = Path(override).expanduser() if override else Path(
            platformdirs.user_state_dir("odailies-tui"))
        return path
    return state_dir(create=False)


def journal_name(base_url: str, project_id: str) -> str:
    """File name for a project's journal: the project id plus a short hash of the host (the
    port is left out, so a simulator restarted on another port still finds its journal)."""
    host = urlsplit(base_url).hostname or base_url
    digest = hashlib.sha256(host.encode()).hexdigest()[:10]
    return f"edits-{quote(project_id, safe='')}-{digest}.json"


class Journal:
    """Unsent clip edits of one project (name -> {property: value}) on disk."""

    def __init__(self, path: Path | None, project_id: str = "") -> None:
        #: None keeps the journal in memory only (tests that do not care, benchmarks)
        self.path = path
        self.project_id = project_id
        #: the last write error, shown on screen ("edits are not being saved")
        self.error: str | None = None

    @classmethod
    def for_project(cls, base_url: str, project_id: str,
                    directory: Path | None = None) -> Journal:
        """The journal of ``project_id`` at ``base_url`` in ``directory`` (default: state dir)."""
        folder = directory if directory is not None else default_state_dir()
        return cls(folder / journal_name(base_url, project_id), project_id)

    def load(self) -> dict[str, dict[str, Any]]:
        """The saved edits; an absent file is empty, a broken one is set aside and empty."""
        if self.path is None or not self.path.exists():
            return {}
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            edits = raw["edits"]
            if not isinstance(edits, dict):
                raise ValueError("edits is not an object")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            broken = self.path.with_suffix(".broken")
            log.warning("edit journal %s unreadable (%s); moved to %s", self.path, exc, broken)
            try:
                os.replace(self.path, broken)
            except OSError:
                pass
            return {}
        return {str(name): dict(values) for name, values in edits.items()
                if isinstance(values, dict) and values}

    def save(self, edits: dict[str, dict[str, Any]]) -> None:
        """Write ``edits`` atomically; an empty journal removes the file."""
        if self.path is None:
            return
        try:
            if not any(edits.values()):
                self.path.unlink(missing_ok=True)
                self.error = None
                return
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            payload = {"version": VERSION, "project": self.project_id,
                       "edits": {name: values for name, values in edits.items() if values}}
            data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
            fd, tmp = tempfile.mkstemp(prefix=".edits-", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            self.error = None
        except OSError as exc:
            self.error = f"cannot write the edit journal {self.path}: {exc.strerror or exc}"
            log.error("%s", self.error)
