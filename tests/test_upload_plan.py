"""Upload planning: destinations and refusals follow API.md before any byte moves."""

from __future__ import annotations

from pathlib import Path

from odailies_tui.core.upload_plan import Role, make_plan

CLIP = "A001C001_260422_R3CK"


def _touch(path: Path, size: int = 10) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


def _mixed_folder(root: Path) -> Path:
    day = root / "day01"
    _touch(day / f"{CLIP}.mp4", 1000)
    _touch(day / "_log" / f"{CLIP}.mp4", 2000)
    _touch(day / f"{CLIP}.jpg", 30)
    _touch(day / "day01.ale", 40)
    _touch(day / "notes.txt")
    _touch(day / "_thumbnails_X.jpg")
    _touch(day / ".DS_Store")
    return day


def test_mixed_folder_plan_is_what_the_contract_says(tmp_path: Path) -> None:
    day = _mixed_folder(tmp_path)
    plan = make_plan([day], clip_names=[CLIP, "X"])

    dests = {f.dest: (f.role, f.size, f.source.relative_to(day).as_posix()) for f in plan.files}
    assert dests == {
        f"_graded/{CLIP}.mp4": (Role.GRADED, 1000, f"{CLIP}.mp4"),
        f"_log/{CLIP}.mp4": (Role.LOG, 2000, f"_log/{CLIP}.mp4"),
        f"_thumbnails/{CLIP}.jpg": (Role.THUMBNAIL, 30, f"{CLIP}.jpg"),
        "day01.ale": (Role.ALE, 40, "day01.ale"),
    }
    refused = {r.source.name: r for r in plan.refusals}
    assert set(refused) == {"notes.txt", "_thumbnails_X.jpg"}
    assert "unsupported" in refused["notes.txt"].reason
    assert ".mp4" in refused["notes.txt"].advice
    flat = refused["_thumbnails_X.jpg"]
    assert "ignores" in flat.reason
    assert "X.jpg" in flat.advice and "_thumbnails/X.jpg" in flat.advice
    assert not plan.ok
    assert plan.warnings == []  # the LOG file has its graded twin
    assert [p.name for p in plan.skipped] == [".DS_Store"]


def test_clean_folder_is_ok_and_totals_bytes(tmp_path: Path) -> None:
    day = _mixed_folder(tmp_path)
    (day / "notes.txt").unlink()
    (day / "_thumbnails_X.jpg").unlink()
    plan = make_plan([day], clip_names=[CLIP])
    assert plan.ok
    assert plan.total_bytes == 1000 + 2000 + 30 + 40


def test_thumbnail_and_log_without_clip_refused_unless_forced(tmp_path: Path) -> None:
    thumb = _touch(tmp_path / "A001C002_260422_R3CK.jpg")
    log = _touch(tmp_path / "_log" / "B001C001_260422_X.mp4")
    plan = make_plan([thumb, log], clip_names=["A001C001_260422_R3CK"])
    assert plan.files == []
    reasons = {r.source.name: r for r in plan.refusals}
    assert "matches no clip" in reasons[thumb.name].reason
    assert "--force" in reasons[thumb.name].advice
    assert "Did you mean A001C001_260422_R3CK?" in reasons[thumb.name].advice

    forced = make_plan([thumb, log], clip_names=["A001C001_260422_R3CK"], force=True)
    assert forced.ok
    assert sorted(f.dest for f in forced.files) == [
        "_log/B001C001_260422_X.mp4", "_thumbnails/A001C002_260422_R3CK.jpg"]
    assert any("--force" in w for w in forced.warnings)


def test_thumbnail_of_a_graded_file_in_the_same_upload_is_accepted(tmp_path: Path) -> None:
    graded = _touch(tmp_path / "NEW001.mp4")
    thumb = _touch(tmp_path / "NEW001.jpg")
    plan = make_plan([graded, thumb], clip_names=[])
    assert plan.ok, plan.refusals


def test_log_without_graded_twin_warns(tmp_path: Path) -> None:
    log = _touch(tmp_path / "A.mp4")
    plan = make_plan([log], clip_names=["A"], log=True)
    assert [f.dest for f in plan.files] == ["_log/A.mp4"]
    assert len(plan.warnings) == 1 and "graded twin" in plan.warnings[0]


def test_log_flag_and_graded_folder(tmp_path: Path) -> None:
    loose = _touch(tmp_path / "A.mp4")
    graded = _touch(tmp_path / "_graded" / "B.mp4")
    plan = make_plan([loose, graded], clip_names=["A", "B"], log=True)
    assert sorted(f.dest for f in plan.files) == ["_graded/B.mp4", "_log/A.mp4"]


def test_two_files_to_one_destination_are_both_refused(tmp_path: Path) -> None:
    a = _touch(tmp_path / "cam_a" / "A.mp4")
    b = _touch(tmp_path / "cam_b" / "A.mp4")
    plan = make_plan([tmp_path], clip_names=["A"])
    assert plan.files == []
    assert {r.source for r in plan.refusals} == {a, b}
    assert all("_graded/A.mp4" in r.reason for r in plan.refusals)


def test_misspelt_extensions_empty_and_missing_files(tmp_path: Path) -> None:
    upper = _touch(tmp_path / "A.MP4")
    jpeg = _touch(tmp_path / "A.jpeg")
    empty = _touch(tmp_path / "B.mp4", 0)
    plan = make_plan([upper, jpeg, empty, tmp_path / "nope.mp4"], clip_names=["A", "B"])
    assert plan.files == []
    advice = {r.source.name: r for r in plan.refusals}
    assert "'A.mp4'" in advice["A.MP4"].advice
    assert "'A.jpg'" in advice["A.jpeg"].advice
    assert "empty" in advice["B.mp4"].reason
    assert "no such file" in advice["nope.mp4"].reason


def test_unknown_clips_refuse_thumbnails_but_not_graded(tmp_path: Path) -> None:
    graded = _touch(tmp_path / "A.mp4")
    thumb = _touch(tmp_path / "Z.jpg")
    plan = make_plan([graded, thumb], clip_names=None)
    assert [f.dest for f in plan.files] == ["_graded/A.mp4"]
    assert "cannot be checked" in plan.refusals[0].reason
