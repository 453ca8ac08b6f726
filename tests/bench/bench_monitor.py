"""Benchmarks of the Jobs monitor (print figures, assert nothing). Bars are in DESIGN.md.

    python tests/bench/bench_monitor.py               # everything (about 3 minutes)
    python tests/bench/bench_monitor.py startup bytes # some of: startup cpu memory bytes
    python tests/bench/bench_monitor.py cpu --seconds 20

* startup: launch ``odailies-tui --demo`` in a pseudo-terminal; seconds until the first job
  data is on screen (the status line's "N running").
* cpu: the real app in a pseudo-terminal (120x40) watching a simulator (its own process) with
  200 running jobs at the default 2 s interval; CPU of the app process over the window,
  as percent of one core.
* memory: the app (headless) polling a simulator (its own process, jobs progressing, new ones
  appearing) as fast as it can; RSS after 100 and after 10,000 polls.
* bytes: answer bodies of a full GET vs a ``since`` poll with 5,000 jobs of which 5 change.
* soak (not in the default set): the app polling every 0.5 s for ``--minutes`` against a
  simulator with latency, 500s, dropped connections and a full outage every minute; then the
  faults stop and the table must match the simulator.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import threading
import time

import psutil

SIM_SCRIPT = textwrap.dedent("""
    import sys, time
    from odailies_tui.sim import Simulator
    jobs, running = int(sys.argv[1]), int(sys.argv[2])
    sim = Simulator(realtime=True, jobs=jobs, running=running, clips=0).start(port=0)
    print(sim.base_url, sim.project_id, sim.token, flush=True)
    while True:
        time.sleep(3600)
""")


class SimProcess:
    """A simulator in its own process, so its CPU and memory are not the app's."""

    def __init__(self, jobs: int, running: int) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", SIM_SCRIPT, str(jobs), str(running)],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()  # type: ignore[union-attr]
        self.base_url, self.project_id, self.token = line

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)


def isolated_env(tmp: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(ODAILIES_CONFIG=os.path.join(tmp, "settings.json"),
               ODAILIES_STATE_DIR=os.path.join(tmp, "state"), TERM="xterm-256color",
               COLORTERM="truecolor")
    env.pop("ODAILIES_TOKEN", None)
    return env


def spawn_in_pty(argv: list[str], env: dict[str, str], cols: int = 120, rows: int = 40,
                 ) -> tuple[subprocess.Popen, int]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True)
    os.close(slave)
    return proc, master


def drain(master: int, stop: threading.Event, sink: bytearray | None = None) -> None:
    while not stop.is_set():
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if sink is not None:
                sink.extend(data)


def quit_app(proc: subprocess.Popen) -> None:
    proc.terminate()  # the app exits through Textual on SIGTERM
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()


# -- startup ----------------------------------------------------------------------------------

def bench_startup(runs: int = 3) -> None:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            proc, master = spawn_in_pty([sys.executable, "-m", "odailies_tui", "--demo"],
                                        isolated_env(tmp))
            seen = bytearray()
            elapsed = None
            deadline = t0 + 15
            while time.perf_counter() < deadline:
                ready, _, _ = select.select([master], [], [], 0.05)
                if ready:
                    try:
                        seen.extend(os.read(master, 65536))
                    except OSError:
                        break
                    if b" running" in seen:
                        elapsed = time.perf_counter() - t0
                        break
            stop = threading.Event()
            threading.Thread(target=drain, args=(master, stop), daemon=True).start()
            quit_app(proc)
            stop.set()
            os.close(master)
            times.append(elapsed)
    shown = ", ".join("timeout" if t is None else f"{t:.2f}" for t in times)
    good = sorted(t for t in times if t is not None)
    median = f"{good[len(good) // 2]:.2f} s" if good else "n/a"
    print(f"startup: launch to first job data on screen: median {median} ({shown})  "
          f"[bar: <= 1.0 s]")


# -- idle CPU ---------------------------------------------------------------------------------

def bench_cpu(seconds: float = 60.0, running: int = 200) -> None:
    sim = SimProcess(jobs=running + 30, running=running)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = isolated_env(tmp)
            env["ODAILIES_TOKEN"] = sim.token
            proc, master = spawn_in_pty(
                [sys.executable, "-m", "odailies_tui", "--project", sim.project_id,
                 "--base-url", sim.base_url], env)
            stop = threading.Event()
            threading.Thread(target=drain, args=(master, stop), daemon=True).start()
            ps = psutil.Process(proc.pid)
            time.sleep(5)  # start-up and the first full GET are not "idle"
            c0 = ps.cpu_times()
            t0 = time.perf_counter()
            time.sleep(seconds)
            c1 = ps.cpu_times()
            wall = time.perf_counter() - t0
            rss = ps.memory_info().rss
            quit_app(proc)
            stop.set()
            os.close(master)
        used = (c1.user - c0.user) + (c1.system - c0.system)
        print(f"cpu: {running} running jobs, 2 s interval, 120x40 pty, {wall:.0f} s: "
              f"{100 * used / wall:.2f} % of one core (RSS {rss / 1e6:.1f} MB)  [bar: <= 2 %]")
    finally:
        sim.stop()


# -- memory over polls -------------------------------------------------------------------------

