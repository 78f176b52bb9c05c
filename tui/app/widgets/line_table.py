"""A virtual table on Textual's Line API: only the visible rows are ever rendered.

The stock DataTable materialises every cell and needs ~30 s for 100,000 rows on a 2-core
machine; this table keeps a plain Python sequence and renders the ~40 rows on screen, so its
cost does not depend on the row count (the model Toolong uses for huge logs). Cells are built
as literal `rich.text.Text` by the column functions: feed data is never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

T = TypeVar("T")


@dataclass(frozen=True)
class Column(Generic[T]):
    label: str
    width: int
    cell: Callable[[T], Text]
    justify: Literal["left", "right"] = "left"


class LineTable(ScrollView, Generic[T], can_focus=True):
    """Rows of any type, rendered by `Column.cell`; a row cursor; space toggles, enter opens."""

    DEFAULT_CSS = """
    LineTable {
        background: $surface;
        height: 1fr;
        scrollbar-size-vertical: 1;
        scrollbar-size-horizontal: 1;
    }
    LineTable > .line-table--header { text-style: bold; color: $text-primary; }
    LineTable > .line-table--cursor { background: $block-cursor-blurred-background; }
    LineTable:focus > .line-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    LineTable > .line-table--empty { color: $text-muted; text-style: italic; }
    """

    COMPONENT_CLASSES = {
        "line-table--header", "line-table--cursor", "line-table--empty",
    }

    BINDINGS = [
        Binding("space", "toggle", "Toggle", id="toggle"),
        Binding("enter", "open", "Open", id="open"),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up_rows", "Page up", show=False),
        Binding("pagedown", "page_down_rows", "Page down", show=False),
        Binding("left", "scroll_left", "Left", show=False),
        Binding("right", "scroll_right", "Right", show=False),
        Binding("home", "first_row", "First", show=False),
        Binding("end", "last_row", "Last", show=False),
    ]

    cursor: reactive[int] = reactive(0, always_update=True)

    class RowMessage(Message):
        """About one row of a LineTable (the owner maps the index to its model)."""

        def __init__(self, table: LineTable, index: int) -> None:
            super().__init__()
            self.table = table
            self.index = index

        @property
        def control(self) -> LineTable:
            return self.table

    class Highlighted(RowMessage):
        """The cursor moved to a row."""

    class Toggled(RowMessage):
        """Space on a row: the owner decides what toggling means."""

    class Opened(RowMessage):
        """Enter on a row."""

    def __init__(self, columns: Sequence[Column[T]] = (), *, empty_text: str = "",
                 name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns: list[Column[T]] = list(columns)
        self.rows: Sequence[T] = ()
        self.empty_text = empty_text

    # -- data -----------------------------------------------------------------------------------

    def set_columns(self, columns: Sequence[Column[T]]) -> None:
        self.columns = list(columns)
        self._update_virtual_size()
        self.refresh()

    def set_rows(self, rows: Sequence[T], cursor: int | None = None) -> None:
        """Replace the rows; O(1) in the number of rows (nothing is rendered here)."""
        self.rows = rows
        self._update_virtual_size()
        target = self.cursor if cursor is None else cursor
        self.cursor = max(0, min(target, len(rows) - 1))
        self.refresh()

    @property
    def row(self) -> T | None:
        if 0 <= self.cursor < len(self.rows):
            return self.rows[self.cursor]
        return None

    def refresh_rows(self) -> None:
        """Repaint the visible rows (after the owner changed what a row shows)."""
        self.refresh()

    def _total_width(self) -> int:
        return sum(c.width for c in self.columns) + max(len(self.columns) - 1, 0)

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self._total_width(), len(self.rows) + 1)

    # -- rendering --------------------------------------------------------------------------

    def _line(self, cells: list[Text], style: Style | str = "") -> Text:
        line = Text(style=style, end="", no_wrap=True)
        for n, (column, cell) in enumerate(zip(self.columns, cells, strict=False)):
            if n:
                line.append(" ")
            cell = cell.copy()
            cell.truncate(column.width, overflow="ellipsis", pad=False)
            pad = column.width - cell.cell_len
            if column.justify == "right":
                line.append(" " * pad)
                line.append_text(cell)
            else:
                line.append_text(cell)
                line.append(" " * pad)
        return line

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if y == 0:
            header = self.get_component_rich_style("line-table--header")
            text = self._line([Text(c.label) for c in self.columns], header)
        else:
            index = scroll_y + y - 1
            if index >= len(self.rows):
                if index == 0 and self.empty_text:
                    style = self.get_component_rich_style("line-table--empty")
                    text = Text(self.empty_text, style=style, end="", no_wrap=True)
                    return self._strip(text, base).crop_extend(0, width, base)
                return Strip.blank(width, base)
            row = self.rows[index]
            style: Style | str = ""
            if index == self.cursor:
                style = self.get_component_rich_style("line-table--cursor")
            text = self._line([c.cell(row) for c in self.columns], style)
        strip = self._strip(text, base)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _strip(self, text: Text, base: Style) -> Strip:
        segments = [
            Segment(seg.text, base + seg.style if seg.style else base, seg.control)
            for seg in text.render(self.app.console)
        ]
        return Strip(segments)

    # -- cursor -------------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_cursor_into_view()
        self.refresh()
        if self.rows:
            self.post_message(self.Highlighted(self, new))

    def _scroll_cursor_into_view(self) -> None:
        top = round(self.scroll_offset.y)
        visible = max(self.size.height - 1 - (1 if self.show_horizontal_scrollbar else 0), 1)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False)

    def _page(self) -> int:
        return max(self.size.height - 2, 1)

    def action_cursor_up(self) -> None:
        self.cursor = max(self.cursor - 1, 0)

    def action_cursor_down(self) -> None:
        self.cursor = min(self.cursor + 1, max(len(self.rows) - 1, 0))

    def action_page_up_rows(self) -> None:
        self.cursor = max(self.cursor - self._page(), 0)

    def action_page_down_rows(self) -> None:
        self.cursor = min(self.cursor + self._page(), max(len(self.rows) - 1, 0))

    def action_first_row(self) -> None:
        self.cursor = 0

    def action_last_row(self) -> None:
        self.cursor = max(len(self.rows) - 1, 0)

    def action_toggle(self) -> None:
        if self.rows:
            self.post_message(self.Toggled(self, self.cursor))

    def action_open(self) -> None:
        if self.rows:
            self.post_message(self.Opened(self, self.cursor))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return
        index = round(self.scroll_offset.y) + offset.y - 1
        if 0 <= index < len(self.rows):
            self.focus()
            self.cursor = index
