"""Every export format behind one pure function, and the one place files get written.

`export_files` turns a hunt and its plan into named file contents (no I/O); `write_files`
writes them atomically. The CLI (`foxhunt query --format`) and the TUI's export dialog both
use these two and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..core.atomic import write_atomic
from ..core.model import Family
from ..core.planner import Hunt, QueryPlan
from .markdown import markdown_pack
from .rules import RuleError, arm_json, build_rules, rule_yaml, slug
from .watchlist import watchlist_csv

EXPORT_FORMATS: tuple[str, ...] = ("kql", "json", "sentinel-rule", "arm", "markdown",
                                   "watchlist-csv")

FORMAT_DESCRIPTIONS: Mapping[str, str] = {
    "kql": "the query blocks as one .kql file",
    "json": "the plan as JSON (queries, IOCs, warnings)",
    "sentinel-rule": "one Sentinel analytic-rule YAML per query block",
    "arm": "the analytic rules as one deployable ARM template",
    "markdown": "the hunting pack as Markdown (IOC table, queries, notes)",
    "watchlist-csv": "the IOCs as a Sentinel watchlist CSV (for --strategy watchlist)",
}

#: Formats that can produce several files (need a directory rather than one file name).
MULTI_FILE_FORMATS = frozenset({"sentinel-rule"})


class ExportError(Exception):
    """A format cannot be produced from this hunt; the message is one sentence."""


@dataclass(frozen=True)
class ExportFile:
    name: str  # a bare file name, never a path
    content: str  # always encodable as UTF-8


def _file(name: str, content: str) -> ExportFile:
    # An unpaired surrogate (possible from a JSON feed) cannot be written as UTF-8: keep its
    # \uXXXX spelling, which JSON reads back as the same character and nothing else misreads.
    if not content.isascii():
        content = content.encode("utf-8", "backslashreplace").decode("utf-8")
    return ExportFile(name, content)


def _stem(hunt: Hunt) -> str:
    return "threatfox-" + (slug(hunt.family.name) if hunt.family else "all-families")


def export_files(fmt: str, hunt: Hunt, result: QueryPlan, *, now: datetime | None = None,
                 families: Mapping[str, Family] | None = None) -> list[ExportFile]:
    """The files of `fmt` for `hunt` and its plan `result` (pure: nothing is written).
    `families` names the families of a multi-family hunt (family None) in Markdown and CSV."""
    now = now or datetime.now(UTC)
    stem = _stem(hunt)
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown export format {fmt!r} (choose from "
                          f"{', '.join(EXPORT_FORMATS)})")
    if fmt == "watchlist-csv":
        iocs = hunt.active()
        if not iocs:
            raise ExportError("no IOC is selected, so the watchlist would be empty")
        known = dict(families or {})
        if hunt.family is not None:
            known.setdefault(hunt.family.key, hunt.family)
        return [_file(f"{stem}-watchlist.csv", watchlist_csv(iocs, known))]
    if not result.queries:
        raise ExportError("no query was built from this hunt, so there is nothing to export")
    if fmt == "kql":
        return [_file(f"{stem}.kql", result.text)]
    if fmt == "json":
        return [_file(f"{stem}.json", json.dumps(result.to_json(), indent=2) + "\n")]
    if fmt == "markdown":
        return [_file(f"{stem}.md", markdown_pack(hunt, result, now, families))]
    try:
        rules = build_rules(hunt, result, now)
    except RuleError as exc:
        raise ExportError(str(exc)) from None
    if fmt == "arm":
        return [_file(f"{stem}-rules.json", arm_json(rules))]
    return [_file(f"{rule.file_stem}.yaml", rule_yaml(rule)) for rule in rules]


def write_files(files: Iterable[ExportFile], directory: Path) -> list[Path]:
    """Write each file into `directory` (created if needed), atomically, as UTF-8; the
    paths written."""
    directory = Path(directory)
    written = []
    for file in files:
        name = Path(file.name).name
        if name != file.name or name in {"", ".", ".."}:
            raise ExportError(f"refusing to write {file.name!r}: not a plain file name")
        path = directory / name
        write_atomic(path, file.content.encode("utf-8", "backslashreplace"))  # see _file
        written.append(path)
    return written
