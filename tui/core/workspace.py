"""A saved hunt (workspace): family, IOC on/off, exclusions, targets, options, as TOML.

Written with tomli-w, atomically; read with tomllib and validated like the config file, so a
damaged workspace ends in one clear sentence and never in half-applied state.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import tomli_w

from .atomic import write_atomic
from .config import ConfigError, parse_exclusions
from .exclusions import BUILTIN_EXCLUSIONS, Exclusion, exclusion_to_dict
from .kql import parse_timespan
from .model import IocType
from .planner import Options, Strategy, parse_watchlist_alias
from .targets import Flavour, IpMode, MatchMode, Route, find_target

VERSION = 1


class WorkspaceError(Exception):
    """The workspace file is unusable; the message says which and why."""


@dataclass(frozen=True)
class Workspace:
    family: str | None = None  # Family.key
    options: Options = field(default_factory=Options)
    routes: frozenset[Route] | None = None  # None: the flavour's defaults
    off: frozenset[tuple[IocType, str]] = frozenset()
    exclusions: tuple[Exclusion, ...] = ()
    min_confidence: int = 0
    max_age_days: int = 0


def dumps(ws: Workspace) -> str:
    doc: dict[str, object] = {"version": VERSION}
    if ws.family is not None:
        doc["family"] = ws.family
    doc["options"] = {
        "lookback": ws.options.lookback,
        "flavour": ws.options.flavour.value,
        "match": ws.options.match.value,
        "ip_mode": ws.options.ip_mode.value,
        "strategy": ws.options.strategy.value,
        "watchlist_alias": ws.options.watchlist_alias,
        "min_confidence": ws.min_confidence,
        "max_age_days": ws.max_age_days,
    }
    if ws.routes is not None:
        routes: dict[str, list[str]] = {}
        for target, ioc_type in sorted(ws.routes):
            routes.setdefault(target, []).append(ioc_type.value)
        doc["routes"] = routes
    off: dict[str, list[str]] = {}
    for ioc_type, value in sorted(ws.off):
        off.setdefault(ioc_type.value, []).append(value)
    doc["off"] = off
    doc["exclusions"] = [exclusion_to_dict(e) for e in ws.exclusions]
    return tomli_w.dumps(doc)


def save(ws: Workspace, path: Path) -> None:
    try:
        write_atomic(path, dumps(ws))
    except OSError as exc:
        raise WorkspaceError(f"cannot write workspace {path}: {exc.strerror or exc}") from None


def load(path: Path) -> Workspace:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WorkspaceError(f"{path}: no such workspace file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"cannot read workspace {path}: {exc}") from None
    return loads(text, path)


def loads(text: str, path: Path) -> Workspace:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{path}: not valid TOML ({exc})") from None
    try:
        return _read(doc, text, path)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise WorkspaceError(f"{path}: not a foxhunt workspace ({exc})") from None
    except ConfigError as exc:
        raise WorkspaceError(str(exc)) from None


def _table(doc: dict, key: str) -> dict:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise TypeError(f"{key} must be a table")
    return value


def _strings(value: object, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{key} must be a list of strings")
    return value


def _alias(value: object) -> str:
    return parse_watchlist_alias(str(value)) if value else ""


def _read(doc: dict, text: str, path: Path) -> Workspace:
    if doc.get("version") != VERSION:
        raise ValueError(f"unsupported version {doc.get('version')!r}")
    family = doc.get("family")
    if family is not None and not isinstance(family, str):
        raise TypeError("family must be a string")
    opts = _table(doc, "options")
    options = Options(
        lookback=parse_timespan(opts.get("lookback", "14d")),
        flavour=Flavour(opts.get("flavour", "sentinel")),
        match=MatchMode(opts.get("match", "has")),
        ip_mode=IpMode(opts.get("ip_mode", "pair")),
        strategy=Strategy(opts.get("strategy", "inline")),
        watchlist_alias=_alias(opts.get("watchlist_alias", "")),
    )
    min_conf = int(opts.get("min_confidence", 0))
    max_age = int(opts.get("max_age_days", 0))
    if not 0 <= min_conf <= 100 or max_age < 0:
        raise ValueError("min_confidence must be 0-100 and max_age_days >= 0")
    routes: frozenset[Route] | None = None
    if "routes" in doc:
        found: set[Route] = set()
        for target, types in _table(doc, "routes").items():
            name = find_target(target).name
            found.update((name, IocType(t)) for t in _strings(types, f"routes.{target}"))
        routes = frozenset(found)
    off = frozenset(
        (IocType(t), v) for t, values in _table(doc, "off").items()
        for v in _strings(values, f"off.{t}")
    )
    builtin = {e.id for e in BUILTIN_EXCLUSIONS}
    exclusions = tuple(replace(e, builtin=e.id in builtin)
                       for e in parse_exclusions(doc.get("exclusions", []), text, path))
    return Workspace(family, options, routes, off, exclusions, min_conf, max_age)
