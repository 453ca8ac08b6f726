"""Start the TUI: on the built-in simulator (``--demo``) or against a real service."""

from __future__ import annotations

import argparse

from odailies_tui.api.redact import Secret
from odailies_tui.connection import Connection, resolve_connection
from odailies_tui.core.session import Session


def run_tui(args: argparse.Namespace) -> int:
    """Open the monitor; returns the exit status."""
    from odailies_tui.ui.app import ODailiesApp

    sim = None
    if args.demo:
        from odailies_tui.sim import Simulator

        sim = Simulator(realtime=True).start(port=0)
        connection = Connection(sim.base_url, sim.project_id, Secret(sim.token), label="demo")
    else:
        connection = resolve_connection(args)
    try:
        session = Session(connection, interval=args.interval, demo=sim is not None)
        ODailiesApp(session, demo=sim is not None).run()
    finally:
        if sim is not None:
            sim.stop()
    return 0
