"""Modal screens: help, IOC details, a one-line prompt, the exclusion editor, export."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from ...core.config import ConfigError, parse_exclusions
from ...core.exclusions import Exclusion, Field, Op, exclusion_to_dict
from ...core.model import Ioc, Rejected
from ..text import safe_text

MODAL_CSS = """
ModalScreen { align: center middle; background: $background 60%; }
ModalScreen > Vertical {
    width: 90%; max-width: 110; height: auto; max-height: 90%;
    border: thick $primary; background: $panel; padding: 0 1;
}
ModalScreen .title { text-style: bold; color: $text-accent; padding-bottom: 1; }
ModalScreen .error { color: $text-error; height: auto; }
ModalScreen .buttons { height: auto; align-horizontal: right; padding-top: 1; }
ModalScreen Button { margin-left: 1; }
"""


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = MODAL_CSS
    BINDINGS = [Binding("escape,q,question_mark", "dismiss_help", "Close", show=False)]

    def __init__(self, rows: Sequence[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=True, header_style="bold", expand=True)
        table.add_column("Keys", style="bold cyan", no_wrap=True)
        table.add_column("Action")
        table.add_column("Binding id", style="dim")
        for keys, description, binding_id in self.rows:
            table.add_row(Text(keys), Text(description), Text(binding_id))
        with Vertical():
            yield Label("foxhunt keys (remap them in the config's [keys] table by binding id)",
                        classes="title", markup=False)
            with VerticalScroll():
                yield Static(table)
            yield Label("ctrl+p opens the command palette with every action · esc closes",
                        markup=False)

    def action_dismiss_help(self) -> None:
        self.dismiss(None)


class IocDetails(ModalScreen[None]):
    DEFAULT_CSS = MODAL_CSS
    BINDINGS = [Binding("escape,enter,q", "close", "Close", show=False)]

    def __init__(self, row: Ioc | Rejected) -> None:
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, expand=True)
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        row = self.row
        if isinstance(row, Ioc):
            fields = [
                ("Type", row.type.value), ("Value", row.value), ("Family", row.family),
                ("Threat type", row.threat_type), ("Confidence", str(row.confidence or "-")),
                ("First seen", str(row.first_seen or "-")),
                ("Last seen", str(row.last_seen or "-")),
                ("Tags", ", ".join(row.tags)), ("Reference", row.reference),
                ("Reporter", row.reporter), ("ThreatFox id", row.threatfox_id),
                ("Source", row.source),
            ]
        else:
            fields = [("Invalid value", row.raw), ("Reason", row.reason),
                      ("Declared type", row.declared_type), ("Family", row.family),
                      ("Source", row.source), ("ThreatFox id", row.threatfox_id)]
        for name, value in fields:
            table.add_row(Text(name), safe_text(value or "-"))
        with Vertical():
            yield Label("IOC details", classes="title", markup=False)
            with VerticalScroll():
                yield Static(table)

    def action_close(self) -> None:
        self.dismiss(None)


class Prompt(ModalScreen[str | None]):
    """One line of input: enter accepts, escape cancels."""

    DEFAULT_CSS = MODAL_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, title: str, value: str = "", hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title", markup=False)
            yield Input(self.value, id="prompt-input", select_on_focus=False)
            if self.hint:
                yield Label(self.hint, markup=False)

    @on(Input.Submitted)
    def accept(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


EXCLUSION_TEMPLATE = """id = "my-exclusion"
name = "My exclusion"
description = "Why these events are benign."
enabled = true

[[conditions]]
field = "account"            # {fields}
op = "in"                    # {ops}
values = ["svc_account"]
"""


def exclusion_toml(excl: Exclusion) -> str:
    import tomli_w

    return tomli_w.dumps(exclusion_to_dict(excl))


def parse_exclusion(text: str) -> Exclusion:
    """Parse the editor's TOML through the same validation as the config file."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML ({exc})") from None
    parsed = parse_exclusions([doc], text, Path("exclusion"))
    return parsed[0]


class ExclusionEditor(ModalScreen[tuple[str, Exclusion] | None]):
    """Edit one exclusion as TOML; returns ("apply" | "save", exclusion) or None."""

    DEFAULT_CSS = MODAL_CSS + """
    ExclusionEditor TextArea { height: 16; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "apply", "Apply"),
        Binding("ctrl+o", "save", "Apply and save to config"),
    ]

    def __init__(self, exclusion: Exclusion | None, taken_ids: set[str]) -> None:
        super().__init__()
        self.exclusion = exclusion
        self.taken_ids = taken_ids

    def compose(self) -> ComposeResult:
        if self.exclusion is None:
            text = EXCLUSION_TEMPLATE.format(fields=", ".join(f.value for f in Field),
                                             ops=", ".join(o.value for o in Op))
            title = "New exclusion"
        else:
            text = exclusion_toml(self.exclusion)
            title = f"Exclusion {self.exclusion.id}"
        with Vertical():
            yield Label(title + " (TOML; all conditions must hold)", classes="title",
                        markup=False)
            yield TextArea(text, id="exclusion-text", soft_wrap=False, show_line_numbers=True)
            yield Static("", id="exclusion-error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel (esc)", id="cancel")
                yield Button("Apply (ctrl+s)", id="apply", variant="primary")
                yield Button("Apply + save to config (ctrl+o)", id="save", variant="success")

    def _parse(self) -> Exclusion | None:
        text = self.query_one("#exclusion-text", TextArea).text
        error = self.query_one("#exclusion-error", Static)
        try:
            excl = parse_exclusion(text)
        except ConfigError as exc:
            error.update(safe_text(str(exc)))
            return None
        original = self.exclusion.id if self.exclusion else None
        if excl.id != original and excl.id in self.taken_ids:
            error.update(safe_text(f"id {excl.id!r} is already used by another exclusion"))
            return None
        return excl

    def action_apply(self) -> None:
        excl = self._parse()
        if excl is not None:
            self.dismiss(("apply", excl))

    def action_save(self) -> None:
        excl = self._parse()
        if excl is not None:
            self.dismiss(("save", excl))

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        {"cancel": self.action_cancel, "apply": self.action_apply,
         "save": self.action_save}[event.button.id or "cancel"]()


class ExportDialog(ModalScreen[tuple[str, str] | None]):
    """Pick a format and a path; returns (format, path) or None."""

    DEFAULT_CSS = MODAL_CSS + """
    ExportDialog OptionList { height: auto; max-height: 10; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, formats: Sequence[tuple[str, str]], default_path: str) -> None:
        super().__init__()
        self.formats = formats  # (id, description)
        self.default_path = default_path

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Export the hunt", classes="title", markup=False)
            yield OptionList(*(Option(Text(f"{fid:14} {desc}"), id=fid)
                               for fid, desc in self.formats), id="export-format")
            yield Label("File (or folder, for several files); enter exports:", markup=False)
            yield Input(self.default_path, id="export-path", select_on_focus=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel (esc)", id="cancel")
                yield Button("Export", id="export", variant="primary")

    def on_mount(self) -> None:
        options = self.query_one("#export-format", OptionList)
        options.highlighted = 0
        options.focus()

    @on(OptionList.OptionSelected)
    def chosen(self) -> None:
        self.query_one("#export-path", Input).focus()

    def _submit(self) -> None:
        options = self.query_one("#export-format", OptionList)
        index = options.highlighted or 0
        fid = self.formats[index][0]
        path = self.query_one("#export-path", Input).value.strip()
        if path:
            self.dismiss((fid, path))

    @on(Input.Submitted)
    def submitted(self) -> None:
        self._submit()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "export":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
