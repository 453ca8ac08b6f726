"""``login``, ``logout`` and ``projects``: tokens in the keyring, projects in the settings."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from typing import TextIO

from odailies_tui import crashsafe, credentials
from odailies_tui.api.client import DEFAULT_BASE_URL
from odailies_tui.api.errors import ApiError, InvalidToken
from odailies_tui.api.redact import Secret, redact
from odailies_tui.connection import (
    KeyringUnusable,
    UsageError,
    probe_token,
    remember_project,
    resolve_target,
)
from odailies_tui.settings import SettingsError, load_settings, update_settings


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``login``, ``logout`` and ``projects``."""
    # SUPPRESS keeps a top-level ``--project X login`` from being reset to None here.
    p = subparsers.add_parser(
        "login", help="check a token against the API and store it in the OS keyring",
        description="Ask for a project id and a token (typed hidden; pasting works; read from "
                    "stdin when it is not a terminal), check it against the API, store it in "
                    "the OS keyring and remember the project (not the token) in the settings.")
    p.add_argument("--project", metavar="ID", default=argparse.SUPPRESS,
                   help="project id (asked if not given)")
    p.add_argument("--label", metavar="TEXT", default="", help="a label shown for the project")
    p.add_argument("--base-url", metavar="URL", default=argparse.SUPPRESS,
                   help=f"API base URL (default {DEFAULT_BASE_URL})")
    p.add_argument("--default", action="store_true", dest="make_default",
                   help="make this the default project (the first one always is)")
    p.set_defaults(run=run_login)

    p = subparsers.add_parser("logout", help="remove a project's token from the OS keyring")
    p.add_argument("--project", metavar="ID", default=argparse.SUPPRESS,
                   help="project id (default: the default project)")
    p.add_argument("--forget", action="store_true",
                   help="also remove the project from the settings")
    p.set_defaults(run=run_logout)

    p = subparsers.add_parser("projects", help="list known projects and whether a token is stored")
    p.set_defaults(run=run_projects)


def run(args: argparse.Namespace) -> int:
    """Dispatch to the chosen subcommand (each parser sets its own ``run``)."""
    return int(args.run(args))


# -- login ----------------------------------------------------------------------------------

def _interactive(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _ask(prompt: str, *, hidden: bool = False) -> str:
    """A line from the user: prompted on a terminal, read plainly from a pipe."""
    if _interactive(sys.stdin):
        return getpass.getpass(prompt) if hidden else input(prompt)
    line = sys.stdin.readline()
    if not line:
        raise UsageError(f"no input for {prompt.strip().rstrip(':')} (stdin is empty)")
    return line


def _keyring_check(project: str) -> bool:
    """True if a token is already stored; raises KeyringUnusable (exit 2) if unreadable."""
    try:
        return credentials.get_token(project) is not None
    except credentials.KeyringUnavailable as exc:
        raise KeyringUnusable(exc, project) from None


def run_login(args: argparse.Namespace) -> int:
    """``odailies-tui login``."""
    crashsafe.install()  # a raw token is about to be handled: no traceback may print it
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    project = (getattr(args, "project", None) or os.environ.get("ODAILIES_PROJECT", "").strip()
               or _ask("Project id: ").strip())
    if not project:
        raise UsageError("no project id given")
    args.project = project
    target = resolve_target(args, settings)

    # Read the keyring before asking for the token: if it is unusable, say so now, and a
    # token that could not be read (locked) is never overwritten.
    had_token = _keyring_check(project)

    raw = _ask(f"Token for {project} (hidden): ", hidden=True).strip()
    if not raw:
        raise UsageError("no token given")
    token = Secret(raw)
    del raw

    print(f"Checking the token against {redact(target.base_url)} ...")
    try:
        probe = asyncio.run(probe_token(target.base_url, project, token))
    except InvalidToken:
        print(f"invalid token for project {project}: nothing was stored.", file=sys.stderr)
        return 1
    except ApiError as exc:
        print(f"cannot check the token ({exc}): nothing was stored.", file=sys.stderr)
        return 1
    print(f"  Read    {'works' if probe.read else 'not permitted'}")
    print(f"  Upload  {'works' if probe.upload else 'not permitted'}")
    print("  Write   not probed (it cannot be checked without changing data)")

    try:
        credentials.set_token(project, token)
    except credentials.KeyringUnavailable as exc:
        raise KeyringUnusable(exc, project) from None
    verb = "replaced" if had_token else "stored"
    print(f"Token {verb} in the OS keyring for project {project}.")

    try:
        saved = remember_project(project, target.base_url, args.label,
                                 make_default=args.make_default)
    except SettingsError as exc:
        raise UsageError(f"the token is stored, but {exc}") from None
    mark = " (default)" if saved.default_project == project else ""
    print(f"Project {project}{mark} saved in the settings.")
    return 0


# -- logout ---------------------------------------------------------------------------------

def run_logout(args: argparse.Namespace) -> int:
    """``odailies-tui logout``."""
    target = resolve_target(args)
    project = target.project_id
    try:
        removed = credentials.delete_token(project)
    except credentials.KeyringUnavailable as exc:
        raise KeyringUnusable(exc, project) from None
    if removed:
        print(f"Token for project {project} removed from the OS keyring.")
    else:
        print(f"No token was stored for project {project}.")
    if credentials.env_token():
        print(f"Note: {credentials.ENV_TOKEN} is set in this environment and still applies.")
    if args.forget:
        try:
            update_settings(lambda s: s.remove_project(project))
        except SettingsError as exc:
            raise UsageError(str(exc)) from None
        print(f"Project {project} removed from the settings.")
    return 0


# -- projects -------------------------------------------------------------------------------

def token_status(project_id: str) -> str:
    """``stored`` / ``not stored`` / ``unknown (keyring unavailable: ...)`` — never the token."""
    try:
        return "stored" if credentials.get_token(project_id) is not None else "not stored"
    except credentials.KeyringUnavailable as exc:
        return f"unknown (keyring unavailable: {exc.reason})"


def run_projects(args: argparse.Namespace) -> int:
    """``odailies-tui projects``."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    if not settings.projects:
        print("No known projects yet: run `odailies-tui login`.")
        return 0
    rows = []
    unavailable: str | None = None
    for p in settings.projects:
        if unavailable is None:
            status = token_status(p.id)
            if status.startswith("unknown"):
                unavailable = status  # do not wait on a broken keyring once per project
        else:
            status = unavailable
        rows.append(("*" if p.id == settings.default_project else " ", p.id, p.label,
                     p.base_url, status))
    header = (" ", "PROJECT", "LABEL", "BASE URL", "TOKEN")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        cells = [row[i].ljust(widths[i]) for i in range(4)]
        print(redact(" ".join(cells) + "  " + row[4]).rstrip())
    print("* = default project")
    if credentials.env_token():
        print(f"{credentials.ENV_TOKEN} is set: it overrides the keyring for every project.")
    return 0
