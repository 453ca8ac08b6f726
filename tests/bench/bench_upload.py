"""Upload throughput against ``curl -T`` to the same loopback sink, and peak memory.

Run: ``python tests/bench/bench_upload.py [--size-mb 1024] [--repeat 3]``. Prints figures,
asserts nothing. The simulator (API and sink) runs in this process; both uploaders run in
their own process, so each competes with the sink for CPU in the same way. The file is sparse
(no disk writes; reads come from the page cache for both).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from odailies_tui.api.client import ODailiesClient
from odailies_tui.sim import Simulator

PROBE = """
import asyncio, json, resource, sys, time
from odailies_tui.api.client import ODailiesClient
from odailies_tui.core.upload_plan import make_plan
from odailies_tui.core.upload_run import UploadBatch

async def main(base_url, project, token, path, parallel):
    plan = make_plan([path], clip_names=[])
    async with ODailiesClient(base_url, project, token) as client:
        await client.list_clips()  # warm the HTTP stack up before the baseline
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        ok = await UploadBatch(plan.files, parallel=int(parallel)).run(client)
        seconds = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
    print(json.dumps({"ok": ok, "seconds": seconds, "cpu": cpu,
                      "before": r0.ru_maxrss * 1024, "peak": r1.ru_maxrss * 1024}))

asyncio.run(main(*sys.argv[1:]))
"""


def ours(sim: Simulator, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, sim.base_url, sim.project_id, sim.token, str(path), "1"],
        capture_output=True, text=True, check=True,
    ).stdout
    return json.loads(out)


def curl(sim: Simulator, path: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one ``curl -T`` of ``path``."""
    async def url() -> str:
        async with ODailiesClient(sim.base_url, sim.project_id, sim.token) as client:
            return (await client.upload_url(path.name)).url

    signed = asyncio.run(url())
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(
        ["curl", "-sS", "--fail", "-T", str(path), "-H", "Content-Type: application/octet-stream",
         "-H", "Expect:", "-o", "/dev/null", signed],
        check=True,
    )
    seconds = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not shutil.which("curl"):
        sys.exit("curl is not installed")
    size = args.size_mb * 1024 * 1024
    with tempfile.TemporaryDirectory() as tmp, Simulator(realtime=True) as sim:
        path = Path(tmp, "bench.ale")
        with open(path, "wb") as f:
            f.truncate(size)
        curl(sim, path)  # warm-up (page cache, sink threads)
        curl_s, ours_s, curl_cpu, ours_cpu, peaks = [], [], [], [], []
        for _ in range(args.repeat):  # interleaved, so that load from elsewhere hits both
            wall, cpu = curl(sim, path)
            curl_s.append(wall)
            curl_cpu.append(cpu)
            result = ours(sim, path)
            assert result["ok"], result
            ours_s.append(result["seconds"])
            ours_cpu.append(result["cpu"])
            peaks.append(result["peak"] - result["before"])
            base = result["before"]
        assert sim.uploads["bench.ale"].size == size
    mb = size / 1e6
    c, o = statistics.median(curl_s), statistics.median(ours_s)
    print(f"file: {size / 1e9:.2f} GB (sparse), loopback sink, {args.repeat} runs, medians")
    for label, med, runs in (("curl -T     ", c, curl_s), ("odailies-tui", o, ours_s)):
        listed = ", ".join(f"{s:.2f}" for s in runs)
        print(f"{label} : {mb / med:8.1f} MB/s  ({med:.2f} s; runs {listed})")
    print(f"ratio ours/curl throughput: {c / o:.2f}  (bar: >= 0.90)")
    print(f"client CPU per GB: curl {statistics.median(curl_cpu) / (size / 1e9):.2f} s, "
          f"odailies-tui {statistics.median(ours_cpu) / (size / 1e9):.2f} s")
    print(f"peak RSS growth during the upload: {max(peaks) / 1e6:.1f} MB "
          f"(baseline RSS {base / 1e6:.1f} MB; file {mb:.0f} MB)")


if __name__ == "__main__":
    main()
