"""Deterministic demo data: clips with camera-style names and jobs of every type.

Everything here is a pure function of the seed and the start instant, so a snapshot test that
pins both sees the same project every time. Generation scales to tens of thousands of clips.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

GB = 1_000_000_000
MB = 1_000_000

CLIP_KEYS = (
    "name scene shot take description circled rating inPoint camera timecode fps date duration "
    "reelName whitePointKelvin whitePointCcShift shutter filter ndFilter lens focalLength "
    "focusDistance asa sensorFps fStop tStop fileSize libraryPath"
).split()

JOB_KEYS = (
    "id type name state readFlag remaining remainingSeconds bytesPerSecond progress path "
    "creationDate startDate finishDate"
).split()

JOB_STATES = (
    "scheduled running succeeded failed aborted paused suspended unscheduled willSuspend "
    "willResume doNotQueue executingCompletion unknown"
).split()

KNOWN_JOB_TYPES = (
    "CopyJob OffloadJob RenderJob RelinkJob VerifyJob UploadJob DailiesUploadJob unknown"
).split()

# Types that report no throughput (clients must estimate from progress over time).
NO_RATE_TYPES = {"RenderJob", "RelinkJob", "TranscodeJob"}

_SUFFIX = {"A": "R3CK", "B": "R4FJ"}
_DESCRIPTIONS = (
    "", "", "", "wide master", "OTS on Mia", "insert hands", "boom in frame end",
    "false start", "great performance", "focus soft at start", "cut early", "pickup from line 4",
)
_LENSES = ("18mm", "25mm", "32mm", "40mm", "50mm", "75mm", "100mm")
_FPS = (23.976, 24, 25, 29.97)


def iso(ts: float) -> str:
    """ISO 8601 UTC with a ``Z``, whole seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def format_remaining(seconds: float | None) -> str:
    """Server-style remaining time: ``"35s"``, ``"4m 10s"``, ``"1h 02m"``."""
    if seconds is None:
        return ""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s" if s % 60 else f"{s // 60}m"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def new_job_id(rng: random.Random) -> str:
    """A UUID (upper case, as the service answers) drawn from ``rng``."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4)).upper()


# --------------------------------------------------------------------------------------------
# clips


def generate_clips(count: int, seed: int, start: datetime) -> dict[str, dict]:
    """``count`` clips keyed by name, shot over the days up to ``start`` (two cameras)."""
    rng = random.Random(f"clips-{seed}")
    r = rng.random

    def pick(seq: tuple):  # much faster than rng.choice for 20,000 clips
        return seq[int(r() * len(seq))]

    clips: dict[str, dict] = {}
    if count <= 0:
        return clips
    per_day = 400
    days = max(1, -(-count // per_day))
    first_day = start.date() - timedelta(days=days - 1)
    reel = {"A": 0, "B": 0}
    scene_no = 20 + rng.randrange(5)
    made = 0
    for d in range(days):
        day = first_day + timedelta(days=d)
        yymmdd, yyyymmdd = day.strftime("%y%m%d"), day.strftime("%Y%m%d")
        fps = pick(_FPS) if d else 23.976
        fps_int = round(fps)
        day_quota = min(per_day, count - made)
        tc = {"A": 10 * 3600 * fps_int, "B": 10 * 3600 * fps_int + 113}
        clip_no = {"A": 0, "B": 0}
        reel_size = {"A": 0, "B": 0}
        for cam in reel:
            reel[cam] += 1
        scene_letter = ""
        shot, take = 1, 0
        for _ in range(day_quota):
            cam = "A" if r() < 0.6 else "B"
            if reel_size[cam] >= 40 + (reel[cam] % 3) * 10:
                reel[cam] += 1
                clip_no[cam] = 0
                reel_size[cam] = 0
            clip_no[cam] += 1
            reel_size[cam] += 1
            take += 1
            if take > pick((3, 4, 5, 6)):
                take, shot = 1, shot + 1
                if shot > pick((4, 6, 8)):
                    shot = 1
                    if scene_letter or r() < 0.6:
                        scene_no, scene_letter = scene_no + 1, ""
                    else:
                        scene_letter = "A"
            duration = round(8 + 232 * r(), 3)
            frames = tc[cam]
            tc[cam] += int(duration * fps_int) + int(30 + 370 * r()) * fps_int
            name = f"{cam}{reel[cam]:03d}C{clip_no[cam]:03d}_{yymmdd}_{_SUFFIX[cam]}"
            lens = pick(_LENSES)
            circled = r() < 0.22
            clips[name] = {
                "name": name,
                "scene": f"{scene_no}{scene_letter}",
                "shot": str(shot),
                "take": str(take),
                "description": pick(_DESCRIPTIONS),
                "circled": circled,
                "rating": pick((3, 4, 5)) if circled else pick((0, 0, 0, 1, 2, 3)),
                "inPoint": None,
                "camera": cam,
                "timecode": _timecode(frames, fps_int),
                "fps": fps,
                "date": yyyymmdd,
                "duration": duration,
                "reelName": f"{cam}{reel[cam]:03d}",
                "whitePointKelvin": pick((3200, 4300, 5600, 5600, 6500)),
                "whitePointCcShift": pick((0, 0, 1, -2)),
                "shutter": pick(("180", "172.8", "90")),
                "filter": "",
                "ndFilter": pick(("", "0.3", "0.6", "0.9")),
                "lens": lens,
                "focalLength": int(lens[:-2]),
                "focusDistance": f"{0.6 + 11.4 * r():.1f}m",
                "asa": pick((400, 800, 800, 1280, 3200)),
                "sensorFps": fps,
                "fStop": pick((1.4, 2, 2.8, 4, 5.6)),
                "tStop": pick(("T1.5", "T2.1", "T2.8", "T4")),
                "fileSize": int(duration * (20 + 70 * r()) * MB),
                "libraryPath": f"Project/Clips/Day {d + 1:02d}",
            }
            made += 1
    return clips


def _timecode(frames: int, fps: int) -> str:
    ff = frames % fps
    secs = frames // fps
    return f"{secs // 3600 % 24:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}:{ff:02d}"


# --------------------------------------------------------------------------------------------
# jobs


@dataclass
class JobMeta:
    """What the simulator knows of a job beyond its API fields (never served)."""

    seq: int  # insertion order: tie-breaker for "newest first"
    created: float  # creation instant (sim clock, seconds)
    activity: float  # last change of any field (server clock, seconds)
    total_bytes: int = 0
    rate: float = 0.0  # nominal bytes/s (or progress/s * total for rate-less types)
    reports_rate: bool = True
    start_at: float | None = None  # a scheduled job starts then
    fail_at: float | None = None  # progress at which the job fails
    pending: tuple[str, float] | None = None  # (state, at): a requested transition
    source: str | None = None
    extra: dict = field(default_factory=dict)


def job_template(rng: random.Random, job_type: str, day: int, reel: int) -> tuple[dict, JobMeta]:
    """API fields (no dates yet) and meta for a fresh job of ``job_type``."""
    cam = "AAABBC"[rng.randrange(6)]
    folder = f"{cam}{reel:03d}"
    style = rng.random()
    if style < 0.5:
        card = f"{folder}_{_SUFFIX.get(cam, 'R1XQ')}"
    elif style < 0.8:
        card = f"{cam}_{reel:04d}_1DYJ_hde"
    elif style < 0.95:
        card = f"{folder}_MAG"
    else:
        card = folder = f"SOUND_DAY{day:02d}"
    path: str | None = f"/Volumes/RAID/Day{day:02d}/{folder}"
    reports_rate = job_type not in NO_RATE_TYPES
    if job_type in ("CopyJob", "OffloadJob"):
        total, rate, name = rng.uniform(20, 240) * GB, rng.uniform(100, 800) * MB, card
    elif job_type == "VerifyJob":
        total, rate, name = rng.uniform(20, 240) * GB, rng.uniform(400, 1500) * MB, card
    elif job_type == "RenderJob":
        dur = rng.uniform(120, 900)
        total, name = 1.0 * GB, f"{card} dailies H.264"
        rate = total / dur
    elif job_type == "RelinkJob":
        dur = rng.uniform(20, 90)
        total, name = 1.0 * GB, f"Relink {card}"
        rate = total / dur
    elif job_type in ("UploadJob", "DailiesUploadJob"):
        total, rate = rng.uniform(1, 20) * GB, rng.uniform(10, 60) * MB
        if job_type == "DailiesUploadJob":
            name, path = f"Dailies Day{day:02d} {card}", f"/Volumes/RAID/Day{day:02d}/_dailies"
        else:
            name = f"{card} to cloud"
    else:  # an unknown type, e.g. TranscodeJob
        dur = rng.uniform(60, 400)
        total, name, path = 1.0 * GB, f"Transcode {card}", None
        rate = total / dur
    api = {
        "id": new_job_id(rng),
        "type": job_type,
        "name": name,
        "state": "scheduled",
        "readFlag": 0,
        "remaining": "",
        "remainingSeconds": None,
        "bytesPerSecond": None,
        "progress": 0.0,
        "path": path,
        "creationDate": None,
        "startDate": None,
        "finishDate": None,
    }
    meta = JobMeta(
        seq=0, created=0.0, activity=0.0, total_bytes=int(total), rate=rate,
        reports_rate=reports_rate, source=path,
        fail_at=rng.uniform(0.1, 0.95) if rng.random() < 0.04 else None,
    )
    return api, meta


_FIRST_RUNNING = ("CopyJob", "OffloadJob", "RenderJob")
_FIRST_FINISHED = (
    ("VerifyJob", "succeeded"), ("RelinkJob", "succeeded"), ("DailiesUploadJob", "succeeded"),
    ("CopyJob", "failed"), ("OffloadJob", "aborted"), ("TranscodeJob", "succeeded"),
    ("UploadJob", "succeeded"), ("CopyJob", "succeeded"),
)
SPAWN_TYPES = (
    ("CopyJob", 30), ("OffloadJob", 20), ("RenderJob", 12), ("RelinkJob", 6),
    ("UploadJob", 10), ("DailiesUploadJob", 10), ("VerifyJob", 4), ("TranscodeJob", 2),
    ("unknown", 1),
)


def pick_type(rng: random.Random) -> str:
    """A job type drawn with realistic weights (unknown types now and then)."""
    names, weights = zip(*SPAWN_TYPES, strict=True)
    return rng.choices(names, weights)[0]


def generate_jobs(
    count: int, seed: int, now: float, running: int | None = None
) -> list[tuple[dict, JobMeta]]:
    """``count`` jobs, oldest first: finished ones in the past, ``running`` running, a few
    scheduled. Dates are set; ``seq``/``activity`` are set in order."""
    rng = random.Random(f"jobs-{seed}")
    if count <= 0:
        return []
    n_run = min(count, running if running is not None else max(3, count // 25))
    n_sched = min(count - n_run, max(2, min(20, count // 12)))
    n_done = count - n_run - n_sched
    out: list[tuple[dict, JobMeta]] = []
    span = max(3600.0, n_done * 40.0)  # finished jobs spread over the past
    day = 12
    for i in range(n_done):
        job_type, state = (
            _FIRST_FINISHED[i] if i < len(_FIRST_FINISHED)
            else (pick_type(rng), rng.choices(("succeeded", "failed", "aborted"), (92, 5, 3))[0])
        )
        api, meta = job_template(rng, job_type, day, 1 + i % 40)
        created = now - span + span * i / max(1, n_done) - rng.uniform(0, 30)
        duration = meta.total_bytes / meta.rate
        started = created + rng.uniform(1, 20)
        frac = 1.0 if state == "succeeded" else rng.uniform(0.05, 0.9)
        finished = min(now - 5, started + duration * frac)
        api.update(
            state=state, readFlag=1 if rng.random() < 0.6 else 0, progress=round(frac, 4),
            creationDate=iso(created), startDate=iso(started), finishDate=iso(finished),
        )
        meta.created, meta.activity, meta.fail_at = created, finished, None
        out.append((api, meta))
    for i in range(n_run):
        job_type = _FIRST_RUNNING[i] if i < len(_FIRST_RUNNING) else pick_type(rng)
        api, meta = job_template(rng, job_type, day, 41 + i)
        progress = rng.uniform(0.05, 0.7)
        elapsed = progress * meta.total_bytes / meta.rate
        created = now - elapsed - rng.uniform(2, 20)
        api.update(state="running", progress=round(progress, 4), creationDate=iso(created),
                   startDate=iso(now - elapsed))
        if meta.reports_rate:
            left = (1 - progress) * meta.total_bytes / meta.rate
            api.update(bytesPerSecond=int(meta.rate), remainingSeconds=int(round(left)),
                       remaining=format_remaining(left))
        meta.created, meta.activity = created, now
        out.append((api, meta))
    for i in range(n_sched):
        api, meta = job_template(rng, pick_type(rng), day, 60 + i)
        created = now - rng.uniform(0, 5)
        api.update(creationDate=iso(created))
        meta.created, meta.activity = created, created
        meta.start_at = now + rng.uniform(15, 90) * (i + 1)
        out.append((api, meta))
    out.sort(key=lambda pair: pair[1].created)
    for seq, (_, meta) in enumerate(out):
        meta.seq = seq
    return out
