"""The ``sim`` subcommand: run the simulator in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading

from .faults import Faults
from .server import Simulator


def _faults(spec: str) -> Faults:
    try:
        return Faults.parse(spec)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``sim`` on the CLI's subparsers."""
    p = subparsers.add_parser(
        "sim",
        help="run a local o/DAILIES simulator (loopback only)",
        description="Serve a simulated o/DAILIES v2 API on 127.0.0.1 with demo data, "
                    "until Ctrl-C. Point the app at the printed base URL and token.",
    )
    p.add_argument("--port", type=int, default=0, help="API port (default: a free port)")
    p.add_argument("--project", dest="sim_project", default="demo", metavar="ID",
                   help="project id (default: demo)")
    p.add_argument("--clips", type=int, default=48, help="number of clips (default: 48)")
    p.add_argument("--jobs", type=int, default=12, help="number of jobs at start (default: 12)")
    p.add_argument("--seed", type=int, default=1, help="seed of the demo data (default: 1)")
    p.add_argument("--fault", type=_faults, default=None, metavar="SPEC",
                   help="faults, e.g. latency=0.5,error_rate=0.1,drop_rate=0.2,clock_skew=-600")
    p.add_argument("--url-lifetime", type=float, default=900.0, metavar="S",
                   help="lifetime of signed upload URLs in seconds (default: 900)")
    p.add_argument("--sink-speed", type=float, default=None, metavar="BYTES_PER_S",
                   help="throttle the upload sink to this many bytes per second")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Start the simulator, print how to reach it, serve until Ctrl-C; returns 0."""
    sim = Simulator(
        project_id=getattr(args, "sim_project", "demo"),
        clips=args.clips,
        jobs=args.jobs,
        seed=getattr(args, "seed", 1),
        url_lifetime=args.url_lifetime,
        sink_bytes_per_second=args.sink_speed,
        realtime=True,
        faults=args.fault,
    )
    try:
        sim.start(port=args.port)
    except OSError as exc:
        print(f"odailies-tui sim: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}")
        return 1
    # These are simulator tokens, valid only against this local process.
    print(f"o/DAILIES simulator on {sim.base_url}")
    print(f"  project id      {sim.project_id}")
    print(f"  token (r/w/up)  {sim.token}")
    print(f"  token (read)    {sim.readonly_token}")
    print(f"  upload sink     127.0.0.1:{sim.sink_port}")
    if args.fault is not None:
        print(f"  faults          {args.fault}")
    print("Ctrl-C to stop.", flush=True)
    done = threading.Event()
    main = threading.current_thread() is threading.main_thread()
    previous = {}
    if main:  # Ctrl-C or SIGTERM end the loop (even where SIGINT was inherited as ignored)
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("simulator stopped")
    return 0
