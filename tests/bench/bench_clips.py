"""Benchmark: the Clips view with 20,000 clips (prints figures, asserts nothing).

    python tests/bench/bench_clips.py [--clips 20000] [--runs 5]

Figures, against the simulator over loopback, headless at 120x40:

* load + first paint: app start with the Clips view in front -> the table's first frame with
  rows (GET + parse + merge + set_rows + paint);
* filter keystroke: the handler (ClipBook.set_filter + FastTable.set_rows) plus painting every
  table line, for a narrowing key and for a backspace that widens again;
* circle keystroke to repaint: the handler (EditQueue.edit: overlay, journal write with fsync,
  status line) plus painting the changed row;
* the same keys through Pilot, minus Pilot's own cost for an unbound key (an upper bound that
  includes Textual's whole message round trip and compositor).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from odailies_tui.api.redact import Secret  # noqa: E402
from odailies_tui.connection import Connection  # noqa: E402
from odailies_tui.core.session import Session  # noqa: E402
from odailies_tui.sim import Simulator  # noqa: E402
from odailies_tui.ui.app import ODailiesApp  # noqa: E402
from odailies_tui.ui.clips_view import ClipsView  # noqa: E402


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def paint_table(view: ClipsView) -> None:
    table = view.table
    for y in range(table.size.height):
        table.render_line(y)


@dataclass
class RemoteSim:
    """A simulator in its own process, as a real service would be (its JSON encoding then
    does not compete with the app for the interpreter)."""

    base_url: str
    project_id: str
    token: str
    process: subprocess.Popen

    @classmethod
    def start(cls, clips: int) -> RemoteSim:
        process = subprocess.Popen(
            [sys.executable, "-m", "odailies_tui", "sim", "--clips", str(clips), "--jobs", "12"],
            stdout=subprocess.PIPE, text=True, cwd=str(Path(__file__).resolve().parents[2]))
        assert process.stdout is not None
        base_url = token = ""
        for line in process.stdout:
            if "http://" in line:
                base_url = line.split()[-1]
            if "token (r/w/up)" in line:
                token = line.split()[-1]
            if base_url and token:
                break
        return cls(base_url, "demo", token, process)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


async def one_run(sim: Simulator | RemoteSim, size: tuple[int, int]) -> dict[str, float]:
    connection = Connection(sim.base_url, sim.project_id, Secret(sim.token), label="bench")
    session = Session(connection, interval=1000.0)
    app = ODailiesApp(session, start_view="clips")
    out: dict[str, float] = {}
    t0 = time.perf_counter()
    async with app.run_test(size=size) as pilot:
        view = None
        while view is None:
            found = list(app.main_screen.query(ClipsView))
            view = found[0] if found else None
            await asyncio.sleep(0.001)
        while not (view.book.loaded and view.table.row_count):
            await asyncio.sleep(0.001)
        await pilot.pause()  # the frame with rows
        out["load + first paint"] = time.perf_counter() - t0

        table = view.table
        # -- filter keystroke: handler + paint ----------------------------------------------
        view.action_filter()
        await pilot.pause()
        for label, text in (("filter 'A' (first key)", "a"), ("filter 'A0' (narrow)", "a0"),
                            ("filter 'A' (backspace)", "a"), ("filter '' (clear)", "")):
            t = time.perf_counter()
            view.apply_filter(text)
            paint_table(view)
            out[label] = time.perf_counter() - t
        await pilot.press("escape")
        await pilot.pause()

        # -- circle keystroke: handler + repaint of the row ---------------------------------
        times = []
        for _ in range(10):
            t = time.perf_counter()
            view.action_toggle_circled()
            table.render_line(table.cursor_row + 1 - int(table.scroll_offset.y))
            times.append(time.perf_counter() - t)
            table.action_cursor(1)
        out["circle key (median of 10)"] = statistics.median(times)
        out["circle key (max of 10)"] = max(times)

        # -- the minute's background reload: longest the event loop is kept busy -------------
        gaps: list[float] = []
        done = asyncio.Event()

        async def ticker() -> None:
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(0.002)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        tick = asyncio.create_task(ticker())
        t = time.perf_counter()
        view.reload()
        await app.workers.wait_for_complete()
        await pilot.pause()
        out["background reload (total)"] = time.perf_counter() - t
        done.set()
        await tick
        out["background reload (longest stall)"] = max(gaps)

        # -- through Pilot, minus Pilot's own cost ------------------------------------------
        async def timed(*keys: str) -> float:
            t = time.perf_counter()
            for key in keys:
                await pilot.press(key)
            return (time.perf_counter() - t) / len(keys)

        baseline = await timed(*["f12"] * 10)
        out["pilot: unbound key (baseline)"] = baseline
        out["pilot: circle key - baseline"] = await timed(*["c"] * 10) - baseline
        await pilot.press("slash")
        out["pilot: filter key - baseline"] = await timed("B", "0", "0", "1") - baseline
        await pilot.press("escape")
        await session.edits.flush()
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--in-process", action="store_true",
                        help="run the simulator inside the benchmark's process (slower: its "
                             "JSON encoding then competes with the app)")
    args = parser.parse_args()
    os.environ["ODAILIES_STATE_DIR"] = tempfile.mkdtemp(prefix="bench-clips-")
    t = time.perf_counter()
    sim: Simulator | RemoteSim = (
        Simulator(clips=args.clips, realtime=False, jobs=12).start(port=0) if args.in_process
        else RemoteSim.start(args.clips))
    where = "in this process" if args.in_process else "in its own process"
    print(f"simulator ({where}) with {args.clips:,} clips ready in "
          f"{ms(time.perf_counter() - t)}")
    results: dict[str, list[float]] = {}
    try:
        for _ in range(args.runs):
            for key, value in (await one_run(sim, (120, 40))).items():
                results.setdefault(key, []).append(value)
    finally:
        sim.stop()
    print(f"{'figure':34} {'best':>10} {'median':>10}   ({args.runs} runs, 120x40 headless)")
    for key, values in results.items():
        print(f"{key:34} {ms(min(values)):>10} {ms(statistics.median(values)):>10}")


if __name__ == "__main__":
    asyncio.run(main())
