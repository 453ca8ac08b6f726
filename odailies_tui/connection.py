"""Which service, project and token to use: flags, then environment, then settings/keyring."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from odailies_tui.api.client import DEFAULT_BASE_URL
from odailies_tui.api.redact import Secret


class UsageError(Exception):
    """A one-line message telling the user what to do; the CLI prints it and exits 2."""


@dataclass(frozen=True)
class Connection:
    """Where to talk to and with which token (the token never shows in a repr)."""

    base_url: str
    project_id: str
    token: Secret
    label: str = ""

    def __repr__(self) -> str:
        return f"Connection({self.base_url!r}, project={self.project_id!r}, token=***)"


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--project`` and ``--base-url`` (flag > environment > settings > default)."""
    parser.add_argument("--project", metavar="ID",
                        help="o/DAILIES project id (env ODAILIES_PROJECT)")
    parser.add_argument("--base-url", metavar="URL",
                        help=f"API base URL (env ODAILIES_BASE_URL; default {DEFAULT_BASE_URL})")


def resolve_connection(args: argparse.Namespace) -> Connection:
    """Resolve project, base URL and token, or raise UsageError saying what to do."""
    project = getattr(args, "project", None) or os.environ.get("ODAILIES_PROJECT")
    base_url = (getattr(args, "base_url", None) or os.environ.get("ODAILIES_BASE_URL")
                or DEFAULT_BASE_URL)
    if not project:
        raise UsageError("no project: pass --project ID or set ODAILIES_PROJECT "
                         "(or try the simulator: odailies-tui --demo)")
    token = os.environ.get("ODAILIES_TOKEN", "").strip()
    if not token:
        raise UsageError(f"no token for project {project}: set ODAILIES_TOKEN "
                         "(or try the simulator: odailies-tui --demo)")
    return Connection(base_url=base_url, project_id=project, token=Secret(token))
