"""``status`` and ``watch``: jobs for scripts and tmux status bars.

* ``odailies-tui status`` prints one line (``3 running · 612.0 MB/s · 12 minutes left ·
  1 failed``) and exits; ``--json`` prints every job as one JSON object per line.
* ``odailies-tui watch`` prints a line whenever a job finishes, fails or is aborted;
  ``--exit-on failed`` exits 1 as soon as a job fails, ``--exit-on finished`` exits when any
  job finishes (1 if it failed), ``--exit-on idle`` exits 0 once nothing runs or waits.

Exit status: 0 fine, 1 a job failed (``watch``) or the service could not be read, 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

from odailies_tui.api.client import ODailiesClient
from odailies_tui.api.errors import InvalidToken, PermissionDenied
from odailies_tui.api.models import Job
from odailies_tui.api.redact import Secret
from odailies_tui.connection import Connection, resolve_connection
from odailies_tui.core import formatting as fmt
from odailies_tui.core.jobboard import JobBoard, JobEvent, Totals

EXIT_ON = ("failed", "finished", "idle")


def problem_line(error: object) -> str:
    """One line for a failed read: a rejected token says what to do, the rest is offline."""
    if isinstance(error, (InvalidToken, PermissionDenied)):
        return f"token rejected: {error} — run `odailies-tui login` or set ODAILIES_TOKEN"
    return f"offline: {error}"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``status`` and ``watch``."""
    p = subparsers.add_parser(
        "status", help="print a one-line jobs summary (or the jobs as JSON lines) and exit",
        description="One line for scripts and tmux status bars, e.g. "
                    "'3 running · 612.0 MB/s · 12 minutes left · 1 failed'. "
                    "Exit status 1 when the service cannot be read.")
    _common(p)
    p.add_argument("--json", action="store_true",
                   help="print every job as a JSON object, one per line, newest first")
    p.set_defaults(run=run)

    w = subparsers.add_parser(
        "watch", help="print job outcomes as they happen; optionally exit on one",
        description="Poll jobs and print a line when one succeeds, fails or is aborted.")
    _common(w)
    w.add_argument("--exit-on", choices=EXIT_ON, default=None,
                   help="failed: exit 1 when a job fails; finished: exit when any job "
                        "finishes (1 if it failed); idle: exit 0 once nothing runs or waits")
    w.add_argument("--every", type=float, default=None, metavar="SECONDS",
                   help="poll interval (default: the app's adaptive interval)")
    w.set_defaults(run=run_watch)


def _common(p: argparse.ArgumentParser) -> None:
    # SUPPRESS: the same flags given before the subcommand are not overwritten
    p.add_argument("--project", metavar="ID", default=argparse.SUPPRESS,
                   help="o/DAILIES project id (env ODAILIES_PROJECT)")
    p.add_argument("--base-url", metavar="URL", default=argparse.SUPPRESS,
                   help="API base URL (env ODAILIES_BASE_URL)")
    p.add_argument("--demo", action="store_true", default=argparse.SUPPRESS,
                   help="read the built-in simulator")


# -- formatting ---------------------------------------------------------------------------------

def summary_line(totals: Totals) -> str:
    """``3 running · 612.0 MB/s · 12 minutes left · 1 failed`` (failed: not yet read)."""
    parts = [f"{totals.running} running"]
    if totals.waiting:
        parts.append(f"{totals.waiting} waiting")
    if totals.running:
        parts.append(fmt.rate(totals.throughput, estimated=totals.throughput_estimated))
        if totals.seconds_left is not None:
            parts.append(fmt.duration(totals.seconds_left,
                                      estimated=totals.seconds_left_estimated) + " left")
    if totals.failed:
        parts.append(f"{totals.failed} failed")
    return " · ".join(parts)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def job_json(job: Job) -> dict[str, Any]:
    """A job as the API names its fields (unknown fields kept)."""
    data: dict[str, Any] = {
        "id": job.id, "type": job.type, "state": job.state, "name": job.name,
        "readFlag": 1 if job.read else 0, "progress": job.progress,
        "bytesPerSecond": job.bytes_per_second, "remainingSeconds": job.remaining_seconds,
        "remaining": job.remaining, "path": job.path,
        "creationDate": _iso(job.creation_date), "startDate": _iso(job.start_date),
        "finishDate": _iso(job.finish_date),
    }
    data.update(job.extra)
    return data


