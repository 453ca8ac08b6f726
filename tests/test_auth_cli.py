"""``login`` / ``logout`` / ``projects`` through ``cli.main``, and connection resolution."""

from __future__ import annotations

import argparse
import io
import json
import time

import keyring.backends.fail
import pytest
from keyring.errors import KeyringLocked

from odailies_tui import cli, settings
from odailies_tui.connection import (
    KeyringUnusable,
    NoProject,
    NoToken,
    UsageError,
    resolve_connection,
)
from odailies_tui.settings import Project
from tests.conftest import MemoryKeyring

SERVICE = "odailies-tui"


def feed(monkeypatch, text: str) -> None:
    """What the user types (stdin is not a terminal: lines are read as they are)."""
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def login(sim, monkeypatch, token: str, *extra: str) -> int:
    feed(monkeypatch, token + "\n")
    return cli.main(["login", "--project", sim.project_id, "--base-url", sim.base_url, *extra])


def test_login_checks_stores_and_records(odailies_env, memory_keyring, sim, monkeypatch, capsys):
    assert login(sim, monkeypatch, sim.token, "--label", "Feature") == 0
    out = capsys.readouterr().out
    assert "Read    works" in out and "Upload  works" in out
    assert "Write   not probed" in out
    assert f"Token stored in the OS keyring for project {sim.project_id}" in out
    assert sim.token not in out
    assert memory_keyring.passwords[(SERVICE, sim.project_id)] == sim.token

    saved = json.loads(odailies_env.read_text())
    assert saved["default_project"] == sim.project_id
    assert saved["projects"] == [{"id": sim.project_id, "label": "Feature",
                                  "base_url": sim.base_url}]
    assert sim.token not in odailies_env.read_text()
    # the upload probe only asked for a URL: nothing was PUT
    assert sim.uploads == {}


def test_login_reports_upload_not_permitted(odailies_env, memory_keyring, sim, monkeypatch,
                                            capsys):
    assert login(sim, monkeypatch, sim.readonly_token) == 0
    out = capsys.readouterr().out
    assert "Read    works" in out and "Upload  not permitted" in out
    assert memory_keyring.passwords[(SERVICE, sim.project_id)] == sim.readonly_token


def test_login_invalid_token_stores_nothing(odailies_env, memory_keyring, sim, monkeypatch,
                                            capsys):
    assert login(sim, monkeypatch, "tok-wrong-0000") == 1
    err = capsys.readouterr().err
    assert "invalid token" in err and "nothing was stored" in err
    assert "tok-wrong-0000" not in err
    assert memory_keyring.passwords == {}
    assert not odailies_env.exists()


def test_login_asks_the_project_and_keeps_a_top_level_project_flag(
        odailies_env, memory_keyring, sim, monkeypatch, capsys):
    feed(monkeypatch, f"{sim.project_id}\n{sim.token}\n")
    assert cli.main(["login", "--base-url", sim.base_url]) == 0
    assert (SERVICE, sim.project_id) in memory_keyring.passwords
    memory_keyring.passwords.clear()
    feed(monkeypatch, f"{sim.token}\n")
    assert cli.main(["--project", sim.project_id, "--base-url", sim.base_url, "login"]) == 0
    assert (SERVICE, sim.project_id) in memory_keyring.passwords
    assert "replaced" not in capsys.readouterr().out


def test_login_with_no_keyring_exits_2_before_asking(odailies_env, use_keyring, sim,
                                                      monkeypatch, capsys):
    use_keyring(keyring.backends.fail.Keyring())
    feed(monkeypatch, sim.token + "\n")
    code = cli.main(["login", "--project", sim.project_id, "--base-url", sim.base_url])
    captured = capsys.readouterr()
    err = " ".join(captured.err.split())  # the paragraph is wrapped
    assert code == 2
    assert "cannot use the OS keyring for project" in err
    assert "no keyring backend found" in err
    assert "ODAILIES_TOKEN" in err and "PYTHON_KEYRING_BACKEND" in err
    assert "Traceback" not in captured.err + captured.out
    assert "Checking" not in captured.out  # the token was not even asked for
    assert not odailies_env.exists()


class LockedKeyring(MemoryKeyring):
    def get_password(self, service, username):
        raise KeyringLocked("collection is locked")


def test_login_never_overwrites_a_token_it_could_not_read(odailies_env, use_keyring, sim,
                                                          monkeypatch, capsys):
    locked = LockedKeyring()
    locked.passwords[(SERVICE, sim.project_id)] = "tok-precious-1111"
    use_keyring(locked)
    assert login(sim, monkeypatch, sim.token) == 2
    assert "the keyring is locked" in " ".join(capsys.readouterr().err.split())
    assert locked.passwords[(SERVICE, sim.project_id)] == "tok-precious-1111"


def test_logout_removes_the_token(odailies_env, memory_keyring, sim, monkeypatch, capsys):
    assert login(sim, monkeypatch, sim.token) == 0
    capsys.readouterr()
    assert cli.main(["logout"]) == 0  # the default project
    assert "removed from the OS keyring" in capsys.readouterr().out
    assert memory_keyring.passwords == {}
    assert cli.main(["logout", "--project", sim.project_id]) == 0
    assert "No token was stored" in capsys.readouterr().out
    assert settings.load_settings().project(sim.project_id) is not None
    assert cli.main(["logout", "--forget"]) == 0
    assert settings.load_settings().projects == []


