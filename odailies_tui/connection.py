"""Which service, project and token to use: flags, then environment, then settings/keyring.

* project: ``--project`` > ``ODAILIES_PROJECT`` > the settings' default project
* base URL: ``--base-url`` > ``ODAILIES_BASE_URL`` > the project's saved base URL > default
* token: ``ODAILIES_TOKEN`` > the OS keyring (service ``odailies-tui``, user = project id)

Failures are :class:`UsageError` subclasses, so the CLI prints them and exits 2, and the TUI can
tell "no project" / "no token" (open the login screen) from "keyring unavailable".
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from odailies_tui import credentials
from odailies_tui.api.client import DEFAULT_BASE_URL, ODailiesClient
from odailies_tui.api.errors import PermissionDenied
from odailies_tui.api.redact import Secret, redact
from odailies_tui.settings import Project, Settings, SettingsError, load_settings, update_settings

#: a harmless object path: asking for its upload URL changes nothing (nothing is PUT)
PROBE_PATH = "_thumbnails/.odailies-tui-probe.jpg"


class UsageError(Exception):
    """A message telling the user what to do; the CLI prints it and exits 2."""


class NoProject(UsageError):
    """No project was named anywhere (flag, environment, settings)."""


class NoToken(UsageError):
    """The keyring works but holds no token for the project, and ODAILIES_TOKEN is unset."""

    def __init__(self, message: str, project_id: str) -> None:
        super().__init__(message)
        self.project_id = project_id


class KeyringUnusable(UsageError):
    """The token could not be read: the keyring is unavailable (``reason`` says why)."""

    def __init__(self, error: credentials.KeyringUnavailable, project_id: str) -> None:
        super().__init__(credentials.unavailable_message(error, project_id))
        self.reason = error.reason
        self.project_id = project_id


@dataclass(frozen=True)
class Connection:
    """Where to talk to and with which token (the token never shows in a repr)."""

    base_url: str
    project_id: str
    token: Secret
    label: str = ""

    def __repr__(self) -> str:
        return f"Connection({self.base_url!r}, project={self.project_id!r}, token=***)"


@dataclass(frozen=True)
class Target:
    """Project and base URL, resolved without touching the keyring."""

    project_id: str
    base_url: str
    label: str = ""


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--project`` and ``--base-url`` (flag > environment > settings > default)."""
    parser.add_argument("--project", metavar="ID",
                        help="o/DAILIES project id (env ODAILIES_PROJECT)")
    parser.add_argument("--base-url", metavar="URL",
                        help=f"API base URL (env ODAILIES_BASE_URL; default {DEFAULT_BASE_URL})")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise UsageError(str(exc)) from None


def resolve_target(args: argparse.Namespace, settings: Settings | None = None) -> Target:
    """Project id, base URL and label from flags, environment and settings (no token)."""
    settings = settings if settings is not None else _settings()
    project = (getattr(args, "project", None) or os.environ.get("ODAILIES_PROJECT", "").strip()
               or settings.default_project)
    if not project:
        raise NoProject("no project: pass --project ID, set ODAILIES_PROJECT, or run "
                        "`odailies-tui login` (or try the simulator: odailies-tui --demo)")
    known = settings.project(project)
    base_url = (getattr(args, "base_url", None) or os.environ.get("ODAILIES_BASE_URL", "").strip()
                or (known.base_url if known else "") or DEFAULT_BASE_URL)
    return Target(project_id=project, base_url=check_base_url(base_url),
                  label=known.label if known else "")


def check_base_url(url: str) -> str:
    """Return ``url`` without a trailing slash if it is an http(s) URL with a host, else
    raise a UsageError that shows the expected form."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise UsageError(f"the API base URL must look like {DEFAULT_BASE_URL} "
                         f"(got {redact(url)!r}): check --base-url / ODAILIES_BASE_URL")
    return url.strip().rstrip("/")


def _no_token(project: str) -> NoToken:
    return NoToken(f"no token for project {project}: run `odailies-tui login --project "
                   f"{project}` or set {credentials.ENV_TOKEN} "
                   "(or try the simulator: odailies-tui --demo)", project)


def resolve_connection(args: argparse.Namespace) -> Connection:
    """Resolve project, base URL and token, or raise a UsageError saying what to do."""
    target = resolve_target(args)
    try:
        token, _ = credentials.resolve_token(target.project_id)
    except credentials.KeyringUnavailable as exc:
        raise KeyringUnusable(exc, target.project_id) from None
    return _connection(target, token)


async def aresolve_connection(args: argparse.Namespace) -> Connection:
    """Async :func:`resolve_connection` for the TUI: the keyring is read off the event loop."""
    target = resolve_target(args)
    try:
        token, _ = await credentials.aresolve_token(target.project_id)
    except credentials.KeyringUnavailable as exc:
        raise KeyringUnusable(exc, target.project_id) from None
    return _connection(target, token)


def _connection(target: Target, token: Secret | None) -> Connection:
    if not token:
        raise _no_token(target.project_id)
    return Connection(base_url=target.base_url, project_id=target.project_id, token=token,
                      label=target.label)


async def aconnection_for(project_id: str) -> Connection:
    """The connection of a known (or new) project: saved base URL, token from env/keyring.

    For switching projects in the TUI; raises NoToken or KeyringUnusable like
    :func:`aresolve_connection` (``ODAILIES_BASE_URL`` / ``ODAILIES_TOKEN`` still win).
    """
    return await aresolve_connection(argparse.Namespace(project=project_id, base_url=None))


# -- checking a token and remembering a project (CLI login and the login screen) ------------

@dataclass(frozen=True)
class ProbeResult:
    """What a token may do: True works, False not permitted (Write cannot be probed)."""

    read: bool
    upload: bool


async def probe_token(base_url: str, project_id: str, token: Secret | str) -> ProbeResult:
    """Check a token: Read by listing jobs, Upload by asking a URL (nothing is uploaded).

    Raises InvalidToken on a 401 and any other ApiError (network, server, 400) as it comes.
    """
    client = ODailiesClient(base_url, project_id, token)
    try:
        try:
            await client.list_jobs()
            read = True
        except PermissionDenied:
            read = False
        try:
            await client.upload_url(PROBE_PATH)
            upload = True
        except PermissionDenied:
            upload = False
    finally:
        await client.aclose()
    return ProbeResult(read=read, upload=upload)


def remember_project(project_id: str, base_url: str, label: str = "", *,
                     make_default: bool = False) -> Settings:
    """Record a project (no token) in the settings; keeps a saved label when none is given.

    The first project becomes the default. Raises SettingsError.
    """
    def change(settings: Settings) -> None:
        known = settings.project(project_id)
        settings.upsert_project(
            Project(id=project_id, label=label or (known.label if known else ""),
                    base_url=base_url), make_default=make_default)

    return update_settings(change)
