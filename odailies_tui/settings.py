"""Non-secret settings: known projects, default project, poll interval, alerts.

One JSON file, ``settings.json`` under ``platformdirs.user_config_dir("odailies-tui")``.
``ODAILIES_CONFIG`` overrides the location: a path ending in ``.json`` is the file itself,
anything else is the directory holding ``settings.json``. Writes are atomic (temporary file in
the same directory, fsync, rename). A token can never be saved here: :func:`save_settings`
refuses any content that holds a known token.

File layout::

    {"version": 1, "default_project": "P1", "poll_interval": 2.0,
     "projects": [{"id": "P1", "label": "Feature", "base_url": "https://..."}],
     "alerts": {}}

Unknown top-level keys are kept as they are, so an older version never drops a newer one's data.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from odailies_tui.api.client import DEFAULT_BASE_URL
from odailies_tui.api.redact import redact

APP_NAME = "odailies-tui"
ENV_CONFIG = "ODAILIES_CONFIG"
ENV_STATE_DIR = "ODAILIES_STATE_DIR"
FILE_NAME = "settings.json"
VERSION = 1


class SettingsError(Exception):
    """The settings file cannot be read or written; the message says which file and why."""


@dataclass
class Project:
    """A known project: id, optional label, API base URL."""

    id: str
    label: str = ""
    base_url: str = DEFAULT_BASE_URL

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "label": self.label, "base_url": self.base_url}

    @classmethod
    def from_json(cls, raw: Any) -> Project | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
            return None
        return cls(id=raw["id"], label=str(raw.get("label") or ""),
                   base_url=str(raw.get("base_url") or DEFAULT_BASE_URL))


@dataclass
class Settings:
    """Everything in the settings file."""

    projects: list[Project] = field(default_factory=list)
    default_project: str | None = None
    poll_interval: float | None = None
    #: free-form section owned by the alerts feature
    alerts: dict[str, Any] = field(default_factory=dict)
    #: top-level keys this version does not know, kept verbatim
    extra: dict[str, Any] = field(default_factory=dict)

    def project(self, project_id: str | None) -> Project | None:
        """The known project with that id, if any."""
        return next((p for p in self.projects if p.id == project_id), None)

    def upsert_project(self, project: Project, *, make_default: bool = False) -> None:
        """Add or replace a project (kept in insertion order); optionally make it the default."""
        for i, known in enumerate(self.projects):
            if known.id == project.id:
                self.projects[i] = project
                break
        else:
            self.projects.append(project)
        if make_default or not self.default_project:
            self.default_project = project.id

    def remove_project(self, project_id: str) -> bool:
        """Forget a project; the default moves to the first remaining one. True if removed."""
        before = len(self.projects)
        self.projects = [p for p in self.projects if p.id != project_id]
        if self.default_project == project_id:
            self.default_project = self.projects[0].id if self.projects else None
        return len(self.projects) != before

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        out.update({
            "version": VERSION,
            "default_project": self.default_project,
            "poll_interval": self.poll_interval,
            "projects": [p.to_json() for p in self.projects],
            "alerts": self.alerts,
        })
        return out

    @classmethod
    def from_json(cls, raw: Any) -> Settings:
        if not isinstance(raw, dict):
            raise ValueError("the top level is not an object")
        known = {"version", "default_project", "poll_interval", "projects", "alerts"}
        projects = [p for p in map(Project.from_json, raw.get("projects") or []) if p]
        interval = raw.get("poll_interval")
        default = raw.get("default_project")
        alerts = raw.get("alerts")
        return cls(
            projects=projects,
            default_project=default if isinstance(default, str) and default else None,
            poll_interval=float(interval) if isinstance(interval, int | float)
            and not isinstance(interval, bool) and interval > 0 else None,
            alerts=alerts if isinstance(alerts, dict) else {},
            extra={k: v for k, v in raw.items() if k not in known},
        )


# -- locations ------------------------------------------------------------------------------

def settings_path() -> Path:
    """Where the settings file lives (``ODAILIES_CONFIG`` overrides)."""
    override = os.environ.get(ENV_CONFIG, "").strip()
    if override:
        path = Path(override).expanduser()
        return path if path.suffix.lower() == ".json" else path / FILE_NAME
    return Path(platformdirs.user_config_dir(APP_NAME)) / FILE_NAME


def state_dir(*, create: bool = True) -> Path:
    """Directory for state such as the edit journal (``ODAILIES_STATE_DIR`` overrides)."""
    override = os.environ.get(ENV_STATE_DIR, "").strip()
    path = Path(override).expanduser() if override else Path(
        platformdirs.user_state_dir(APP_NAME))
    if create:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


# -- read / write ---------------------------------------------------------------------------

def load_settings(path: Path | None = None) -> Settings:
    """Read the settings; a missing file gives empty settings; a broken one a SettingsError."""
    path = path or settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc.strerror or exc}") from None
    try:
        return Settings.from_json(json.loads(text))
    except (ValueError, TypeError) as exc:
        raise SettingsError(f"settings file {path} is not valid ({exc}); fix or remove it") \
            from None


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write the settings atomically; returns the path. Refuses content holding a token."""
    path = path or settings_path()
    text = json.dumps(settings.to_json(), indent=2, ensure_ascii=False) + "\n"
    if redact(text) != text:
        raise SettingsError("refusing to save settings that contain a token")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise SettingsError(f"cannot write settings file {path}: {exc.strerror or exc}") \
            from None
    return path


def update_settings(change: Callable[[Settings], Any], path: Path | None = None) -> Settings:
    """Load, apply ``change`` in place, save; returns the saved settings."""
    settings = load_settings(path)
    change(settings)
    save_settings(settings, path)
    return settings
