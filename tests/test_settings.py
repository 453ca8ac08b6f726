"""Non-secret settings: location, round trip, atomic writes, never a token."""

from __future__ import annotations

import json
import os

import pytest

from odailies_tui import settings as st
from odailies_tui.api.client import DEFAULT_BASE_URL
from odailies_tui.api.redact import Secret
from odailies_tui.settings import Project, Settings, SettingsError


def test_missing_file_gives_empty_settings(odailies_env):
    loaded = st.load_settings()
    assert loaded.projects == [] and loaded.default_project is None
    assert loaded.poll_interval is None and loaded.alerts == {}
    assert not odailies_env.exists()  # reading creates nothing


def test_location_override_file_or_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("ODAILIES_CONFIG", str(tmp_path / "mine.json"))
    assert st.settings_path() == tmp_path / "mine.json"
    monkeypatch.setenv("ODAILIES_CONFIG", str(tmp_path / "confdir"))
    assert st.settings_path() == tmp_path / "confdir" / "settings.json"
    monkeypatch.delenv("ODAILIES_CONFIG")
    assert st.settings_path().name == "settings.json"
    assert "odailies-tui" in str(st.settings_path())


def test_round_trip_keeps_everything(odailies_env):
    s = Settings(poll_interval=1.5, alerts={"sound": True, "on": ["failed"]})
    s.upsert_project(Project("P1", "Feature", "http://127.0.0.1:1/api/v2"))
    s.upsert_project(Project("P2"))
    path = st.save_settings(s)
    assert path == odailies_env
    raw = json.loads(path.read_text())
    raw["future_section"] = {"x": 1}
    path.write_text(json.dumps(raw))

    loaded = st.load_settings()
    assert loaded.default_project == "P1"  # the first project becomes the default
    assert loaded.project("P1") == Project("P1", "Feature", "http://127.0.0.1:1/api/v2")
    assert loaded.project("P2").base_url == DEFAULT_BASE_URL
    assert loaded.poll_interval == 1.5
    assert loaded.alerts == {"sound": True, "on": ["failed"]}
    st.save_settings(loaded)
    assert json.loads(path.read_text())["future_section"] == {"x": 1}


def test_upsert_replaces_and_default_moves_on_remove(odailies_env):
    s = Settings()
    s.upsert_project(Project("P1", "one"))
    s.upsert_project(Project("P2", "two"), make_default=True)
    s.upsert_project(Project("P1", "uno"))
    assert [p.label for p in s.projects] == ["uno", "two"]
    assert s.default_project == "P2"
    assert s.remove_project("P2") is True
    assert s.default_project == "P1"
    assert s.remove_project("nope") is False


def test_update_settings_is_load_change_save(odailies_env):
    st.update_settings(lambda s: s.upsert_project(Project("P1")))
    st.update_settings(lambda s: setattr(s, "poll_interval", 5.0))
    loaded = st.load_settings()
    assert loaded.project("P1") and loaded.poll_interval == 5.0


def test_atomic_write_leaves_old_file_on_failure(odailies_env, monkeypatch):
    st.update_settings(lambda s: s.upsert_project(Project("P1")))
    before = odailies_env.read_text()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(SettingsError, match="No space left"):
        st.update_settings(lambda s: s.upsert_project(Project("P2")))
    assert odailies_env.read_text() == before
    assert [p.name for p in odailies_env.parent.iterdir()] == ["settings.json"]  # no temp left


def test_refuses_to_save_a_token(odailies_env):
    Secret("tok-never-in-a-file-42")
    s = Settings()
    s.upsert_project(Project("P1", label="tok-never-in-a-file-42"))
    with pytest.raises(SettingsError, match="token"):
        st.save_settings(s)
    assert not odailies_env.exists()


def test_broken_file_names_itself(odailies_env):
    odailies_env.parent.mkdir(parents=True)
    odailies_env.write_text("{not json")
    with pytest.raises(SettingsError) as info:
        st.load_settings()
    assert str(odailies_env) in str(info.value)


def test_odd_values_are_ignored_not_fatal(odailies_env):
    odailies_env.parent.mkdir(parents=True)
    odailies_env.write_text(json.dumps({
        "projects": [{"id": "P1"}, {"label": "no id"}, "junk"],
        "poll_interval": "fast", "alerts": [], "default_project": 3}))
    loaded = st.load_settings()
    assert [p.id for p in loaded.projects] == ["P1"]
    assert loaded.poll_interval is None and loaded.alerts == {}
    assert loaded.default_project is None


def test_state_dir_override_is_created(tmp_path, monkeypatch):
    monkeypatch.setenv("ODAILIES_STATE_DIR", str(tmp_path / "state" / "deep"))
    path = st.state_dir()
    assert path == tmp_path / "state" / "deep" and path.is_dir()
    monkeypatch.delenv("ODAILIES_STATE_DIR")
    assert "odailies-tui" in str(st.state_dir(create=False))
