"""EditQueue against the simulator over loopback: coalescing, batching, refusals, retries,
the journal, undo and repeat."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from odailies_tui.api.client import ODailiesClient
from odailies_tui.api.errors import ValidationError
from odailies_tui.core.clipbook import ClipBook
from odailies_tui.core.edits import NO_WRITE, READ_ONLY_MESSAGE, EditQueue, ReadOnlyToken
from odailies_tui.core.journal import Journal
from odailies_tui.sim import Simulator


def clip_patches(sim: Simulator) -> list[list[dict]]:
    """Bodies of every clip PATCH the simulator answered (dropped ones excluded)."""
    return [json.loads(r.body)["data"] for r in sim.requests
            if r.method == "PATCH" and r.path.startswith("/api/v2/clips/") and r.status]


async def make_queue(sim: Simulator, tmp_path: Path, *, token: str | None = None,
                     **kwargs: object) -> EditQueue:
    client = ODailiesClient(sim.base_url, sim.project_id, token or sim.token, retries=0)
    book = ClipBook(client)
    await book.reload()
    journal = Journal(tmp_path / "journal.json", sim.project_id)
    options = {"debounce": 0.05, "max_wait": 1.0, "backoff": (0.05, 0.2)}
    options.update(kwargs)
    return EditQueue(client, book, journal, **options)  # type: ignore[arg-type]


async def settle(queue: EditQueue, timeout: float = 3.0) -> None:
    """Wait until nothing is scheduled or running."""
    deadline = asyncio.get_running_loop().time() + timeout
    while queue.busy:
        assert asyncio.get_running_loop().time() < deadline, "edits never settled"
        await asyncio.sleep(0.02)


async def test_edits_show_at_once_then_one_bulk_patch(sim: Simulator, tmp_path: Path) -> None:
    queue = await make_queue(sim, tmp_path)
    names = [n for n in queue.book.names if not sim.clips[n]["circled"]][:20]
    assert len(names) == 20
    for name in names:
        queue.edit([name], {"circled": True})
    queue.edit([names[0]], {"rating": 4})
    # optimistic: visible now, pending, journaled, nothing sent yet
    assert all(queue.book.value(n, "circled") is True for n in names)
    assert queue.status(names[0]) == "pending"
    assert queue.unsent_count == 20
    assert json.loads(queue.journal.path.read_text())["edits"][names[0]] == {
        "circled": True, "rating": 4}
    assert clip_patches(sim) == []
    await settle(queue)
    patches = clip_patches(sim)
    assert len(patches) == 1
    sent_names = [item["name"] for item in patches[0]]
    assert sorted(sent_names) == sorted(names)  # each clip once
    assert patches[0][sent_names.index(names[0])] == {"name": names[0], "circled": True,
                                                       "rating": 4}
    assert all(sim.clips[n]["circled"] is True for n in names)
    assert sim.clips[names[0]]["rating"] == 4
    assert queue.unsent_count == 0 and queue.status(names[0]) == ""
    assert not queue.journal.path.exists()  # nothing left to replay
    await queue.client.aclose()


async def test_bad_value_is_refused_locally_and_nothing_queued(sim: Simulator,
                                                               tmp_path: Path) -> None:
    queue = await make_queue(sim, tmp_path)
    name = queue.book.names[0]
    for bad in ({"date": "2026-04-22"}, {"date": "20260231"}, {"rating": 6},
                {"fps": "fast"}, {"nonsense": 1}):
        with pytest.raises(ValidationError):
            queue.edit([name], bad)
    assert queue.unsent_count == 0
    await asyncio.sleep(0.1)
    assert clip_patches(sim) == []
    await queue.client.aclose()


async def test_read_only_token_refused_with_message_and_value_restored(
        sim: Simulator, tmp_path: Path) -> None:
    queue = await make_queue(sim, tmp_path, token=sim.readonly_token)
    name = queue.book.names[1]
    before = dict(sim.clips[name])
    queue.edit([name], {"circled": not before["circled"]})
    await settle(queue)
    assert queue.read_only
    assert queue.status(name) == "refused"
    refusal = queue.refusal_for(name)
    assert refusal is not None and refusal.message == READ_ONLY_MESSAGE  # said once, clearly
    assert refusal.message.count(NO_WRITE) == 1 and "(" not in refusal.message
    assert queue.book.value(name, "circled") is before["circled"]  # server value again
    assert sim.clips[name] == before
    with pytest.raises(ReadOnlyToken):
        queue.edit([name], {"rating": 2})
    assert queue.dismiss_refusals() == {name}
    assert queue.status(name) == ""
    await queue.client.aclose()


async def test_network_error_keeps_edit_and_retries(sim: Simulator, tmp_path: Path) -> None:
    queue = await make_queue(sim, tmp_path)
    name = queue.book.names[2]
    port = sim.port
    sim.stop()
    queue.edit([name], {"rating": 3, "description": "keeper"})
    await asyncio.sleep(0.3)  # a few failed attempts with back-off
    assert queue.unsent_count == 1
    assert queue.last_error
    assert queue.busy  # a retry is scheduled
    assert json.loads(queue.journal.path.read_text())["edits"][name]["rating"] == 3
    sim.start(port=port)
    await settle(queue)
    assert sim.clips[name]["rating"] == 3 and sim.clips[name]["description"] == "keeper"
    assert queue.unsent_count == 0 and not queue.refusals
    await queue.client.aclose()


async def test_journal_replayed_by_a_new_queue(sim: Simulator, tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    Journal(path, sim.project_id).save({"A001C002_260422_R3CK": {"circled": True, "rating": 5}})
    queue = await make_queue(sim, tmp_path)
    assert queue.restore() == 1
    assert queue.book.value("A001C002_260422_R3CK", "rating") == 5
    queue.schedule(0)
    await settle(queue)
    assert sim.clips["A001C002_260422_R3CK"]["rating"] == 5
    assert not path.exists()
    await queue.client.aclose()


def test_broken_journal_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    path.write_text("{not json")
    assert Journal(path).load() == {}
    assert path.with_suffix(".broken").exists()


async def test_undo_sends_previous_values_and_repeat_applies_last(sim: Simulator,
                                                                  tmp_path: Path) -> None:
    queue = await make_queue(sim, tmp_path)
    first, second = queue.book.names[3], queue.book.names[4]
    old = dict(sim.clips[first])
    queue.edit([first], {"circled": True, "rating": 5, "scene": "99"})
    await settle(queue)
    assert sim.clips[first]["scene"] == "99"
    queue.repeat([second])
    await settle(queue)
    assert sim.clips[second]["circled"] is True and sim.clips[second]["rating"] == 5
    queue.undo()  # the repeat
    queue.undo()  # the first edit
    await settle(queue)
    assert sim.clips[first] == old
    assert queue.book.value(first, "scene") == old["scene"]


async def test_undo_before_sending_sends_nothing(sim: Simulator, tmp_path: Path) -> None:
    queue = await make_queue(sim, tmp_path, debounce=0.2)
    name = queue.book.names[5]
    queue.toggle_circled(name)
    queue.undo()
    assert queue.unsent_count == 0
    await asyncio.sleep(0.4)
    assert clip_patches(sim) == []
    await queue.client.aclose()


async def test_bad_request_in_a_batch_refuses_only_that_clip(sim: Simulator,
                                                             tmp_path: Path) -> None:
    """A 400 the client could not foresee: the batch is resent clip by clip."""
    bodies: list[list[dict]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        items = json.loads(request.content)["data"]
        bodies.append(items)
        if any(item["name"] == "BAD" for item in items):
            return httpx.Response(400, json={"error": {"message": "data[0]: no such reel"}})
        return httpx.Response(200, json={"data": {"updated": len(items), "projectId": "p",
                                                  "names": [i["name"] for i in items]}})

    client = ODailiesClient("http://127.0.0.1:9/api/v2", "p", "tok",
                            transport=httpx.MockTransport(handler))
    queue = EditQueue(client, ClipBook(client), Journal(tmp_path / "j.json"), debounce=0.01)
    queue.edit(["GOOD", "BAD"], {"reelName": "A009"})
    await settle(queue)
    assert len(bodies) == 3  # the batch, then one per clip
    assert queue.status("GOOD") == "" and queue.status("BAD") == "refused"
    refusal = queue.refusal_for("BAD")
    assert refusal is not None and refusal.message == "data[0]: no such reel"
    await client.aclose()


async def test_known_read_only_token_refuses_locally_without_sending(sim: Simulator,
                                                                    tmp_path: Path) -> None:
    known: list[bool | None] = [None]
    queue = await make_queue(sim, tmp_path, can_write=lambda: known[0])
    name = queue.book.names[1]
    before = dict(sim.clips[name])
    assert not queue.read_only  # not known yet: edits go ahead
    known[0] = False  # the job actions' probe found a read-only token
    assert queue.read_only
    with pytest.raises(ReadOnlyToken, match="edits are not possible; browsing works"):
        queue.edit([name], {"circled": not before["circled"]})
    assert queue.unsent_count == 0 and not queue.refusals and not queue.undo_stack
    assert queue.book.value(name, "circled") is before["circled"]
    await asyncio.sleep(0.15)
    assert clip_patches(sim) == []
    await queue.client.aclose()


async def test_cleared_date_is_refused_and_undo_never_sends_an_empty_date(
        sim: Simulator, tmp_path: Path) -> None:
    queue = await make_queue(sim, tmp_path)
    name = queue.book.names[6]
    with pytest.raises(ValidationError, match="cannot be cleared"):
        queue.edit([name], {"date": ""})
    assert queue.unsent_count == 0
    with sim.lock:
        sim.clips[name]["date"] = None  # a clip the service holds no date for
    await queue.book.reload()
    old_take = sim.clips[name]["take"]
    queue.edit([name], {"date": "20260501", "take": "7"})
    await settle(queue)
    assert sim.clips[name]["date"] == "20260501"
    queue.undo()  # the take goes back; the date cannot be cleared, so it is not sent
    await settle(queue)
    sent = clip_patches(sim)
    assert all(item.get("date") != "" for body in sent for item in body)
    assert not queue.refusals
    assert sent[-1] == [{"name": name, "take": old_take}]
    await queue.client.aclose()
