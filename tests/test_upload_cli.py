"""``odailies-tui upload`` against the simulator: plan refusals, dry run, live run, summary."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from rich.console import Console

from odailies_tui.cli import main
from odailies_tui.commands.upload import render_progress
from odailies_tui.core.upload_plan import PlannedFile, Role
from odailies_tui.core.upload_run import ItemState, UploadBatch
from odailies_tui.sim import Simulator


def _file(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))
    return path


@pytest.fixture
def env(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    monkeypatch.setenv("ODAILIES_TOKEN", sim.token)
    monkeypatch.setenv("ODAILIES_PROJECT", sim.project_id)
    monkeypatch.setenv("ODAILIES_BASE_URL", sim.base_url)
    return sim


def _day(root: Path, clip: str) -> Path:
    day = root / "day01"
    _file(day / f"{clip}.mp4", 2_000_000)
    _file(day / "_log" / f"{clip}.mp4", 3_000_000)
    _file(day / f"{clip}.jpg", 20_000)
    _file(day / "day01.ale", 700)
    return day


def _upload_calls(sim: Simulator) -> list:
    return [r for r in sim.requests if "/upload/" in r.path or r.path.startswith("/bucket/")]


def test_folder_upload_delivers_every_file_and_summarises(
        env: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = sorted(env.clips)[0]
    day = _day(tmp_path, clip)
    status = main(["upload", str(day)])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert {k: v.size for k, v in env.uploads.items()} == {
        f"_graded/{clip}.mp4": 2_000_000, f"_log/{clip}.mp4": 3_000_000,
        f"_thumbnails/{clip}.jpg": 20_000, "day01.ale": 700,
    }
    # not a terminal: plain lines, no cursor tricks
    assert "\r" not in out and "\x1b[" not in out
    assert f"done   _log/{clip}.mp4" in out
    assert "4 of 4 file(s) delivered" in out
    assert out.count("delivered") >= 5  # one per row of the summary table, plus the verdict
    assert env.token not in out + err


def test_bad_names_are_refused_before_anything_is_sent(
        env: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = sorted(env.clips)[0]
    day = _day(tmp_path, clip)
    _file(day / "_thumbnails_X.jpg", 10)
    _file(day / "notes.txt", 10)
    status = main(["upload", str(day)])
    out, err = capsys.readouterr()
    assert status == 2
    assert "nothing was sent" in err
    assert "Rename it to X.jpg" in err and "notes.txt" in err
    assert _upload_calls(env) == [] and env.uploads == {}


def test_dry_run_prints_the_plan_and_sends_nothing(
        env: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = sorted(env.clips)[0]
    day = _day(tmp_path, clip)
    status = main(["upload", "--dry-run", str(day)])
    out, _ = capsys.readouterr()
    assert status == 0
    for dest in (f"_graded/{clip}.mp4", f"_log/{clip}.mp4", f"_thumbnails/{clip}.jpg",
                 "day01.ale"):
        assert dest in out
    assert "nothing was sent" in out
    assert _upload_calls(env) == []


def test_unknown_thumbnail_needs_force(
        env: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    thumb = _file(tmp_path / "NOT_A_CLIP.jpg", 100)
    assert main(["upload", str(thumb)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["upload", "--force", str(thumb)]) == 0
    assert env.uploads["_thumbnails/NOT_A_CLIP.jpg"].size == 100


def test_exit_status_is_1_when_a_file_does_not_arrive(
        env: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ODAILIES_TOKEN", env.readonly_token)  # Read, but no Upload
    path = _file(tmp_path / "a.ale", 100)
    status = main(["upload", str(path)])
    out, err = capsys.readouterr()
    assert status == 1
    assert "FAILED" in out and "permission" in out
    assert "0 of 1 file(s) delivered" in out
    # retrying cannot help: say what to do about the token instead
    assert "no Upload permission" in out and "odailies-tui login" in out
    assert "run again with the failed files" not in out
    assert env.readonly_token not in out + err


def test_piped_summary_is_not_cut_and_tiny_files_have_no_silly_figures(
        env: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import re

    clip = sorted(env.clips)[0]
    day = _day(tmp_path, clip)
    assert main(["upload", str(day)]) == 0
    out, _ = capsys.readouterr()
    rows = [line for line in out.splitlines()
            if line.strip().endswith(" 1") and "delivered" in line]
    assert len(rows) == 4, out
    for row in rows:  # one line per file, rate whole: "12.3 MB/s" or "—", never "160.8 "
        assert re.search(r"(/s|—)\s+1$", row.rstrip()), row
    assert "0 Bytes/s" not in out and "a moment" not in out
    assert "under a second" in out
    verdict = [line for line in out.splitlines() if "4 of 4 file(s) delivered" in line]
    assert len(verdict) == 1 and verdict[0].rstrip().endswith(".")


def test_project_flag_before_the_subcommand_is_kept(
        env: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ODAILIES_PROJECT")
    path = _file(tmp_path / "a.ale", 100)
    assert main(["--project", env.project_id, "upload", "--dry-run", str(path)]) == 0
    assert main(["upload", "--project", env.project_id, "--dry-run", str(path)]) == 0


def test_live_display_has_one_line_per_active_file_plus_a_total(tmp_path: Path) -> None:
    files = [PlannedFile(tmp_path / f"{n}.mp4", f"_graded/{n}.mp4", Role.GRADED, 1_000_000_000)
             for n in ("A001", "A002", "A003")]
    batch = UploadBatch(files)
    batch.items[0].state = ItemState.DONE
    for item in batch.items[1:]:
        item.state = ItemState.RUNNING
        item.bytes_sent = 250_000_000
    console = Console(width=120, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(render_progress(batch))
    lines = [line for line in console.export_text().splitlines() if line.strip()]
    assert len(lines) == 3
    assert lines[0].startswith("_graded/A002.mp4") and "25%" in lines[0]
    assert "250.0 MB / 1.0 GB" in lines[0]
    assert lines[-1].startswith("Total 1/3 files")
    assert "50%" in lines[-1]  # 1.5 GB of 3 GB