async def _memory(polls: int) -> None:
    from odailies_tui.api.redact import Secret
    from odailies_tui.connection import Connection
    from odailies_tui.core.session import Session
    from odailies_tui.ui.app import ODailiesApp

    sim = SimProcess(jobs=60, running=20)
    try:
        session = Session(Connection(sim.base_url, sim.project_id, Secret(sim.token)),
                          interval=10_000.0)
        app = ODailiesApp(session)
        me = psutil.Process()
        marks: dict[int, float] = {}
        async with app.run_test(size=(120, 40)) as pilot:
            t0 = time.perf_counter()
            for n in range(1, polls + 1):
                await app.poll_jobs().wait()
                if n % 20 == 0:
                    await pilot.pause()
                if n in (100, 1000, polls):
                    await pilot.pause()
                    marks[n] = me.memory_info().rss / 1e6
            elapsed = time.perf_counter() - t0
            board = session.board
        first, last = marks[100], marks[polls]
        print(f"memory: RSS after 100 polls {first:.1f} MB, after 1,000 {marks[1000]:.1f} MB, "
              f"after {polls:,} {last:.1f} MB: +{last - first:.1f} MB  [bar: <= +10 MB]  "
              f"({elapsed / polls * 1000:.1f} ms per poll, {len(board.jobs)} jobs held)")
    finally:
        sim.stop()


def bench_memory(polls: int = 10_000) -> None:
    asyncio.run(_memory(polls))


# -- bytes per poll -----------------------------------------------------------------------------

async def _bytes() -> None:
    from odailies_tui.api.client import ODailiesClient
    from odailies_tui.core.jobboard import JobBoard
    from odailies_tui.sim import Simulator

    sim = Simulator(realtime=False, jobs=5000, running=5, clips=0, autospawn=False).start(port=0)
    try:
        async with ODailiesClient(sim.base_url, sim.project_id, sim.token) as client:
            board = JobBoard(client)
            full = await board.poll()
            sim.advance(10.0)  # past the cursor's overlap with the start-up data
            await board.poll()
            sim.advance(2.0)
            since = await board.poll()
        print(f"bytes: 5,000 jobs, full GET {full.nbytes:,} B; since poll "
              f"{since.nbytes:,} B for {len(since.changed)} changed jobs "
              f"({full.nbytes / max(since.nbytes, 1):.0f}x smaller)  "
              f"[bar: proportional to changed jobs]")
    finally:
        sim.stop()


def bench_bytes() -> None:
    asyncio.run(_bytes())


# -- soak with faults ----------------------------------------------------------------------------

async def _soak(minutes: float) -> None:
    from odailies_tui.api.redact import Secret
    from odailies_tui.connection import Connection
    from odailies_tui.core.session import Session
    from odailies_tui.sim import Faults, Simulator
    from odailies_tui.ui.app import ODailiesApp

    faults = Faults(latency=0.05, error_rate=0.1, drop_rate=0.1, seed=7)
    sim = Simulator(realtime=False, jobs=40, running=10, clips=0, faults=faults).start(port=0)
    session = Session(Connection(sim.base_url, sim.project_id, Secret(sim.token)),
                      interval=0.5)
    app = ODailiesApp(session)
    me = psutil.Process()
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            end = time.perf_counter() + minutes * 60
            rss0 = None
            outages = 0
            while time.perf_counter() < end:
                sim.advance(1.0)  # the simulated day runs faster than the wall clock
                if int(time.perf_counter()) % 60 == 0:  # a full outage now and then
                    faults.drop_rate, outages = 1.0, outages + 1
                    await asyncio.sleep(5)
                    faults.drop_rate = 0.1
                await asyncio.sleep(0.5)
                if rss0 is None and session.board.polls >= 50:
                    rss0 = me.memory_info().rss / 1e6
            faults.drop_rate = faults.error_rate = faults.latency = 0.0
            session.board.request_full()
            await app.poll_jobs().wait()
            await pilot.pause()
            board = session.board
            with sim.lock:
                served = {i: (j["state"], j["progress"]) for i, j in sim.jobs.items()}
            mine = {i: (t.job.state, t.job.progress) for i, t in board.jobs.items()}
            rss1 = me.memory_info().rss / 1e6
            responsive = app.is_running and not board.offline
        print(f"soak: {minutes:g} min with latency/500s/drops + {outages} full outages: "
              f"{board.polls} good polls, {board.pool_resets} pool rebuilds, "
              f"RSS {rss0 or 0:.1f} -> {rss1:.1f} MB, responsive {responsive}, "
              f"table matches simulator: {mine == served} ({len(mine)} jobs)")
    finally:
        sim.stop()


def bench_soak(minutes: float) -> None:
    asyncio.run(_soak(minutes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", nargs="*", default=["startup", "bytes", "memory", "cpu"],
                        choices=["startup", "bytes", "memory", "cpu", "soak"])
    parser.add_argument("--seconds", type=float, default=60.0, help="cpu window (default 60)")
    parser.add_argument("--minutes", type=float, default=5.0, help="soak length (default 5)")
    parser.add_argument("--running", type=int, default=200, help="cpu: running jobs (200)")
    parser.add_argument("--polls", type=int, default=10_000, help="memory polls (default 10000)")
    args = parser.parse_args()
    for name in args.which:
        if name == "startup":
            bench_startup()
        elif name == "bytes":
            bench_bytes()
        elif name == "memory":
            bench_memory(args.polls)
        elif name == "soak":
            bench_soak(args.minutes)
        elif name == "cpu":
            bench_cpu(args.seconds, args.running)


if __name__ == "__main__":
    main()
