"""``odailies-tui status`` and ``watch`` against the simulator over loopback."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator

import pytest

from odailies_tui.api.client import ODailiesClient
from odailies_tui.cli import main
from odailies_tui.commands.status import watch_jobs
from odailies_tui.core.jobboard import JobBoard
from odailies_tui.sim import Simulator


@pytest.fixture
def known_sim() -> Iterator[Simulator]:
    """A simulator with exactly these jobs, and time that moves only by ``advance()``."""
    sim = Simulator(realtime=False, jobs=0, autospawn=False).start(port=0)
    sim.add_job(name="A001", state="running", progress=0.5, bytesPerSecond=300_000_000,
                remainingSeconds=720, remaining="12 min")
    sim.add_job(name="A002", state="running", progress=0.2, bytesPerSecond=312_000_000,
                remainingSeconds=300, remaining="5 min")
    sim.add_job(name="B001", state="failed", progress=0.4)
    sim.add_job(name="B002", state="failed", progress=0.7, readFlag=1)  # acknowledged
    sim.add_job(name="C001", state="succeeded", progress=1.0)
    try:
        yield sim
    finally:
        sim.stop()


def args_for(sim: Simulator) -> list[str]:
    return ["--project", sim.project_id, "--base-url", sim.base_url]


def test_status_prints_the_expected_line(known_sim: Simulator, odailies_env, monkeypatch,
                                         capsys) -> None:
    monkeypatch.setenv("ODAILIES_TOKEN", known_sim.readonly_token)
    assert main(["status", *args_for(known_sim)]) == 0
    out = capsys.readouterr().out
    assert out == "2 running · 612.0 MB/s · 12 minutes left · 1 failed\n"
    assert known_sim.readonly_token not in out


def test_status_json_prints_one_job_per_line(known_sim: Simulator, odailies_env, monkeypatch,
                                             capsys) -> None:
    monkeypatch.setenv("ODAILIES_TOKEN", known_sim.token)
    assert main([*args_for(known_sim), "status", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    jobs = [json.loads(line) for line in lines]
    assert [j["name"] for j in jobs] == ["C001", "B002", "B001", "A002", "A001"]
    assert jobs[-1]["bytesPerSecond"] == 300_000_000 and jobs[1]["readFlag"] == 1
    assert all(j["creationDate"].endswith("Z") for j in jobs)


def test_status_offline_exits_1_without_the_token(odailies_env, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ODAILIES_TOKEN", "secret-token-xyz")
    code = main(["status", "--project", "p", "--base-url", "http://127.0.0.1:9/api/v2"])
    out = capsys.readouterr().out
    assert code == 1 and out.startswith("offline:") and "secret-token-xyz" not in out


def test_status_with_a_rejected_token_says_so(sim: Simulator, odailies_env, monkeypatch,
                                              capsys) -> None:
    monkeypatch.setenv("ODAILIES_TOKEN", "wrong-token-abc")
    code = main(["status", "--project", sim.project_id, "--base-url", sim.base_url])
    out = capsys.readouterr().out
    assert code == 1 and out.startswith("token rejected:") and "odailies-tui login" in out
    assert "wrong-token-abc" not in out


async def test_watch_exit_on_failed(known_sim: Simulator) -> None:
    out, err = io.StringIO(), io.StringIO()
    async with ODailiesClient(known_sim.base_url, known_sim.project_id,
                              known_sim.token) as client:
        board = JobBoard(client)
        task = asyncio.create_task(watch_jobs(client, exit_on="failed", every=0.02, out=out,
                                              err=err, board=board))
        while board.polls < 2:
            await asyncio.sleep(0.01)
        assert not task.done()  # failures already there at start do not count
        running = next(i for i, j in known_sim.jobs.items() if j["name"] == "A002")
        known_sim.set_job(running, state="failed")
        assert await asyncio.wait_for(task, 5) == 1
    assert "failed" in out.getvalue() and "A002" in out.getvalue()


async def test_watch_exit_on_idle(known_sim: Simulator) -> None:
    out, err = io.StringIO(), io.StringIO()
    for job_id, job in list(known_sim.jobs.items()):
        if job["state"] == "running":
            known_sim.set_job(job_id, state="succeeded", progress=1.0)
    async with ODailiesClient(known_sim.base_url, known_sim.project_id,
                              known_sim.token) as client:
        assert await asyncio.wait_for(
            watch_jobs(client, exit_on="idle", every=0.02, out=out, err=err), 5) == 0
