"""The simulator speaks the v2 contract strictly, over real loopback HTTP."""

from __future__ import annotations

import hashlib
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlsplit

import httpx
import pytest

from odailies_tui.sim import Faults, Simulator
from odailies_tui.sim.data import generate_clips


@pytest.fixture
def http() -> httpx.Client:
    # trust_env=False: never route loopback traffic through a proxy from the environment.
    with httpx.Client(trust_env=False, timeout=5.0) as client:
        yield client


def url(sim: Simulator, *segments: str, token: str | None = None) -> str:
    """``base/segments.../token``, every segment percent-encoded as one segment."""
    parts = [quote(s, safe="") for s in (*segments, token or sim.token)]
    return f"{sim.base_url}/{'/'.join(parts)}"


def jobs_url(sim: Simulator) -> str:
    return url(sim, "jobs", sim.project_id)


def clips_url(sim: Simulator) -> str:
    return url(sim, "clips", sim.project_id)


def error_message(resp: httpx.Response) -> str:
    return resp.json()["error"]["message"]


# -- clips ------------------------------------------------------------------------------------


def test_get_clips_sorted_with_envelope(sim: Simulator, http: httpx.Client) -> None:
    resp = http.get(clips_url(sim))
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    names = [c["name"] for c in resp.json()["data"]]
    assert len(names) == 48 and names == sorted(names)
    assert all(n[0] in "AB" and n[4] == "C" and n.count("_") == 2 for n in names)


def test_unknown_token_is_401(sim: Simulator, http: httpx.Client) -> None:
    resp = http.get(url(sim, "clips", sim.project_id, token="nope-token"))
    assert resp.status_code == 401
    assert "token" in error_message(resp)


def test_each_permission_is_checked(sim: Simulator, http: httpx.Client) -> None:
    sim.add_token("write-only", {"write"})
    sim.add_token("read-write", {"read", "write"})
    ro = sim.readonly_token
    assert http.get(url(sim, "clips", "demo", token=ro)).status_code == 200
    assert http.get(url(sim, "jobs", "demo", token=ro)).status_code == 200
    body = {"data": [{"name": "A001C001_260422_R3CK", "circled": True}]}
    assert http.patch(url(sim, "clips", "demo", token=ro), json=body).status_code == 403
    assert http.get(url(sim, "upload", "demo", token=ro) + "/x.ale").status_code == 403
    assert http.get(url(sim, "clips", "demo", token="write-only")).status_code == 403
    resp = http.get(url(sim, "upload", "demo", token="read-write") + "/x.ale")
    assert resp.status_code == 403 and "upload" in error_message(resp)
    assert http.get(url(sim, "upload", "demo") + "/x.ale").status_code == 200


def test_wrong_method_is_405(sim: Simulator, http: httpx.Client) -> None:
    assert http.delete(clips_url(sim)).status_code == 405
    assert http.post(jobs_url(sim), json={"data": []}).status_code == 405
    assert http.patch(url(sim, "upload", "demo") + "/a.ale", json={}).status_code == 405


def test_unknown_project_is_400(sim: Simulator, http: httpx.Client) -> None:
    resp = http.get(url(sim, "clips", "other-project"))
    assert resp.status_code == 400 and "project" in error_message(resp)


def test_patch_unknown_key_is_400_and_writes_nothing(sim: Simulator, http: httpx.Client) -> None:
    name = next(iter(sim.clips))
    body = {"data": [{"name": name, "scene": "99"}, {"name": name + "x", "colour": "red"}]}
    resp = http.patch(clips_url(sim), json=body)
    assert resp.status_code == 400 and "colour" in error_message(resp)
    with sim.lock:
        assert sim.clips[name]["scene"] != "99"
        assert name + "x" not in sim.clips


@pytest.mark.parametrize(
    "bad", ["2026-04-22", "2026-04-22T10:00:00Z", "20260230", "2026042", 20260422]
)
def test_patch_bad_date_is_400(sim: Simulator, http: httpx.Client, bad: object) -> None:
    name = next(iter(sim.clips))
    resp = http.patch(clips_url(sim), json={"data": [{"name": name, "date": bad}]})
    assert resp.status_code == 400 and "date" in error_message(resp)


