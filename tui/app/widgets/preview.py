"""The live KQL preview: highlighted query blocks, bounded, and the plan's warnings.

Huge lists are cut to their first values for display only (copy and export always take the
full text), so a 100,000-IOC hunt highlights a few kilobytes, not megabytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from ...core.planner import RULE_CHARACTER_LIMIT, QueryPlan
from ..highlight import highlight_kql
from ..text import safe_text

PREVIEW_VALUES = 25  # values shown per let list


@dataclass(frozen=True)
class PreviewBlock:
    target: str
    characters: int
    code: Content  # highlighted, bounded text


def build_blocks(result: QueryPlan) -> list[PreviewBlock]:
    """Runs in a worker thread: bounded render + highlight of every block."""
    return [
        PreviewBlock(q.target, q.characters, highlight_kql(q.render(max_values=PREVIEW_VALUES)))
        for q in result.queries
    ]


class Preview(VerticalScroll, can_focus=True):
    """Scrollable, focusable; `current` is the block `y` copies."""

    DEFAULT_CSS = """
    Preview { height: 1fr; background: $surface; }
    Preview > #preview-code { width: auto; min-width: 100%; }
    """

    current: reactive[int] = reactive(0)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.blocks: list[PreviewBlock] = []
        self._offsets: list[int] = []

    def compose(self) -> ComposeResult:
        yield Static(Content("no query yet"), id="preview-code", markup=False)

    def show(self, blocks: list[PreviewBlock]) -> None:
        self.blocks = blocks
        self.current = min(self.current, max(len(blocks) - 1, 0))
        self._render_blocks()

    def _render_blocks(self) -> None:
        parts: list[Content] = []
        self._offsets = []
        line = 0
        total = len(self.blocks)
        for n, block in enumerate(self.blocks):
            marker = "▶" if n == self.current else " "
            over = block.characters > RULE_CHARACTER_LIMIT
            title = (f"{marker} block {n + 1}/{total} · {block.target} · "
                     f"{block.characters:,} characters"
                     + (" (over the 10,000-character rule limit)" if over else ""))
            style = "bold $text-warning" if over else (
                "bold $text-accent" if n == self.current else "bold $text-muted")
            self._offsets.append(line)
            parts.append(Content.styled(title, style))
            parts.append(block.code)
            line += 1 + len(block.code.plain.splitlines()) + 1
        body = Content("\n").join(parts) if parts else Content(
            "no query: switch IOCs and targets on to build one")
        self.query_one("#preview-code", Static).update(body)

    def watch_current(self, old: int, new: int) -> None:
        if self.blocks:
            self._render_blocks()
            if new < len(self._offsets):
                self.scroll_to(y=self._offsets[new], animate=False)

    def step(self, delta: int) -> None:
        if self.blocks:
            self.current = (self.current + delta) % len(self.blocks)


def warnings_text(result: QueryPlan | None) -> Text:
    if result is None:
        return Text("")
    lines = result.all_warnings()
    if not lines:
        return Text("✓ no warnings", style="green")
    text = Text(end="", no_wrap=True, overflow="ellipsis")
    for n, line in enumerate(lines):
        if n:
            text.append("\n")
        text.append("! ", style="bold yellow")
        text.append_text(safe_text(line))
    return text
