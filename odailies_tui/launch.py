"""Start the TUI: on the built-in simulator (``--demo``) or against a real service."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from odailies_tui.api.redact import Secret
from odailies_tui.connection import Connection, UsageError, resolve_connection
from odailies_tui.core.alerts import AlertPolicy, policy_from
from odailies_tui.core.session import Session
from odailies_tui.settings import SettingsError, load_settings

if TYPE_CHECKING:
    from odailies_tui.sim import Faults


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


def run_tui(args: argparse.Namespace) -> int:
    """Open the monitor; returns the exit status."""
    from odailies_tui.ui.app import ODailiesApp

    sim = None
    if args.demo:
        from odailies_tui.sim import Simulator

        clips = getattr(args, "clips", None)
        faults = _faults(getattr(args, "fault", None))
        sim = Simulator(realtime=True, faults=faults,
                        **({"clips": clips} if clips is not None else {}))
        sim.start(port=0)
        connection = Connection(sim.base_url, sim.project_id, Secret(sim.token), label="demo")
    else:
        connection = resolve_connection(args)
    try:
        session = Session(connection, interval=args.interval, demo=sim is not None)
        session.alerts.policy = _alert_policy(args)
        ODailiesApp(session, demo=sim is not None,
                    start_view="wall" if getattr(args, "wall", False) else None).run()
    finally:
        if sim is not None:
            sim.stop()
    return 0