def test_patch_duplicate_names_is_400(sim: Simulator, http: httpx.Client) -> None:
    name = next(iter(sim.clips))
    body = {"data": [{"name": name, "rating": 2}, {"name": name, "circled": True}]}
    resp = http.patch(clips_url(sim), json=body)
    assert resp.status_code == 400 and "duplicate" in error_message(resp)


def test_patch_writes_ignores_nulls_and_creates(sim: Simulator, http: httpx.Client) -> None:
    name = next(iter(sim.clips))
    with sim.lock:
        scene = sim.clips[name]["scene"]
    body = {"data": [
        {"name": name, "circled": True, "rating": 5, "scene": None, "date": "20260423"},
        {"name": "C001C001_260422_NEW1", "take": "3"},
    ]}
    resp = http.patch(clips_url(sim), json=body)
    assert resp.status_code == 200
    assert resp.json()["data"] == {"updated": 2, "projectId": "demo",
                                   "names": [name, "C001C001_260422_NEW1"]}
    with sim.lock:
        assert sim.clips[name]["circled"] is True and sim.clips[name]["rating"] == 5
        assert sim.clips[name]["scene"] == scene  # null did not clear it
        assert sim.clips["C001C001_260422_NEW1"]["take"] == "3"


@pytest.mark.parametrize("field,value", [("rating", 6), ("rating", True), ("circled", 1),
                                         ("scene", 22)])
def test_patch_type_checks(sim: Simulator, http: httpx.Client, field: str, value: object) -> None:
    name = next(iter(sim.clips))
    resp = http.patch(clips_url(sim), json={"data": [{"name": name, field: value}]})
    assert resp.status_code == 400 and field in error_message(resp)


def test_encoded_clip_name_round_trip(sim: Simulator, http: httpx.Client) -> None:
    name = "Take #2 50%/final"
    resp = http.patch(clips_url(sim), json={"data": [{"name": name, "scene": "7"}]})
    assert resp.status_code == 200
    sim.requests.clear()
    resp = http.get(url(sim, "clips", "demo", name))
    assert resp.status_code == 200
    assert resp.json()["data"]["name"] == name and resp.json()["data"]["scene"] == "7"
    assert "/Take%20%232%2050%25%2Ffinal/" in sim.requests[-1].path
    resp = http.patch(url(sim, "clips", "demo", name), json={"data": {"rating": 4}})
    assert resp.status_code == 200
    with sim.lock:
        assert sim.clips[name]["rating"] == 4


def test_unknown_single_clip_is_400(sim: Simulator, http: httpx.Client) -> None:
    resp = http.get(url(sim, "clips", "demo", "NOPE"))
    assert resp.status_code == 400 and "NOPE" in error_message(resp)


# -- jobs -------------------------------------------------------------------------------------


def test_jobs_newest_first_and_demo_has_running(sim: Simulator, http: httpx.Client) -> None:
    jobs = http.get(jobs_url(sim)).json()["data"]
    assert len(jobs) == 12
    dates = [j["creationDate"] for j in jobs]
    assert dates == sorted(dates, reverse=True)
    assert all(d.endswith("Z") for d in dates)
    running = [j for j in jobs if j["state"] == "running"]
    assert len(running) >= 3
    assert {j["type"] for j in jobs} >= {"CopyJob", "OffloadJob", "RenderJob", "VerifyJob",
                                         "RelinkJob", "UploadJob", "DailiesUploadJob"}
    one = http.get(url(sim, "jobs", "demo", jobs[0]["id"])).json()["data"]
    assert one == jobs[0]


def test_since_naive_is_400(sim: Simulator, http: httpx.Client) -> None:
    resp = http.get(jobs_url(sim), params={"since": "2026-04-22T10:00:00"})
    assert resp.status_code == 400 and "zone" in error_message(resp)


def test_since_raw_plus_is_400(sim: Simulator, http: httpx.Client) -> None:
    resp = http.get(jobs_url(sim) + "?since=2026-04-22T12:00:00+02:00")
    assert resp.status_code == 400 and "%2B" in error_message(resp)