def event_line(event: JobEvent, now: datetime | None = None) -> str:
    """``14:02:07 failed     CopyJob  A001_C002 (62%)``."""
    job = event.job
    stamp = (now or datetime.now()).strftime("%H:%M:%S")
    return f"{stamp} {event.new_state:<9} {job.type:<16} {job.name or job.id} " \
           f"({fmt.percent(job.progress)})"


# -- running --------------------------------------------------------------------------------------

def _connection(args: argparse.Namespace) -> tuple[Connection, Callable[[], None]]:
    if getattr(args, "demo", False):
        from odailies_tui.sim import Simulator

        sim = Simulator(realtime=True).start(port=0)
        return (Connection(sim.base_url, sim.project_id, Secret(sim.token), label="demo"),
                sim.stop)
    return resolve_connection(args), lambda: None


async def status_once(client: ODailiesClient, *, as_json: bool, out: TextIO) -> int:
    """One full GET; print the summary (or JSON lines). 0, or 1 when the service failed."""
    board = JobBoard(client)
    result = await board.poll(full=True)
    if not result.ok:
        print(problem_line(result.error), file=out)
        return 1
    if as_json:
        for tracked in board.ordered():
            print(json.dumps(job_json(tracked.job), ensure_ascii=False), file=out)
    else:
        print(summary_line(board.totals()), file=out)
    return 0


def run(args: argparse.Namespace) -> int:
    """``status``."""
    connection, stop = _connection(args)
    try:
        return asyncio.run(_status(connection, args))
    except BrokenPipeError:  # `status --json | head`: the reader has all it wanted
        _quiet_stdout()
        return 0
    finally:
        stop()


def _quiet_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


async def _status(connection: Connection, args: argparse.Namespace) -> int:
    async with ODailiesClient(connection.base_url, connection.project_id,
                              connection.token) as client:
        return await status_once(client, as_json=args.json, out=sys.stdout)


async def watch_jobs(
    client: ODailiesClient,
    *,
    exit_on: str | None,
    every: float | None = None,
    out: TextIO,
    err: TextIO,
    board: JobBoard | None = None,
) -> int:
    """Poll until ``exit_on`` happens (or forever); returns the exit status."""
    board = board if board is not None else JobBoard(client)
    offline = False
    while True:
        result = await board.poll()
        if not result.ok:
            if isinstance(result.error, (InvalidToken, PermissionDenied)):
                print(problem_line(result.error), file=err, flush=True)
                return 2  # retrying a rejected token cannot help
            if not offline:
                print(f"offline: {result.error} (retrying)", file=err, flush=True)
            offline = True
        else:
            if offline:
                print("back online", file=err, flush=True)
            offline = False
            status = None
            for event in result.events:
                print(event_line(event), file=out, flush=True)
                if exit_on == "failed" and event.new_state == "failed":
                    status = 1
                elif exit_on == "finished" and status is None:
                    status = 1 if event.new_state == "failed" else 0
            if status is not None:
                return status
            if exit_on == "idle":
                totals = board.totals()
                if not totals.running and not totals.waiting:
                    return 0
        delay = board.next_interval() if every is None or board.failures else every
        await asyncio.sleep(delay)


def run_watch(args: argparse.Namespace) -> int:
    """``watch``."""
    connection, stop = _connection(args)
    try:
        return asyncio.run(_watch(connection, args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    finally:
        stop()


async def _watch(connection: Connection, args: argparse.Namespace) -> int:
    async with ODailiesClient(connection.base_url, connection.project_id,
                              connection.token) as client:
        until = f" until a job {args.exit_on}" if args.exit_on in ("failed", "finished") else \
            " until nothing runs or waits" if args.exit_on == "idle" else ""
        print(f"watching jobs of {connection.label or connection.project_id}{until} "
              "(ctrl+c stops)", file=sys.stderr, flush=True)
        return await watch_jobs(client, exit_on=args.exit_on, every=args.every,
                                out=sys.stdout, err=sys.stderr)
