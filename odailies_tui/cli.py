"""Entry point: argument parsing and wiring. No logic of its own lives here."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from odailies_tui import __version__, crashsafe
from odailies_tui.connection import UsageError, add_connection_args
from odailies_tui.core.alerts import add_monitor_args

#: subcommand modules; each offers ``add_parser(subparsers)`` and ``run(args) -> int``
COMMAND_MODULES: tuple[str, ...] = (
    "odailies_tui.sim.command",
    "odailies_tui.commands.upload",
    "odailies_tui.commands.auth",
    "odailies_tui.commands.status",
)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, subcommands included."""
    parser = argparse.ArgumentParser(
        prog="odailies-tui",
        description="Watch o/DAILIES jobs, log clips and upload dailies from the terminal.",
        epilog="Precedence: flag > environment (ODAILIES_PROJECT, ODAILIES_BASE_URL, "
               "ODAILIES_TOKEN) > saved settings > default.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--demo", action="store_true",
                        help="run on the built-in simulator (no account, no network)")
    parser.add_argument("--clips", type=int, default=None, metavar="N",
                        help="with --demo: how many clips the simulator holds (default 48)")
    add_connection_args(parser)
    parser.add_argument("--interval", type=float, default=2.0, metavar="SECONDS",
                        help="base poll interval while jobs run (default 2)")
    add_monitor_args(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``odailies-tui``; returns the exit status."""
    crashsafe.install()  # before anything can fail: tracebacks and logs stay token-free
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command:
            return int(args.run(args) or 0)
        from odailies_tui.launch import run_tui

        return run_tui(args)
    except UsageError as exc:
        print(f"odailies-tui: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
