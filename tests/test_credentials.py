"""Tokens in the keyring: store/read/delete, env override, unavailable backends, time limits."""

from __future__ import annotations

import asyncio
import time

import keyring.backends.fail
import keyring.backends.null
import keyrings.alt.file
import pytest
from keyring.errors import KeyringLocked

from odailies_tui import credentials
from odailies_tui.api.redact import Secret
from odailies_tui.credentials import KeyringUnavailable
from tests.conftest import MemoryKeyring


class LockedKeyring(MemoryKeyring):
    """Holds a token but refuses to give it: a locked keychain."""

    def get_password(self, service, username):
        raise KeyringLocked("Failed to unlock the collection!")

    set_password = delete_password = get_password  # type: ignore[assignment]


class DBusBrokenKeyring(MemoryKeyring):
    def get_password(self, service, username):
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown: name not provided")


def test_store_read_delete_roundtrip(odailies_env, memory_keyring):
    assert credentials.get_token("P1") is None
    credentials.set_token("P1", "tok-one-1234")
    credentials.set_token("P2", Secret("tok-two-5678"))
    assert memory_keyring.passwords[("odailies-tui", "P1")] == "tok-one-1234"
    token = credentials.get_token("P1")
    assert isinstance(token, Secret) and token.reveal() == "tok-one-1234"
    assert repr(token) == "***"
    assert credentials.delete_token("P1") is True
    assert credentials.delete_token("P1") is False
    assert credentials.get_token("P1") is None
    assert credentials.get_token("P2").reveal() == "tok-two-5678"


def test_blank_token_is_refused(odailies_env, memory_keyring):
    with pytest.raises(ValueError):
        credentials.set_token("P1", "   ")
    assert memory_keyring.passwords == {}


def test_env_token_wins_over_keyring(odailies_env, memory_keyring, monkeypatch):
    credentials.set_token("P1", "tok-keyring-1234")
    assert credentials.resolve_token("P1")[0].reveal() == "tok-keyring-1234"
    assert credentials.resolve_token("P1")[1] == "keyring"
    monkeypatch.setenv("ODAILIES_TOKEN", " tok-env-9876 \n")
    token, source = credentials.resolve_token("P1")
    assert (token.reveal(), source) == ("tok-env-9876", "env")
    assert credentials.resolve_token("other") == (token, "env")


def test_env_token_needs_no_keyring(odailies_env, use_keyring, monkeypatch):
    use_keyring(keyring.backends.fail.Keyring())
    monkeypatch.setenv("ODAILIES_TOKEN", "tok-env-9876")
    assert credentials.resolve_token("P1")[1] == "env"


@pytest.mark.parametrize("call", [
    lambda: credentials.get_token("P1"),
    lambda: credentials.set_token("P1", "tok-abcdef"),
    lambda: credentials.delete_token("P1"),
    lambda: credentials.resolve_token("P1"),
])
def test_fail_backend_is_unavailable_not_absent(odailies_env, use_keyring, call):
    use_keyring(keyring.backends.fail.Keyring())
    with pytest.raises(KeyringUnavailable) as info:
        call()
    assert info.value.reason == "no keyring backend found"
    assert str(info.value) == "keyring unavailable (no keyring backend found)"


def test_locked_is_not_absent(odailies_env, use_keyring):
    use_keyring(LockedKeyring())
    with pytest.raises(KeyringUnavailable, match="locked"):
        credentials.get_token("P1")
    with pytest.raises(KeyringUnavailable, match="locked"):
        credentials.set_token("P1", "tok-abcdef")


def test_dbus_error_is_named(odailies_env, use_keyring):
    use_keyring(DBusBrokenKeyring())
    with pytest.raises(KeyringUnavailable) as info:
        credentials.get_token("P1")
    assert info.value.reason.startswith("Secret Service / DBus error")
    assert "ServiceUnknown" in info.value.reason


def test_blocking_backend_times_out_within_the_limit(odailies_env, blocking_keyring):
    start = time.monotonic()
    with pytest.raises(KeyringUnavailable) as info:
        credentials.get_token("P1")
    elapsed = time.monotonic() - start
    assert info.value.reason == "timed out after 0.3 s"
    assert "keyring unavailable (timed out" in str(info.value)
    assert 0.25 <= elapsed < 1.5


async def test_async_timeout_keeps_the_event_loop_running(odailies_env, blocking_keyring):
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    start = time.monotonic()
    with pytest.raises(KeyringUnavailable, match="timed out"):
        await credentials.aget_token("P1")
    elapsed = time.monotonic() - start
    task.cancel()
    assert elapsed < 1.5
    assert ticks >= 10  # the loop kept running while the keyring hung


async def test_async_api_roundtrip(odailies_env, memory_keyring, monkeypatch):
    await credentials.aset_token("P1", "tok-async-1234")
    assert (await credentials.aget_token("P1")).reveal() == "tok-async-1234"
    assert (await credentials.aresolve_token("P1"))[1] == "keyring"
    monkeypatch.setenv("ODAILIES_TOKEN", "tok-env-9876")
    assert (await credentials.aresolve_token("P1"))[1] == "env"
    assert await credentials.adelete_token("P1") is True
    monkeypatch.delenv("ODAILIES_TOKEN")
    assert await credentials.aresolve_token("P1") == (None, "")


async def test_async_fail_backend(odailies_env, use_keyring):
    use_keyring(keyring.backends.fail.Keyring())
    with pytest.raises(KeyringUnavailable, match="no keyring backend"):
        await credentials.aget_token("P1")


def test_plain_file_backend_only_when_chosen(odailies_env, use_keyring, monkeypatch, tmp_path):
    """keyrings.alt merely installed must not become a silent plain-file fallback."""
    use_keyring(keyrings.alt.file.PlaintextKeyring())
    with pytest.raises(KeyringUnavailable, match="plain-file backend"):
        credentials.set_token("P1", "tok-plain-1234")
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").rglob("*.cfg"))

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    credentials.set_token("P1", "tok-plain-1234")
    assert credentials.get_token("P1").reveal() == "tok-plain-1234"
    assert any((tmp_path / "data").rglob("keyring_pass.cfg"))


def test_backend_that_keeps_nothing_is_unavailable(odailies_env, use_keyring):
    use_keyring(keyring.backends.null.Keyring())
    with pytest.raises(KeyringUnavailable, match="does not give it back"):
        credentials.set_token("P1", "tok-null-1234")


def test_unavailable_message_names_cause_and_ways_out():
    text = credentials.unavailable_message(KeyringUnavailable("timed out after 3 s"), "P1")
    assert text.startswith("cannot use the OS keyring for project P1: timed out after 3 s.")
    for way_out in ("ODAILIES_TOKEN", "gnome-keyring-daemon --unlock",
                    "PYTHON_KEYRING_BACKEND", "keyring package you trust"):
        assert way_out in text
    assert "\n\n" not in text  # one paragraph
