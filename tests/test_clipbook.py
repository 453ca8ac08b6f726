"""ClipBook: server values under pending edits, reload merging, filter as you type."""

from __future__ import annotations

from odailies_tui.api.models import Clip
from odailies_tui.core.clipbook import ClipBook


def clip(name: str, **values: object) -> Clip:
    return Clip(name=name, values=dict(values))


def book_of(*clips: Clip) -> ClipBook:
    book = ClipBook()
    book.load(clips)
    return book


def test_names_sorted_and_values_exact() -> None:
    book = book_of(clip("B002", fps=23.976), clip("A001", fps=24), clip("B001"))
    assert book.names == ["A001", "B001", "B002"]
    assert book.value("B002", "fps") == 23.976
    assert book.value("A001", "name") == "A001"
    assert book.value("B001", "scene") is None


def test_pending_edit_shows_and_survives_reload() -> None:
    book = book_of(clip("A001", circled=False, rating=0, scene="1"))
    book.overlay["A001"] = {"circled": True}
    book.touch("A001")
    assert book.value("A001", "circled") is True
    assert book.circled_count == 1
    result = book.load([clip("A001", circled=False, rating=3, scene="1")])
    assert result.changed == {"A001"}
    assert book.value("A001", "circled") is True  # the pending edit is never overwritten
    assert book.value("A001", "rating") == 3  # other fields follow the server
    assert book.server_value("A001", "circled") is False


def test_reload_reports_added_and_removed() -> None:
    book = book_of(clip("A001"), clip("A002"))
    result = book.load([clip("A002"), clip("A003")])
    assert result.added == {"A003"}
    assert result.removed == {"A001"}
    assert result.reordered
    assert book.names == ["A002", "A003"]


def test_filter_over_searchable_fields_case_insensitive() -> None:
    book = book_of(
        clip("A001C001", scene="23", camera="A", reelName="A001", description="wide master"),
        clip("B001C001", scene="24", camera="B", reelName="B001", description="Insert hands"),
        clip("A002C001", scene="23A", camera="A", reelName="A002", lens="insert 50mm"),
    )
    assert book.set_filter("INSERT") == ["B001C001"]  # description, not lens
    assert book.set_filter("23") == ["A001C001", "A002C001"]
    assert book.set_filter("23a") == ["A002C001"]  # narrowing keeps working
    assert book.set_filter("b001") == ["B001C001"]
    assert book.set_filter("") == book.names


def test_filter_sees_pending_values() -> None:
    book = book_of(clip("A001", description="x"), clip("A002", description="x"))
    book.overlay["A002"] = {"description": "hero take"}
    book.touch("A002")
    assert book.set_filter("hero") == ["A002"]


def test_narrowing_and_widening_on_20k() -> None:
    book = book_of(*(clip(f"A{i:05d}", scene=str(i % 90)) for i in range(20000)))
    assert len(book.set_filter("A0")) == 10000
    assert len(book.set_filter("A01")) == 1000
    assert len(book.set_filter("A0")) == 10000  # backspace widens again


async def test_reload_answered_before_a_confirmed_patch_keeps_the_confirmed_value() -> None:
    """A GET that left before a PATCH was confirmed must not put the old value back."""

    class SlowClient:
        def __init__(self, book: ClipBook) -> None:
            self.book = book
            self.calls = 0

        async def list_clips(self) -> list[Clip]:
            self.calls += 1
            if self.calls == 1:
                self.book.set_server_values("A001", {"circled": True})  # confirmed meanwhile
                return [clip("A001", circled=False, rating=0)]  # answered before the PATCH
            return [clip("A001", circled=False, rating=2)]  # someone else changed it later

    book = book_of(clip("A001", circled=False, rating=0))
    book.client = SlowClient(book)  # type: ignore[assignment]
    await book.reload()
    assert book.value("A001", "circled") is True
    await book.reload()  # later reloads follow the server again
    assert book.value("A001", "circled") is False and book.value("A001", "rating") == 2
