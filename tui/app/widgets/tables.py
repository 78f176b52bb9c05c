"""The workbench's tables, all on the virtual LineTable: families, IOCs, exclusions, targets,
options. Every cell built from feed data goes through `safe_text` (literal, escaped)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text

from ...core.exclusions import Exclusion
from ...core.model import TYPE_ORDER, FamilySummary, Ioc, IocType, Rejected
from ...core.targets import Target
from ..text import safe_text
from .line_table import Column, LineTable

ON = Text("●", style="bold green")
OFF = Text("○", style="dim")
INVALID = Text("✗", style="bold red")
SHORT_TYPE = {
    IocType.DOMAIN: "domain", IocType.URL: "url", IocType.IP_PORT: "ip:port",
    IocType.MD5: "md5", IocType.SHA1: "sha1", IocType.SHA256: "sha256",
}


def _date(value: datetime | None) -> Text:
    return Text(value.strftime("%Y-%m-%d") if value else "-", style="" if value else "dim")


class FamilyTable(LineTable[FamilySummary]):
    def __init__(self, **kwargs) -> None:
        super().__init__(empty_text="no family loaded", **kwargs)
        self.set_columns([
            Column("Family", 16, lambda f: safe_text(f.family.name)),
            Column("IOCs", 6, lambda f: Text(f"{f.total:,}"), "right"),
            Column("Types", 26, lambda f: Text(" ".join(
                f"{SHORT_TYPE[t]}:{n}" for t, n in f.counts.items()) or "-")),
            Column("Aliases", 18, lambda f: safe_text(", ".join(f.family.aliases) or "-")),
            Column("Id", 20, lambda f: safe_text(f.family.key)),
            Column("Last seen", 10, lambda f: _date(f.last_seen)),
        ])


IocRow = Ioc | Rejected


class IocTable(LineTable[IocRow]):
    """Every IOC of the family (and the invalid ones, with their reason, never selectable)."""

    def __init__(self, is_on: Callable[[Ioc], bool], **kwargs) -> None:
        super().__init__(empty_text="open a family (enter in the families pane)", **kwargs)
        self.is_on = is_on
        self.value_width = 40
        self._build_columns()

    def fit_values(self, rows: list[IocRow]) -> None:
        """Size the value column to the longest value (capped) among the first rows."""
        longest = max((len(_value(r)) for r in rows[:2000]), default=20)
        self.value_width = max(20, min(longest, 64))  # longer values: enter shows them whole
        self._build_columns()

    def _build_columns(self) -> None:
        self.set_columns([
            Column(" ", 1, self._mark),
            Column("Type", 7, lambda r: Text(SHORT_TYPE[r.type]) if isinstance(r, Ioc)
                   else safe_text(r.declared_type or "?", "red")),
            Column("Conf", 4, lambda r: Text(str(r.confidence)) if isinstance(r, Ioc)
                   and r.confidence is not None else Text("-", "dim"), "right"),
            Column("Value", self.value_width, lambda r: safe_text(_value(r))),
            Column("Threat / reason", 18, lambda r: safe_text(r.threat_type or "-")
                   if isinstance(r, Ioc) else safe_text(r.reason, "red")),
            Column("First seen", 10, lambda r: _date(r.first_seen) if isinstance(r, Ioc)
                   else Text("-", "dim")),
            Column("Last seen", 10, lambda r: _date(r.last_seen) if isinstance(r, Ioc)
                   else Text("-", "dim")),
            Column("Tags", 24, lambda r: safe_text(", ".join(r.tags))
                   if isinstance(r, Ioc) else Text("")),
        ])

    def _mark(self, row: IocRow) -> Text:
        if isinstance(row, Rejected):
            return INVALID
        return ON if self.is_on(row) else OFF


def _value(row: IocRow) -> str:
    return row.value if isinstance(row, Ioc) else row.raw


@dataclass(frozen=True)
class ExclusionRow:
    exclusion: Exclusion
    applies: str  # e.g. "DnsEvents ✗  DeviceNetworkEvents ✓"


class ExclusionTable(LineTable[ExclusionRow]):
    def __init__(self, **kwargs) -> None:
        super().__init__(empty_text="no exclusion defined", **kwargs)
        self.set_columns([
            Column(" ", 1, lambda r: ON if r.exclusion.enabled else OFF),
            Column("Exclusion", 22, lambda r: safe_text(r.exclusion.id)),
            Column("Applies to (selected targets)", 40, lambda r: safe_text(r.applies)),
            Column("Name", 40, lambda r: safe_text(r.exclusion.name)),
        ])


@dataclass(frozen=True)
class TargetRow:
    target: Target
    ioc_type: IocType
    on: bool
    requirement: str


class TargetTable(LineTable[TargetRow]):
    def __init__(self, **kwargs) -> None:
        super().__init__(empty_text="no target", **kwargs)
        self.set_columns([
            Column(" ", 1, lambda r: ON if r.on else OFF),
            Column("Target", 19, lambda r: Text(r.target.name)),
            Column("IOC type", 8, lambda r: Text(SHORT_TYPE[r.ioc_type])),
            Column("Needs", 70, lambda r: Text(r.requirement, style="dim")),
        ])


@dataclass(frozen=True)
class OptionRow:
    key: str
    label: str
    value: str
    hint: str


class OptionTable(LineTable[OptionRow]):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.set_columns([
            Column("Option", 14, lambda r: Text(r.label)),
            Column("Value", 10, lambda r: Text(r.value, style="bold")),
            Column("", 50, lambda r: Text(r.hint, style="dim")),
        ])


TYPE_FILTERS: tuple[str, ...] = ("all", *(t.value for t in TYPE_ORDER), "invalid")
