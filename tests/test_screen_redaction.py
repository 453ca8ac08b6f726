"""A wrong token shows as 'invalid token' on screen, and the token itself never shows."""

from __future__ import annotations

import logging

from odailies_tui.api.redact import Secret
from odailies_tui.connection import Connection
from odailies_tui.core.session import Session
from odailies_tui.sim import Simulator
from odailies_tui.ui.app import ODailiesApp
from tests.screen_text import screen_text


async def test_wrong_token_is_reported_not_shown(sim: Simulator, caplog) -> None:
    token = "wrong-token-4f9a1c"
    caplog.set_level(logging.DEBUG)
    connection = Connection(sim.base_url, sim.project_id, Secret(token))
    app = ODailiesApp(Session(connection))
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = screen_text(app)
    assert "TOKEN REJECTED" in screen and "invalid token" in screen
    assert "odailies-tui login" in screen
    assert token not in screen and token not in caplog.text
    assert "4f9a1c" not in screen