def test_since_filters_by_activity(sim: Simulator, http: httpx.Client) -> None:
    first = http.get(jobs_url(sim))
    server_now = parsedate_to_datetime(first.headers["date"])
    finished = [j["id"] for j in first.json()["data"] if j["state"] in ("succeeded", "failed")]
    sim.advance(30)
    touched = finished[0]
    sim.set_job(touched, readFlag=1)  # a change that moves no date
    since = (server_now + timedelta(seconds=5)).astimezone(timezone(timedelta(hours=2)))
    text = since.isoformat()
    assert "+02:00" in text
    resp = http.get(jobs_url(sim), params={"since": text})  # httpx encodes '+' as %2B
    assert resp.status_code == 200
    ids = {j["id"] for j in resp.json()["data"]}
    assert touched in ids
    assert not ids & set(finished[1:])
    with sim.lock:
        running = {i for i, j in sim.jobs.items() if j["state"] == "running"}
    assert running <= ids  # progress is activity
    later = (sim.now() + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert http.get(jobs_url(sim), params={"since": later}).json()["data"] == []


def test_jobs_progress_and_finish_with_advance(sim: Simulator, http: httpx.Client) -> None:
    before = {j["id"]: j for j in http.get(jobs_url(sim)).json()["data"]}
    copy = next(j for j in before.values() if j["type"] == "CopyJob" and j["state"] == "running")
    render = next(j for j in before.values() if j["type"] == "RenderJob")
    sim.advance(5)
    after = {j["id"]: j for j in http.get(jobs_url(sim)).json()["data"]}
    assert after[copy["id"]]["progress"] > copy["progress"]
    assert 100e6 * 0.5 <= after[copy["id"]]["bytesPerSecond"] <= 800e6 * 1.5
    assert after[copy["id"]]["remainingSeconds"] > 0 and after[copy["id"]]["remaining"]
    assert after[render["id"]]["bytesPerSecond"] is None
    assert after[render["id"]]["remainingSeconds"] is None
    sim.advance(3600)
    with sim.lock:
        assert sim.jobs[copy["id"]]["state"] in ("succeeded", "failed")
        assert sim.jobs[copy["id"]]["finishDate"] is not None
        assert sum(j["state"] == "running" for j in sim.jobs.values()) >= 2


def test_copy_success_starts_verify(sim: Simulator, http: httpx.Client) -> None:
    job_id = sim.add_job(type="CopyJob", state="running", progress=0.999,
                         path="/Volumes/RAID/Day12/A099", name="A099_R3CK")
    sim.advance(5)
    jobs = http.get(jobs_url(sim)).json()["data"]
    copy = next(j for j in jobs if j["id"] == job_id)
    assert copy["state"] == "succeeded" and copy["progress"] == 1
    verify = [j for j in jobs if j["type"] == "VerifyJob" and j["path"] == copy["path"]]
    assert len(verify) == 1 and verify[0]["state"] == "running"
    assert verify[0]["creationDate"] >= copy["creationDate"]


def test_patch_jobs_suspend_resume_read(sim: Simulator, http: httpx.Client) -> None:
    with sim.lock:
        job_id = next(i for i, j in sim.jobs.items()
                      if j["state"] == "running" and j["type"] == "CopyJob")
    body = {"data": [{"id": job_id, "state": "willSuspend", "readFlag": True}]}
    resp = http.patch(jobs_url(sim), json=body)
    assert resp.status_code == 200
    assert resp.json()["data"] == {"updated": 1, "projectId": "demo", "ids": [job_id]}
    sim.advance(3)
    job = http.get(url(sim, "jobs", "demo", job_id)).json()["data"]
    assert job["state"] == "suspended" and job["readFlag"] == 1
    sim.advance(10)
    assert http.get(url(sim, "jobs", "demo", job_id)).json()["data"]["progress"] == job["progress"]
    http.patch(url(sim, "jobs", "demo", job_id), json={"data": {"state": "willResume"}})
    sim.advance(3)
    resumed = http.get(url(sim, "jobs", "demo", job_id)).json()["data"]
    assert resumed["state"] == "running" and resumed["progress"] > job["progress"]


@pytest.mark.parametrize("obj,word", [
    ({"state": "sleeping"}, "state"), ({"type": "VerifyJob"}, "type"), ({}, "updatable"),
    ({"colour": 1}, "colour"), ({"readFlag": 2}, "readFlag"), ({"progress": 1.5}, "progress"),
])
def test_patch_jobs_rejects(sim: Simulator, http: httpx.Client, obj: dict, word: str) -> None:
    job_id = next(iter(sim.jobs))
    resp = http.patch(jobs_url(sim), json={"data": [{"id": job_id, **obj}]})
    assert resp.status_code == 400 and word in error_message(resp)


def test_patch_unknown_job_is_400(sim: Simulator, http: httpx.Client) -> None:
    resp = http.patch(jobs_url(sim), json={"data": [{"id": "NOPE", "readFlag": 1}]})
    assert resp.status_code == 400 and "NOPE" in error_message(resp)


def test_job_list_stays_capped_over_a_long_run() -> None:
    sim = Simulator(realtime=False, jobs=12)
    sim._state.cap = 40
    sim.advance(4 * 3600)
    with sim.lock:
        assert 20 <= len(sim.jobs) <= 40 + 10
        assert sum(j["state"] == "running" for j in sim.jobs.values()) >= 2


# -- clock ------------------------------------------------------------------------------------


def test_date_header_follows_server_clock_and_skew(sim: Simulator, http: httpx.Client) -> None:
    resp = http.get(jobs_url(sim))
    date = parsedate_to_datetime(resp.headers["date"])
    assert date == datetime(2026, 4, 22, 10, 0, 0, tzinfo=UTC)
    assert resp.headers["content-length"] == str(len(resp.content))
    sim.faults.clock_skew = -600
    skewed = parsedate_to_datetime(http.get(jobs_url(sim)).headers["date"])
    assert skewed == date - timedelta(seconds=600)
    assert abs((sim.now() - skewed).total_seconds()) < 1


def test_demo_sim_moves_with_the_wall_clock(demo_sim: Simulator, http: httpx.Client) -> None:
    before = {j["id"]: j["progress"] for j in http.get(jobs_url(demo_sim)).json()["data"]
              if j["state"] == "running"}
    assert len(before) >= 3
    threading.Event().wait(1.2)
    after = {j["id"]: j["progress"] for j in http.get(jobs_url(demo_sim)).json()["data"]}
    assert any(after[i] > p for i, p in before.items() if i in after)
    date = parsedate_to_datetime(http.get(jobs_url(demo_sim)).headers["date"])
    assert abs((date - datetime.now(UTC)).total_seconds()) < 5


# -- uploads ----------------------------------------------------------------------------------


def upload_url(sim: Simulator, http: httpx.Client, path: str) -> dict:
    resp = http.get(url(sim, "upload", "demo") + "/" + path)
    assert resp.status_code == 200
    return resp.json()


def test_upload_url_and_put_records_size_and_hash(sim: Simulator, http: httpx.Client) -> None:
    answer = upload_url(sim, http, "_graded/A001C001_260422_R3CK.mp4")
    assert set(answer) == {"url", "expiresAt"} and answer["expiresAt"].endswith("Z")
    target = urlsplit(answer["url"])
    assert target.hostname == "127.0.0.1" and target.port != sim.port
    assert sim.token not in answer["url"]
    payload = bytes(range(256)) * 4000
    sim.requests.clear()
    resp = http.put(answer["url"], content=payload,
                    headers={"Content-Type": "application/octet-stream"})
    assert resp.status_code == 200
    record = sim.uploads["_graded/A001C001_260422_R3CK.mp4"]
    assert record.size == len(payload)
    assert record.sha256 == hashlib.sha256(payload).hexdigest()
    assert record.content_type == "application/octet-stream"
    sent = sim.requests[-1]
    assert sent.method == "PUT" and sent.status == 200
    assert not any(sim.token in f"{k}: {v}" for k, v in sent.headers.items())


def test_upload_path_as_one_encoded_segment(sim: Simulator, http: httpx.Client) -> None:
    answer = upload_url(sim, http, quote("_thumbnails/A 1.jpg", safe=""))
    assert http.put(answer["url"], content=b"jpeg").status_code == 200
    assert sim.uploads["_thumbnails/A 1.jpg"].size == 4


def test_sink_refuses_chunked(sim: Simulator, http: httpx.Client) -> None:
    answer = upload_url(sim, http, "day.ale")
    resp = http.put(answer["url"], content=iter([b"abc", b"def"]))
    assert resp.status_code == 411
    assert "day.ale" not in sim.uploads


def test_sink_refuses_expired_and_forged_urls(sim: Simulator, http: httpx.Client) -> None:
    sim.faults.expire_urls = True
    answer = upload_url(sim, http, "day.ale")
    resp = http.put(answer["url"], content=b"x")
    assert resp.status_code == 403 and "expired" in resp.text
    sim.faults.expire_urls = False
    good = upload_url(sim, http, "day.ale")["url"]
    sim.advance(sim.url_lifetime + 1)
    assert http.put(good, content=b"x").status_code == 403
    forged = good.replace("day.ale", "other.ale")
    assert http.put(forged, content=b"x").status_code == 403
    assert sim.uploads == {}


def test_sink_fail_next_put_breaks_the_connection(sim: Simulator, http: httpx.Client) -> None:
    sim.faults.fail_next_put = 1
    answer = upload_url(sim, http, "_log/A.mp4")
    with pytest.raises(httpx.TransportError):
        http.put(answer["url"], content=b"z" * 2_000_000)
    assert "_log/A.mp4" not in sim.uploads
    assert http.put(answer["url"], content=b"z" * 1000).status_code == 200


# -- faults -----------------------------------------------------------------------------------


def test_drop_next_closes_the_connection(sim: Simulator, http: httpx.Client) -> None:
    sim.faults.drop_next = 1
    with pytest.raises(httpx.TransportError):
        http.get(jobs_url(sim))
    assert http.get(jobs_url(sim)).status_code == 200
    assert sim.faults.drop_next == 0


def test_error_rate_gives_500(sim: Simulator, http: httpx.Client) -> None:
    sim.faults.error_rate = 1.0
    resp = http.get(clips_url(sim))
    assert resp.status_code == 500
    assert resp.json() == {"error": {"message": "simulated server error"}}


def test_faults_parse() -> None:
    f = Faults.parse("latency=0.5, error_rate=0.1,drop_rate=0.2,clock_skew=-600,expire_urls")
    assert (f.latency, f.error_rate, f.drop_rate, f.clock_skew, f.expire_urls) == (
        0.5, 0.1, 0.2, -600.0, True)
    for bad in ("latency", "speed=3", "error_rate=2", "drop_next=x"):
        with pytest.raises(ValueError):
            Faults.parse(bad)


# -- lifecycle and data ------------------------------------------------------------------------


def test_stop_frees_ports_and_threads(http: httpx.Client) -> None:
    before = threading.active_count()
    sim = Simulator(realtime=True).start()
    port, sink_port = sim.port, sim.sink_port
    assert http.get(clips_url(sim)).status_code == 200  # leaves a keep-alive connection open
    sim.stop()
    assert threading.active_count() == before
    for p in (port, sink_port):
        with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", p)):
            pass
    with Simulator(realtime=False).start(port=port) as again:  # the port can be served again
        assert http.get(clips_url(again)).status_code == 200


def test_large_project_names_unique_and_deterministic() -> None:
    start = datetime(2026, 4, 22, tzinfo=UTC)
    clips = generate_clips(20000, 7, start)
    assert len(clips) == 20000
    assert list(clips) == list(generate_clips(20000, 7, start))
    assert max(c["date"] for c in clips.values()) == "20260422"


def test_sink_speed_limit_slows_the_put(http: httpx.Client) -> None:
    with Simulator(realtime=False, sink_bytes_per_second=1_000_000) as sim:
        answer = upload_url(sim, http, "slow.ale")
        started = time.monotonic()
        assert http.put(answer["url"], content=b"s" * 300_000).status_code == 200
        assert time.monotonic() - started >= 0.25


def test_latency_fault_delays_answers(sim: Simulator, http: httpx.Client) -> None:
    sim.faults.latency = 0.3
    started = time.monotonic()
    assert http.get(clips_url(sim)).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_sim_subcommand_serves_until_interrupted(http: httpx.Client) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "odailies_tui", "sim", "--clips", "5", "--fault", "clock_skew=60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        banner = []
        while not banner or not banner[-1].startswith("Ctrl-C"):
            banner.append(proc.stdout.readline())
            assert banner[-1], "sim exited early: " + proc.stderr.read()
        first = "".join(banner)
        base = banner[0].split(" on ", 1)[1].strip()
        assert base.startswith("http://127.0.0.1:") and base.endswith("/api/v2")
        resp = http.get(f"{base}/clips/demo/demo-token-rwu")
        assert resp.status_code == 200 and len(resp.json()["data"]) == 5
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "demo-token-rwu" in first + out and "Traceback" not in err
