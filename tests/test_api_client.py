"""The API client against the simulator over real loopback HTTP: every endpoint, every error."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from odailies_tui.api import (
    ApiTimeout,
    InvalidToken,
    MethodNotAllowed,
    NetworkError,
    ODailiesClient,
    PermissionDenied,
    ServerError,
    ValidationError,
)
from odailies_tui.api.models import Job
from odailies_tui.sim import Simulator

ODD_NAME = "Take #2 50%/final"


def client_for(sim: Simulator, token: str | None = None, **kwargs) -> ODailiesClient:
    return ODailiesClient(sim.base_url, sim.project_id, token or sim.token, **kwargs)


async def test_list_clips_sorted_with_exact_fps(sim: Simulator) -> None:
    async with client_for(sim) as client:
        clips = await client.list_clips()
    names = [c.name for c in clips]
    assert names == sorted(names) and len(names) == len(sim.clips)
    fps_values = {c.get("fps") for c in clips}
    assert 23.976 in fps_values  # kept exact, never rounded


async def test_patch_and_get_clip_with_odd_name_is_one_segment(sim: Simulator) -> None:
    async with client_for(sim) as client:
        result = await client.patch_clips([{"name": ODD_NAME, "scene": "22", "take": "2"}])
        assert result.updated == 1 and result.keys == [ODD_NAME]
        clip = await client.get_clip(ODD_NAME)
    assert clip.name == ODD_NAME and clip.get("scene") == "22"
    gets = [r for r in sim.requests if r.method == "GET" and "Take" in r.path]
    assert gets and "Take%20%232%2050%25%2Ffinal" in gets[-1].path


async def test_patch_writes_only_named_fields(sim: Simulator) -> None:
    name = sorted(sim.clips)[0]
    before = dict(sim.clips[name])
    async with client_for(sim) as client:
        await client.patch_clips([{"name": name, "circled": True, "rating": 4}])
    after = sim.clips[name]
    assert after["circled"] is True and after["rating"] == 4
    assert {k: v for k, v in after.items() if k not in ("circled", "rating")} == {
        k: v for k, v in before.items() if k not in ("circled", "rating")}


@pytest.mark.parametrize("bad", ["2026-04-22", "20261340", "20260230", "2026042", "April 22", ""])
async def test_bad_date_refused_before_sending(sim: Simulator, bad: str) -> None:
    name = sorted(sim.clips)[0]
    sim.requests.clear()
    async with client_for(sim) as client:
        with pytest.raises(ValidationError, match="date"):
            await client.patch_clips([{"name": name, "date": bad}])
    assert not [r for r in sim.requests if r.method == "PATCH"]


async def test_local_validation_of_keys_rating_and_duplicates(sim: Simulator) -> None:
    async with client_for(sim) as client:
        with pytest.raises(ValidationError, match="unknown clip property"):
            await client.patch_clips([{"name": "A", "colour": "red"}])
        with pytest.raises(ValidationError, match="rating"):
            await client.patch_clips([{"name": "A", "rating": 6}])
        with pytest.raises(ValidationError, match="twice"):
            await client.patch_clips([{"name": "A", "take": "1"}, {"name": "A", "take": "2"}])
        with pytest.raises(ValidationError, match="progress"):
            await client.patch_jobs([{"id": "x", "progress": 1.5}])


async def test_server_refusal_carries_its_message(sim: Simulator) -> None:
    """Bypass local validation to see the service's own 400 come back typed."""
    async with client_for(sim) as client:
        url = client._url("clips")
        response = await client._http.patch(url, json={"data": [{"name": "A", "bogus": 1}]})
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "bogus" in message


async def test_jobs_full_then_since_with_offset(sim: Simulator) -> None:
    async with client_for(sim) as client:
        full = await client.list_jobs()
        assert full.jobs and full.server_time is not None
        created = [j.creation_date for j in full.jobs if j.creation_date]
        assert created == sorted(created, reverse=True)  # newest first
        # a since in +02:00 must be percent-encoded ('+' raw would arrive as a space)
        since = (full.server_time + timedelta(seconds=1)).astimezone(timezone(timedelta(hours=2)))
        sim.requests.clear()
        quiet = await client.list_jobs(since=since)
        assert quiet.jobs == []
        assert "%2B02%3A00" in sim.requests[-1].query
        running = next(j for j in full.jobs if j.state == "running")
        sim.advance(3)
        later = await client.list_jobs(since=since)
    assert running.id in {j.id for j in later.jobs}
    assert later.nbytes < full.nbytes


