"""FastTable: a keyboard-driven table that paints only the rows on screen (Textual Line API).

Rows are keys into the caller's own data; a ``row_cells`` callback renders one row on demand, so
20,000 or 200,000 rows cost the same per frame. Rendered rows are cached per key until
``refresh_row`` (a change) or a resize. Columns with the lowest ``priority`` give way first when
the terminal is narrow.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cell = str | Text
_GAP = Segment(" ")
RowKey = Hashable


@dataclass(frozen=True, slots=True)
class Column:
    """One column: ``width`` cells (the minimum, for a ``flex`` column); lower ``priority``
    columns are hidden first when space runs out."""

    key: str
    label: str
    width: int
    priority: int = 50
    flex: bool = False
    justify: str = "left"


class FastTable(ScrollView, can_focus=True):
    """A virtual table: header line plus one line per row key."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,ctrl+home", "jump(0)", "First", show=False),
        Binding("end,ctrl+end", "jump(-1)", "Last", show=False),
    ]

    COMPONENT_CLASSES = {
        "fast-table--header",
        "fast-table--cursor",
        "fast-table--cursor-blur",
    }

    DEFAULT_CSS = """
    FastTable {
        background: $surface;
        height: 1fr;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    FastTable > .fast-table--header { text-style: bold; background: $panel; color: $text; }
    FastTable > .fast-table--cursor { background: $accent 45%; text-style: bold; }
    FastTable > .fast-table--cursor-blur { background: $accent 20%; }
    """

    class Highlighted(Message):
        """The cursor moved to another row."""

        def __init__(self, table: FastTable, key: RowKey | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> FastTable:
            return self.table

    class Activated(Message):
        """``enter`` was pressed on a row."""

        def __init__(self, table: FastTable, key: RowKey) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> FastTable:
            return self.table

    def __init__(
        self,
        columns: Sequence[Column],
        row_cells: Callable[[RowKey], Mapping[str, Cell]],
        *,
        row_style: Callable[[RowKey], str | Style | None] | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = list(columns)
        self._row_cells = row_cells
        self._row_style = row_style
        self._keys: list[RowKey] = []
        self._index: dict[RowKey, int] = {}
        self._cursor = 0
        self._cache: dict[RowKey, Strip] = {}
        self._visible: list[Column] = list(columns)
        self._widths: list[int] = [c.width for c in columns]
        self._layout_width = -1
        self._styles: tuple[Style, Style, Style, Style] | None = None
        self._size_key: tuple[object, ...] | None = None
        #: shown (dim) in the first row while there are no rows, e.g. "no jobs match"
        self.empty_text = ""

    # -- data -------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def keys(self) -> list[RowKey]:
        """Row keys in display order (do not mutate)."""
        return self._keys

    @property
    def visible_columns(self) -> list[Column]:
        return list(self._visible)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def cursor_key(self) -> RowKey | None:
        """The key under the cursor, or None when the table is empty."""
        return self._keys[self._cursor] if self._keys else None

    def set_rows(self, keys: Sequence[RowKey], *, keep_cursor: bool = True) -> None:
        """Show ``keys`` in this order. The cursor stays on the same key when it is still
        present (else on the same position)."""
        current = self.cursor_key if keep_cursor else None
        self._keys = list(keys)
        self._index = {k: i for i, k in enumerate(self._keys)}
        if current is not None and current in self._index:
            self._cursor = self._index[current]
        else:
            self._cursor = min(self._cursor, max(len(self._keys) - 1, 0))
        self._cache = {k: v for k, v in self._cache.items() if k in self._index}
        self.virtual_size = Size(self.size.width, len(self._keys) + 1)
        self._scroll_cursor_into_view()
        self.refresh()
        if self.cursor_key != current:
            self.post_message(self.Highlighted(self, self.cursor_key))

    def refresh_row(self, key: RowKey) -> None:
        """Re-render one row (its data changed); repaints only if it is on screen."""
        self._cache.pop(key, None)
        index = self._index.get(key)
        if index is None:
            return
        y = index + 1 - int(self.scroll_offset.y)
        if 1 <= y < self.size.height:
            self.refresh_lines(index + 1, 1)  # takes virtual lines: it subtracts the scroll

    def refresh_changed(self, keys: Iterable[RowKey]) -> int:
        """Re-render rows whose data may have changed, repainting only the on-screen lines
        whose rendered cells really differ (a running job's row often looks the same from
        one poll to the next). Returns how many lines were repainted."""
        width = self.size.width
        first = int(self.scroll_offset.y)
        last = first + self.size.height - 1  # rows [first, last) are on screen
        index_of = self._index
        cache = self._cache
        repainted = 0
        for key in keys:
            index = index_of.get(key)
            if index is None or not first <= index < last or width <= 0:
                cache.pop(key, None)
                continue
            old = cache.pop(key, None)
            new = self._render_row(key, index)
            cache[key] = new
            if old is None or new != old:
                self.refresh_lines(index + 1, 1)
                repainted += 1
        return repainted

    def refresh_rows(self, keys: Sequence[RowKey] | None = None) -> None:
        """Re-render some rows, or every row when ``keys`` is None."""
        if keys is None:
            self._cache.clear()
            self.refresh()
            return
        for key in keys:
            self.refresh_row(key)

    def move_to_key(self, key: RowKey) -> bool:
        """Put the cursor on ``key``; False when it is not shown."""
        index = self._index.get(key)
        if index is None:
            return False
        self._set_cursor(index)
        return True

    # -- cursor -----------------------------------------------------------------------------

    def _set_cursor(self, index: int) -> None:
        if not self._keys:
            return
        index = max(0, min(index, len(self._keys) - 1))
        if index == self._cursor:
            return
        old = self._cursor
        self._cursor = index
        for i in (old, index):
            if 0 <= i < len(self._keys):
                self._cache.pop(self._keys[i], None)
        self._scroll_cursor_into_view()
        self.refresh()
        self.post_message(self.Highlighted(self, self.cursor_key))

    def _scroll_cursor_into_view(self) -> None:
        body = max(self.size.height - 1, 1)
        top = int(self.scroll_offset.y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, immediate=True)
        elif self._cursor >= top + body:
            self.scroll_to(y=self._cursor - body + 1, animate=False, immediate=True)

    def action_cursor(self, delta: int) -> None:
        self._set_cursor(self._cursor + delta)

    def action_page(self, direction: int) -> None:
        self._set_cursor(self._cursor + direction * max(self.size.height - 2, 1))

    def action_jump(self, where: int) -> None:
        self._set_cursor(0 if where == 0 else len(self._keys) - 1)

    def key_enter(self) -> None:
        if self.cursor_key is not None:
            self.post_message(self.Activated(self, self.cursor_key))

    def on_focus(self) -> None:
        self._invalidate_cursor()

    def on_blur(self) -> None:
        self._invalidate_cursor()

    def _invalidate_cursor(self) -> None:
        if self._keys:
            self._cache.pop(self._keys[self._cursor], None)
            self.refresh()

    # -- layout -----------------------------------------------------------------------------

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size,
                      layout: bool = True) -> bool:
        # ScrollView compares the container size the compositor passes (scrollbar excluded)
        # with its own (scrollbar included), so every screen layout (a toast coming or going)
        # would rebuild and repaint the scrollbar; skip when nothing it depends on changed.
        key = (size, container_size, self.virtual_size, self.show_vertical_scrollbar)
        if key == self._size_key and size == self._size:
            return False
        self._size_key = key
        return super()._size_updated(size, virtual_size, container_size, layout)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self._keys) + 1)
        self._layout(self.size.width)
        self._scroll_cursor_into_view()

    def _layout(self, width: int) -> None:
        if width == self._layout_width:
            return
        self._layout_width = width
        usable = max(width - 1, 1)  # the vertical scrollbar
        visible = list(self.columns)

        def needed(cols: list[Column]) -> int:
            return sum(c.width for c in cols) + max(len(cols) - 1, 0)

        while len(visible) > 1 and needed(visible) > usable:
            visible.remove(min(visible, key=lambda c: c.priority))
        widths = [c.width for c in visible]
        spare = usable - needed(visible)
        flex = [i for i, c in enumerate(visible) if c.flex]
        if spare > 0 and flex:
            share, extra = divmod(spare, len(flex))
            for n, i in enumerate(flex):
                widths[i] += share + (1 if n < extra else 0)
        elif spare < 0 and visible:
            widths[0] = max(widths[0] + spare, 4)
        self._visible = visible
        self._widths = widths
        self._cache.clear()
        self.refresh()

    # -- painting ---------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._cache.clear()

    def _paint_styles(self) -> tuple[Style, Style, Style, Style]:
        """(base, header, cursor, cursor without focus), cached until the styles change."""
        if self._styles is None:
            base = self.rich_style
            self._styles = (
                base,
                base + self.get_component_rich_style("fast-table--header"),
                base + self.get_component_rich_style("fast-table--cursor"),
                base + self.get_component_rich_style("fast-table--cursor-blur"),
            )
        return self._styles

    def _line(self, cells: Mapping[str, Cell] | None, style: Style) -> Strip:
        """One table line: each cell cut or padded to its column, under ``style``."""
        console = self.app.console
        segments: list[Segment] = []
        for n, (column, width) in enumerate(zip(self._visible, self._widths, strict=True)):
            if n:
                segments.append(_GAP)
            raw = column.label if cells is None else cells.get(column.key, "")
            if isinstance(raw, Text):
                if raw.cell_len > width:
                    raw = raw.copy()
                    raw.truncate(width, overflow="ellipsis")
                parts = list(raw.render(console, end=""))
                if raw.style:  # render() leaves the Text's own style to the caller
                    parts = list(Segment.apply_style(parts, console.get_style(raw.style)))
                used = raw.cell_len
            else:
                text = str(raw)
                used = cell_len(text)
                if used > width:
                    text = set_cell_size(text, max(width - 1, 0)) + "…" if width else ""
                    used = width
                parts = [Segment(text)]
            pad = width - used
            if pad > 0 and column.justify == "right":
                segments.append(Segment(" " * pad))
                segments.extend(parts)
            else:
                segments.extend(parts)
                if pad > 0:
                    segments.append(Segment(" " * pad))
        total = sum(self._widths) + max(len(self._widths) - 1, 0)
        strip = Strip(segments, total).extend_cell_length(self.size.width)
        return strip.apply_style(style).simplify()

    def render_line(self, y: int) -> Strip:
        self._layout(self.size.width)
        width = self.size.width
        base, header, cursor, cursor_blur = self._paint_styles()
        if y == 0:
            return self._line(None, header).crop(0, width)
        index = int(self.scroll_offset.y) + y - 1
        if index >= len(self._keys):
            if index == 0 and self.empty_text:
                note = Segment(set_cell_size(f" {self.empty_text}", width),
                               base + Style(dim=True, italic=True))
                return Strip([note], width)
            return Strip([Segment(" " * width, base)], width)
        key = self._keys[index]
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        strip = self._render_row(key, index)
        self._cache[key] = strip
        return strip

    def _render_row(self, key: RowKey, index: int) -> Strip:
        """Row ``key`` (at ``index``) as a line, with its row and cursor styles."""
        self._layout(self.size.width)
        base, _header, cursor, cursor_blur = self._paint_styles()
        style = base
        if self._row_style is not None:
            extra = self._row_style(key)
            if extra:
                style = style + (Style.parse(extra) if isinstance(extra, str) else extra)
        if index == self._cursor:
            style = style + (cursor if self.has_focus else cursor_blur)
        return self._line(self._row_cells(key), style).crop(0, self.size.width)
