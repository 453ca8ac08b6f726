"""Start the TUI: on the built-in simulator (``--demo``) or against a real service."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from odailies_tui.api.client import DEFAULT_BASE_URL
from odailies_tui.api.redact import Secret
from odailies_tui.connection import (
    Connection,
    NoProject,
    NoToken,
    UsageError,
    resolve_connection,
    resolve_target,
)
from odailies_tui.core.alerts import AlertPolicy, policy_from
from odailies_tui.core.session import Session
from odailies_tui.settings import SettingsError, load_settings

if TYPE_CHECKING:
    from odailies_tui.sim import Faults
    from odailies_tui.ui.login_screen import LoginScreen


def _faults(spec: str | None) -> Faults | None:
    """``--fault SPEC`` for the demo simulator (a UsageError names the bad part)."""
    if not spec:
        return None
    from odailies_tui.sim import Faults

    try:
        return Faults.parse(spec)
    except ValueError as exc:
        raise UsageError(f"--fault: {exc}") from None


def _alert_policy(args: argparse.Namespace) -> AlertPolicy:
    """Alert settings: flags > the settings file's ``alerts`` section > defaults."""
    try:
        raw = load_settings().alerts
    except SettingsError:
        raw = {}
    policy, problems = policy_from(args, raw)
    bad_flags = [p for p in problems if p.startswith("--")]
    if bad_flags:
        raise UsageError("; ".join(bad_flags))
    for problem in problems:
        print(f"odailies-tui: settings: {problem} (default used)", file=sys.stderr)
    return policy


def _login_screen(args: argparse.Namespace, reason: UsageError) -> LoginScreen:
    """The first-run login screen, pre-filled with what is already known."""
    from odailies_tui.ui.login_screen import LoginScreen

    project = getattr(reason, "project_id", "") or ""
    try:
        target = resolve_target(args)
        project, base_url, label = target.project_id or project, target.base_url, target.label
    except UsageError:
        base_url, label = getattr(args, "base_url", None) or DEFAULT_BASE_URL, ""
    text = "No project chosen yet." if isinstance(reason, NoProject) else \
        f"No token stored for project {project}."
    return LoginScreen(project_id=project, base_url=base_url, label=label, reason=text)


def run_tui(args: argparse.Namespace) -> int:
    """Open the monitor; returns the exit status."""
    from odailies_tui.ui.app import ODailiesApp

    sim = None
    login = None
    connection: Connection | None = None
    if args.demo:
        from odailies_tui.sim import Simulator

        clips = getattr(args, "clips", None)
        faults = _faults(getattr(args, "fault", None))
        sim = Simulator(realtime=True, faults=faults, request_log=200,
                        **({"clips": clips} if clips is not None else {}))
        sim.start(port=0)
        connection = Connection(sim.base_url, sim.project_id, Secret(sim.token), label="demo")
    else:
        try:
            connection = resolve_connection(args)
        except (NoProject, NoToken) as exc:
            if not (sys.stdin.isatty() and sys.stdout.isatty()):
                raise  # nobody to ask: say what to do and exit 2
            login = _login_screen(args, exc)
    policy = _alert_policy(args)

    def make_session(conn: Connection) -> Session:
        session = Session(conn, interval=args.interval, demo=sim is not None)
        session.alerts.policy = policy
        return session

    try:
        ODailiesApp(make_session(connection) if connection else None, demo=sim is not None,
                    start_view="wall" if getattr(args, "wall", False) else None,
                    login=login, make_session=make_session).run()
    finally:
        if sim is not None:
            sim.stop()
    return 0