async def test_unknown_fields_and_states_are_kept(sim: Simulator) -> None:
    job_id = sim.add_job(type="TeleportJob", state="dematerializing", name="odd")
    with sim.lock:
        sim.jobs[job_id]["warp"] = 9  # a field the contract does not list
    async with client_for(sim) as client:
        job = await client.get_job(job_id)
        page = await client.list_jobs()
    assert job.type == "TeleportJob" and job.state == "dematerializing"
    assert job.extra.get("warp") == 9
    assert any(j.id == job_id for j in page.jobs)


def test_job_model_readflag_and_times() -> None:
    base = {"id": "1", "type": "CopyJob", "state": "running", "progress": 0.5}
    assert Job.from_api({**base, "readFlag": 1}).read is True
    assert Job.from_api({**base, "readFlag": True}).read is True
    assert Job.from_api({**base, "readFlag": 0}).read is False
    assert Job.from_api({**base, "readFlag": False}).read is False
    job = Job.from_api({**base, "creationDate": "2026-04-22T11:02:25+02:00",
                        "startDate": "2026-04-22T09:02:26Z"})
    assert job.creation_date == datetime(2026, 4, 22, 9, 2, 25, tzinfo=UTC)
    with pytest.raises(Exception, match="zone"):
        Job.from_api({**base, "creationDate": "2026-04-22T11:02:25"})


async def test_patch_jobs_and_upload_url(sim: Simulator) -> None:
    job_id = next(iter(sim.jobs))
    async with client_for(sim) as client:
        result = await client.patch_jobs([{"id": job_id, "readFlag": True}])
        ticket = await client.upload_url("_thumbnails/A001C001_260422_R3CK.jpg")
    assert result.keys == [job_id] and sim.jobs[job_id]["readFlag"] == 1
    assert ticket.url.startswith("http://127.0.0.1:") and sim.token not in ticket.url
    assert ticket.expires_at is not None and ticket.expires_at.tzinfo is not None


async def test_error_codes_are_typed_with_messages(sim: Simulator) -> None:
    async with client_for(sim, token="not-a-real-token") as client:
        with pytest.raises(InvalidToken) as bad:
            await client.list_jobs()
    assert bad.value.status == 401 and bad.value.message
    async with client_for(sim, token=sim.readonly_token) as client:
        clips = await client.list_clips()
        with pytest.raises(PermissionDenied) as denied:
            await client.patch_clips([{"name": clips[0].name, "circled": True}])
        with pytest.raises(PermissionDenied):
            await client.upload_url("_graded/x.mp4")
    assert denied.value.status == 403 and denied.value.message
    async with client_for(sim) as client:
        response = await client._http.delete(client._url("clips"))
        assert response.status_code == 405
        with pytest.raises(MethodNotAllowed):
            await client._request("DELETE", "clips")
        sim.faults.error_rate = 1.0
        with pytest.raises(ServerError) as failed:
            await client.list_jobs()
    assert failed.value.status == 500 and "simulated" in failed.value.message


async def test_network_error_and_timeout(sim: Simulator) -> None:
    port_url = sim.base_url
    sim.stop()
    async with ODailiesClient(port_url, "demo", "tok-12345678") as client:
        with pytest.raises(NetworkError) as down:
            await client.list_jobs()
    assert "tok-12345678" not in str(down.value) and "tok-12345678" not in repr(down.value)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with ODailiesClient("http://127.0.0.1:9/api/v2", "demo", "tok-12345678",
                              transport=httpx.MockTransport(slow)) as client:
        with pytest.raises(ApiTimeout):
            await client.list_clips()


async def test_token_never_in_logs_or_errors(sim: Simulator, caplog) -> None:
    token = "sekrit-Token/with+odd%chars"
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "odailies_tui"):
        caplog.set_level(logging.DEBUG, logger=name)
    async with client_for(sim, token=token) as client:
        with pytest.raises(InvalidToken) as exc:
            await client.list_jobs()
    texts = [caplog.text, str(exc.value), repr(exc.value), repr(client)]
    assert caplog.records  # something was logged at DEBUG
    for text in texts:
        assert token not in text
        assert "sekrit-Token%2Fwith%2Bodd%25chars" not in text
        assert "sekrit" not in text


def test_since_is_sent_as_utc_or_offset_and_parsed_back() -> None:
    from odailies_tui.api.client import format_since

    assert format_since(datetime(2026, 4, 22, 10, 0, tzinfo=UTC)) == "2026-04-22T10:00:00Z"
    plus2 = datetime(2026, 4, 22, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert format_since(plus2) == "2026-04-22T12:00:00+02:00"
    assert json.dumps(format_since(plus2))
