"""``odailies-tui upload PATHS...``: plan, check, then stream files to o/DAILIES with progress.

Exit status: 0 when every file arrived, 1 when any failed (or the service could not be
reached), 2 when the plan or the command line is refused (nothing is sent), 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import TextIO

from rich import box
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from odailies_tui.api.client import ODailiesClient
from odailies_tui.api.errors import InvalidToken, PermissionDenied
from odailies_tui.connection import add_connection_args, resolve_connection
from odailies_tui.core.formatting import duration as fmt_duration
from odailies_tui.core.formatting import percent as fmt_percent
from odailies_tui.core.formatting import rate as fmt_rate
from odailies_tui.core.formatting import size as fmt_size
from odailies_tui.core.upload_center import UploadCenter
from odailies_tui.core.upload_plan import UploadPlan
from odailies_tui.core.upload_run import ItemState, UploadBatch, UploadItem

RULES = """\
where files go (API.md):
  NAME.mp4                  -> _graded/NAME.mp4   (defines the clip's base filename)
  _log/NAME.mp4, or --log   -> _log/NAME.mp4      (exactly the graded file's name)
  CLIP.jpg                  -> _thumbnails/CLIP.jpg (CLIP must be a clip of the project)
  NAME.ale                  -> NAME.ale           (root; imported, then removed)
Anything else, a flat _thumbnails_X.jpg, or two files with one destination is refused
before any byte moves. Exit status: 0 all delivered, 1 some failed, 2 refused.
"""

#: seconds between progress lines when output is not a terminal
PLAIN_PROGRESS_EVERY = 10.0
#: console width when output is not a terminal (logs and pipes: no wrapping mid-figure)
PLAIN_WIDTH = 160


def _parallel(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if not 1 <= n <= 16:
        raise argparse.ArgumentTypeError("must be between 1 and 16")
    return n


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``upload`` on the CLI's subparsers."""
    p = subparsers.add_parser(
        "upload",
        help="upload graded/LOG dailies, thumbnails and ALE files",
        description="Upload files (folders are expanded) to the project's o/DAILIES storage, "
                    "with live progress and a summary.",
        epilog=RULES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to upload")
    p.add_argument("--log", action="store_true",
                   help="send .mp4 files to _log/ (LOG variants) instead of _graded/")
    p.add_argument("--dry-run", action="store_true", help="print the plan, send nothing")
    p.add_argument("--parallel", type=_parallel, default=2, metavar="N",
                   help="files sent at the same time (default 2)")
    p.add_argument("--force", action="store_true",
                   help="send thumbnails and LOG files whose name matches no clip")
    add_connection_args(p)
    # given after the subcommand or before it: a default here must not hide the one given before
    for action in p._actions:
        if action.dest in ("project", "base_url"):
            action.default = argparse.SUPPRESS
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Resolve the connection, plan, and upload; returns the exit status."""
    connection = resolve_connection(args)
    client = ODailiesClient(connection.base_url, connection.project_id, connection.token)
    return asyncio.run(_main(args, client))


async def _main(args: argparse.Namespace, client: ODailiesClient) -> int:
    out = Console(file=sys.stdout, highlight=False)
    if not out.is_terminal:
        out = Console(file=sys.stdout, highlight=False, width=max(PLAIN_WIDTH, out.width))
    err = Console(file=sys.stderr, highlight=False)
    async with client:
        try:
            result = await UploadCenter(client).plan(args.paths, log=args.log, force=args.force)
        except InvalidToken as exc:
            err.print(f"odailies-tui upload: {exc}. Check the token for project "
                      f"{client.project_id} (ODAILIES_TOKEN or the keyring).", markup=False)
            return 2
        if result.clips_problem:
            err.print(f"warning: cannot read the project's clips ({result.clips_problem}); "
                      "thumbnail and LOG names cannot be checked.", markup=False)
        plan = result.plan
        if not _show_plan(plan, args, out, err):
            return 2
        if args.dry_run:
            out.print("Dry run: nothing was sent.")
            return 0
        batch = UploadBatch(plan.files, parallel=args.parallel)
        out.print(f"Uploading {len(plan.files)} file(s), {fmt_size(plan.total_bytes)}, "
                  f"to project {client.project_id}, {args.parallel} at a time.", markup=False)
        display = LiveDisplay(batch, out) if out.is_terminal else PlainDisplay(batch, out.file)
        try:
            with display:
                ok = await batch.run(client)
        except asyncio.CancelledError:
            print_summary(batch, out, interrupted=True)
            raise
        print_summary(batch, out, project=client.project_id)
        return 0 if ok else 1


def _show_plan(plan: UploadPlan, args: argparse.Namespace, out: Console, err: Console) -> bool:
    """Print warnings, refusals and (on a dry run) the plan; False when it is refused."""
    for path in plan.skipped:
        out.print(f"skipped hidden {path}", markup=False)
    for warning in plan.warnings:
        err.print(f"warning: {warning}", markup=False)
    if plan.refusals:
        err.print(f"Refused {len(plan.refusals)} file(s); nothing was sent:", markup=False)
        for refusal in plan.refusals:
            err.print(f"  {refusal.source}: {refusal.reason}.\n      -> {refusal.advice}",
                      markup=False)
        return False
    if not plan.files:
        err.print("Nothing to upload: no files found in "
                  + ", ".join(str(p) for p in args.paths), markup=False)
        return False
    if args.dry_run:
        out.print(f"Plan: {len(plan.files)} file(s), {fmt_size(plan.total_bytes)}",
                  markup=False)
        width = max(len(f.dest) for f in plan.files)
        for f in plan.files:
            out.print(f"  {f.dest:<{width}}  {f.role!s:<9} {fmt_size(f.size):>9}  <- {f.source}",
                      markup=False, soft_wrap=True)
    return True


# -- live display (terminal) --------------------------------------------------------------

def render_progress(batch: UploadBatch) -> RenderableType:
    """One line per running file plus a total line."""
    table = Table.grid(padding=(0, 1))
    for name, kw in (("file", {"overflow": "ellipsis", "no_wrap": True, "ratio": 1}),
                     ("bar", {"width": 20}), ("pct", {"justify": "right", "width": 4}),
                     ("bytes", {"justify": "right"}), ("rate", {"justify": "right"}),
                     ("eta", {"justify": "right"})):
        table.add_column(name, **kw)
    for item in batch.running:
        table.add_row(
            item.dest, ProgressBar(total=max(item.total, 1), completed=item.bytes_sent, width=20),
            fmt_percent(item.fraction), f"{fmt_size(item.bytes_sent)} / {fmt_size(item.total)}",
            fmt_rate(item.rate), _eta(item.eta_seconds),
        )
        if note := item.status_note():
            table.add_row(Text("  " + note, style="yellow"), "", "", "", "", "")
    done = batch.count(ItemState.DONE)
    others = [f"{batch.count(s)} {s}" for s in (ItemState.FAILED, ItemState.CANCELLED)
              if batch.count(s)]
    total = Text(f"Total {done}/{len(batch.items)} files"
                 + (f" ({', '.join(others)})" if others else ""), style="bold")
    table.add_row(
        total, ProgressBar(total=max(batch.bytes_planned, 1), completed=batch.bytes_sent,
                           width=20),
        fmt_percent(batch.fraction),
        f"{fmt_size(batch.bytes_sent)} / {fmt_size(batch.bytes_planned)}",
        fmt_rate(batch.rate), _eta(batch.eta_seconds),
    )
    return Group(table)


def _eta(seconds: float | None) -> str:
    return "—" if seconds is None else f"{fmt_duration(seconds)} left"


def took(seconds: float | None) -> str:
    """How long something took: ``under a second`` rather than ``a moment``."""
    if seconds is None:
        return "—"
    return "under a second" if seconds < 1 else fmt_duration(seconds)


def done_rate(item: UploadItem) -> str:
    """A delivered file's average rate; ``—`` when it was too quick to mean anything."""
    rate, elapsed = item.rate, item.elapsed
    if not rate or rate < 1 or elapsed is None or (elapsed < 1 and item.total < 1_000_000):
        return "—"
    return fmt_rate(rate)


def _finished_line(item: UploadItem) -> str:
    if item.state is ItemState.DONE:
        extra = f", {item.note}" if item.note else ""
        rate = done_rate(item)
        rate = "" if rate == "—" else f", {rate}"
        return f"done   {item.dest} ({fmt_size(item.total)} in {took(item.elapsed)}{rate}{extra})"
    if item.state is ItemState.CANCELLED:
        return f"cancelled {item.dest}"
    return f"FAILED {item.dest}: {item.reason}"


class _Display:
    """Follows a batch through its listener hook and reports each file's transitions."""

    def __init__(self, batch: UploadBatch) -> None:
        self.batch = batch
        self._states: dict[int, tuple[ItemState, int]] = {}
        self._remove = lambda: None

    def __enter__(self) -> _Display:
        self._remove = self.batch.add_listener(self.on_change)
        return self

    def __exit__(self, *exc: object) -> None:
        self._remove()
        self.on_change(self.batch)

    def transitions(self) -> list[str]:
        """Lines for files that started, retried, finished or failed since last call."""
        lines = []
        for item in self.batch.items:
            key = (item.state, item.retries)
            old = self._states.get(id(item))
            if old == key:
                continue
            self._states[id(item)] = key
            if item.state is ItemState.RUNNING:
                if old is None or old[0] is not ItemState.RUNNING:
                    lines.append(f"start  {item.dest} ({fmt_size(item.total)})")
                if item.retries and (old is None or old[1] != item.retries):
                    lines.append(f"retry  {item.dest}: {item.note}")
            elif item.state in (ItemState.DONE, ItemState.FAILED, ItemState.CANCELLED):
                lines.append(_finished_line(item))
        return lines

    def on_change(self, batch: UploadBatch) -> None:
        raise NotImplementedError


class LiveDisplay(_Display):
    """A live region (rich): active files and a total, redrawn on each change (≤ 10/s)."""

    def __init__(self, batch: UploadBatch, console: Console) -> None:
        super().__init__(batch)
        self.console = console
        self.live = Live(render_progress(batch), console=console, auto_refresh=False,
                         transient=True)

    def __enter__(self) -> LiveDisplay:
        self.live.__enter__()
        super().__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self.live.__exit__(None, None, None)

    def on_change(self, batch: UploadBatch) -> None:
        for line in self.transitions():
            if not line.startswith("start"):
                self.live.console.print(line, markup=False, highlight=False)
        self.live.update(render_progress(batch), refresh=True)


class PlainDisplay(_Display):
    """Plain lines for pipes and logs: transitions, and the total every few seconds."""

    def __init__(self, batch: UploadBatch, stream: TextIO) -> None:
        super().__init__(batch)
        self.stream = stream
        self._last_total = time.monotonic()

    def on_change(self, batch: UploadBatch) -> None:
        lines = self.transitions()
        now = time.monotonic()
        if now - self._last_total >= PLAIN_PROGRESS_EVERY and batch.running:
            self._last_total = now
            lines.append(f"total  {fmt_percent(batch.fraction)}, {fmt_size(batch.bytes_sent)} "
                         f"of {fmt_size(batch.bytes_planned)}, {fmt_rate(batch.rate)}, "
                         f"{_eta(batch.eta_seconds)}")
        for line in lines:
            print(line, file=self.stream, flush=True)


# -- summary ------------------------------------------------------------------------------

def print_summary(batch: UploadBatch, console: Console, interrupted: bool = False,
                  project: str = "") -> None:
    """The end-of-run table, each failure's reason on its own line, and a verdict."""
    table = Table(box=box.SIMPLE_HEAD)
    longest = max((len(i.dest) for i in batch.items), default=4)
    table.add_column("file", overflow="fold", min_width=min(longest, console.width // 2))
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("rate", justify="right", no_wrap=True)
    table.add_column("tries", justify="right", no_wrap=True)
    for item in batch.items:
        if item.state is ItemState.DONE:
            result = Text("delivered", style="green")
        elif item.state is ItemState.FAILED:
            result = Text("FAILED", style="red")
        else:
            result = Text(str(item.state), style="yellow")
        done = item.state is ItemState.DONE
        table.add_row(item.dest, fmt_size(item.total), result,
                      took(item.elapsed) if done else "—",
                      done_rate(item) if done else "—", str(item.attempts))
    console.print(table)
    for item in batch.items:
        if item.state is ItemState.FAILED:
            console.print(f"FAILED {item.dest}: {item.reason}", markup=False, soft_wrap=True,
                          style="red")
    delivered = [i for i in batch.items if i.state is ItemState.DONE]
    moved = sum(i.total for i in delivered)
    span = (batch.finished_at or time.monotonic()) - (batch.started_at or time.monotonic())
    rate = f" ({fmt_rate(batch.rate)})" if delivered and span >= 1 and batch.rate else ""
    verdict = (f"{len(delivered)} of {len(batch.items)} file(s) delivered, {fmt_size(moved)} "
               f"in {took(span)}{rate}.")
    where = f" for project {project}" if project else ""
    if isinstance(batch.stopped_by, PermissionDenied):
        verdict += (f" The token has no Upload permission{where}: run `odailies-tui login` "
                    "with a token that has Upload (or set ODAILIES_TOKEN to one), then run "
                    "this command again.")
    elif isinstance(batch.stopped_by, InvalidToken):
        verdict += (f" The token is not valid{where}: run `odailies-tui login` with a valid "
                    "token, then run this command again.")
    elif interrupted or batch.count(ItemState.CANCELLED):
        verdict += " Interrupted: run again with the files not delivered."
    elif len(delivered) < len(batch.items):
        verdict += (f" {len(batch.items) - len(delivered)} failed: run again with "
                    "the failed files to try again.")
    console.print(verdict, markup=False, soft_wrap=True)