def test_logout_without_keyring_exits_2(odailies_env, use_keyring, capsys):
    use_keyring(keyring.backends.fail.Keyring())
    assert cli.main(["logout", "--project", "P1"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "cannot use the OS keyring for project P1" in err and "Traceback" not in err


def test_logout_without_any_project_is_a_usage_error(odailies_env, memory_keyring, capsys):
    assert cli.main(["logout"]) == 2
    assert "no project" in capsys.readouterr().err


def _two_projects() -> None:
    settings.update_settings(lambda s: (
        s.upsert_project(Project("P1", "Feature", "http://127.0.0.1:9/api/v2")),
        s.upsert_project(Project("P2", "Commercial"), make_default=True)))


def test_projects_lists_default_and_token_presence(odailies_env, memory_keyring, capsys):
    _two_projects()
    memory_keyring.passwords[(SERVICE, "P1")] = "tok-p1-secret-42"
    assert cli.main(["projects"]) == 0
    lines = capsys.readouterr().out.splitlines()
    p1 = next(line for line in lines if "P1" in line)
    p2 = next(line for line in lines if "P2" in line)
    assert p1.startswith(" ") and p1.rstrip().endswith("stored") and "not stored" not in p1
    assert p2.startswith("*") and p2.rstrip().endswith("not stored")
    assert "Feature" in p1 and "http://127.0.0.1:9/api/v2" in p1
    assert all("tok-p1-secret-42" not in line for line in lines)


def test_projects_with_unreadable_keyring_says_unknown(odailies_env, blocking_keyring, capsys):
    _two_projects()
    start = time.monotonic()
    assert cli.main(["projects"]) == 0
    elapsed = time.monotonic() - start
    out = capsys.readouterr().out
    assert out.count("unknown (keyring unavailable: timed out after 0.3 s)") == 2
    assert elapsed < 1.5  # one time-out, not one per project


def test_projects_when_none_known(odailies_env, memory_keyring, capsys):
    assert cli.main(["projects"]) == 0
    assert "odailies-tui login" in capsys.readouterr().out


# -- resolve_connection ---------------------------------------------------------------------

def ns(**kw) -> argparse.Namespace:
    return argparse.Namespace(project=kw.get("project"), base_url=kw.get("base_url"))


def test_resolution_order_flags_env_settings(odailies_env, memory_keyring, monkeypatch):
    _two_projects()
    memory_keyring.passwords[(SERVICE, "P1")] = "tok-p1-secret-42"
    memory_keyring.passwords[(SERVICE, "P2")] = "tok-p2-secret-42"
    conn = resolve_connection(ns())
    assert (conn.project_id, conn.label) == ("P2", "Commercial")
    assert conn.token.reveal() == "tok-p2-secret-42"
    monkeypatch.setenv("ODAILIES_PROJECT", "P1")
    conn = resolve_connection(ns())
    assert (conn.project_id, conn.base_url) == ("P1", "http://127.0.0.1:9/api/v2")
    monkeypatch.setenv("ODAILIES_BASE_URL", "http://127.0.0.1:8/api/v2")
    assert resolve_connection(ns()).base_url == "http://127.0.0.1:8/api/v2"
    conn = resolve_connection(ns(project="P2", base_url="http://127.0.0.1:7/api/v2"))
    assert (conn.project_id, conn.base_url) == ("P2", "http://127.0.0.1:7/api/v2")
    monkeypatch.setenv("ODAILIES_TOKEN", "tok-env-wins-99")
    assert resolve_connection(ns()).token.reveal() == "tok-env-wins-99"
    assert "tok-env-wins-99" not in repr(resolve_connection(ns()))


def test_resolution_failures_are_typed_usage_errors(odailies_env, use_keyring, monkeypatch):
    use_keyring(MemoryKeyring())
    with pytest.raises(NoProject):
        resolve_connection(ns())
    with pytest.raises(NoToken, match="odailies-tui login --project X"):
        resolve_connection(ns(project="X"))
    use_keyring(keyring.backends.fail.Keyring())
    with pytest.raises(KeyringUnusable) as info:
        resolve_connection(ns(project="X"))
    assert isinstance(info.value, UsageError)
    assert info.value.reason == "no keyring backend found"
    assert "gnome-keyring-daemon --unlock" in str(info.value)
    monkeypatch.setenv("ODAILIES_TOKEN", "tok-env-only-77")
    assert resolve_connection(ns(project="X")).token.reveal() == "tok-env-only-77"


async def test_async_resolution_reads_the_keyring_off_the_loop(odailies_env, blocking_keyring):
    from odailies_tui.connection import aresolve_connection

    with pytest.raises(KeyringUnusable, match="timed out"):
        await aresolve_connection(ns(project="X"))


def test_help_never_shows_a_token(odailies_env, memory_keyring, monkeypatch, capsys):
    monkeypatch.setenv("ODAILIES_TOKEN", "tok-help-leak-31")
    for argv in (["--help"], ["login", "--help"], ["projects", "--help"]):
        with pytest.raises(SystemExit):
            cli.main(argv)
    captured = capsys.readouterr()
    assert "tok-help-leak-31" not in captured.out + captured.err
