"""Regenerate the README's screenshots: drive the app on the simulator and save SVGs.

Run from the repo root:  python screenshots/make_screenshots.py
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from odailies_tui.api.redact import Secret
from odailies_tui.connection import Connection
from odailies_tui.core.session import Session
from odailies_tui.sim import Simulator
from odailies_tui.ui.app import ODailiesApp

HERE = Path(__file__).resolve().parent


async def shoot(size: tuple[int, int], name: str, keys: tuple[str, ...] = (),
                start_view: str | None = None) -> None:
    with Simulator(realtime=False, seed=7) as sim:
        sim.advance(30)
        connection = Connection(sim.base_url, sim.project_id, Secret(sim.token), label="demo")
        app = ODailiesApp(Session(connection, demo=True), demo=True, start_view=start_view)
        async with app.run_test(size=size) as pilot:
            await pilot.pause(0.5)
            sim.advance(4)
            await pilot.press("r")
            await pilot.pause(0.5)
            for key in keys:
                await pilot.press(key)
                await pilot.pause(0.3)
            app.save_screenshot(filename=name, path=str(HERE))
            print("wrote", HERE / name)


async def main() -> None:
    # the clip edit journal of these runs goes to a throw-away folder, not the user's
    os.environ["ODAILIES_STATE_DIR"] = tempfile.mkdtemp(prefix="odailies-shots-")
    await shoot((120, 34), "jobs.svg")
    await shoot((80, 24), "jobs-80x24.svg")
    await shoot((120, 34), "clips.svg", ("tab", "down", "down", "c", "4"))
    await shoot((120, 34), "wall.svg", start_view="wall")


if __name__ == "__main__":
    asyncio.run(main())
