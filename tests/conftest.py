"""Shared fixtures. Others add theirs below; keep each fixture small and documented."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from odailies_tui.sim import Simulator


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """A started simulator on a free loopback port whose time moves only by ``advance()``.

    Its clock starts at 2026-04-22T10:00:00Z; demo data is the default (48 clips, 12 jobs).
    """
    simulator = Simulator(realtime=False).start(port=0)
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture
def demo_sim() -> Iterator[Simulator]:
    """A started simulator that follows the wall clock, as ``odailies-tui --demo`` runs it."""
    simulator = Simulator(realtime=True).start(port=0)
    try:
        yield simulator
    finally:
        simulator.stop()


# -- credentials / settings / no-leak fixtures (added by the credentials helper) ------------

import logging as _logging  # noqa: E402
import threading as _threading  # noqa: E402

import keyring as _keyring  # noqa: E402
import keyring.backend as _keyring_backend  # noqa: E402


class MemoryKeyring(_keyring_backend.KeyringBackend):
    """An in-memory keyring backend: ``passwords[(service, user)] = secret``."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if self.passwords.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


class BlockingKeyring(_keyring_backend.KeyringBackend):
    """A backend whose every call blocks (up to 60 s) until ``release`` is set."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.release = _threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(60)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait(60)

    def delete_password(self, service: str, username: str) -> None:
        self.release.wait(60)


@pytest.fixture
def odailies_env(tmp_path, monkeypatch):
    """Settings and state under ``tmp_path``; no ODAILIES_* / PYTHON_KEYRING_BACKEND from outside.

    Yields the settings file path.
    """
    for name in ("ODAILIES_TOKEN", "ODAILIES_PROJECT", "ODAILIES_BASE_URL",
                 "PYTHON_KEYRING_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "config" / "settings.json"
    monkeypatch.setenv("ODAILIES_CONFIG", str(path))
    monkeypatch.setenv("ODAILIES_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # keyrings.alt's files
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))  # keyringrc.cfg
    yield path


@pytest.fixture
def use_keyring():
    """``use_keyring(backend)`` makes ``backend`` the keyring; the previous one is restored."""
    previous = _keyring.get_keyring()
    yield _keyring.set_keyring
    _keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring(use_keyring) -> MemoryKeyring:
    """An empty in-memory keyring, installed for the test (never the real OS keyring)."""
    backend = MemoryKeyring()
    use_keyring(backend)
    return backend


@pytest.fixture
def blocking_keyring(use_keyring):
    """A keyring that hangs; keyring calls get a 0.3 s limit; threads are released after."""
    from odailies_tui import credentials

    backend = BlockingKeyring()
    use_keyring(backend)
    before = credentials.get_timeout()
    credentials.set_timeout(0.3)
    yield backend
    credentials.set_timeout(before)
    backend.release.set()


def leaked_forms(token: str, *texts: str) -> list[str]:
    """The forms of ``token`` (raw or percent-encoded) found in any of ``texts``."""
    from urllib.parse import quote

    forms = {token, quote(token, safe=""), quote(quote(token, safe=""), safe="")}
    return sorted(f for f in forms for t in texts if f in t)


@pytest.fixture
def debug_logs():
    """Capture every log record (root, httpx, httpcore included) at DEBUG, token-safe setup.

    Installs ``odailies_tui.crashsafe`` like the app does. Yields a StringIO holding the text.
    """
    import io

    from odailies_tui import crashsafe

    crashsafe.install()
    buffer = io.StringIO()
    handler = _logging.StreamHandler(buffer)
    handler.setFormatter(_logging.Formatter("%(name)s %(levelname)s %(message)s"))
    names = ["", "httpx", "httpcore", "odailies_tui"]
    saved = {n: _logging.getLogger(n).level for n in names}
    root = _logging.getLogger()
    root.addHandler(handler)
    for n in names:
        _logging.getLogger(n).setLevel(_logging.DEBUG)
    yield buffer
    root.removeHandler(handler)
    for n, level in saved.items():
        _logging.getLogger(n).setLevel(level)


@pytest.fixture
def state_dir(tmp_path, monkeypatch) -> Path:
    """``ODAILIES_STATE_DIR`` pointed at a fresh temporary directory (edit journals live there)."""
    path = tmp_path / "state"
    monkeypatch.setenv("ODAILIES_STATE_DIR", str(path))
    return path
