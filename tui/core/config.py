"""The config file (TOML, read with tomllib): query defaults, ThreatFox access, keys, exclusions.

Unknown keys are errors, so a typo never silently changes a hunt. Every error is one line that
names the file, the line and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .exclusions import Exclusion, ExclusionError, make_condition, merge_exclusions
from .kql import parse_timespan
from .model import IocType
from .planner import Options, Strategy, parse_watchlist_alias
from .targets import Flavour, IpMode, MatchMode, find_target

DEFAULT_API_URL = "https://threatfox-api.abuse.ch/api/v1/"


class ConfigError(Exception):
    """The config file is unusable; the message is one line naming file, line and key."""


@dataclass(frozen=True)
class ThreatFoxSettings:
    api_url: str = DEFAULT_API_URL
    auth_key: str = ""
    timeout: float = 30.0


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    options: Options = field(default_factory=Options)
    min_confidence: int = 0
    types: tuple[IocType, ...] = ()  # empty: every type
    targets: tuple[str, ...] = ()  # empty: the flavour's defaults
    exclusions: tuple[Exclusion, ...] = field(default_factory=lambda: merge_exclusions([]))
    threatfox: ThreatFoxSettings = field(default_factory=ThreatFoxSettings)
    keys: Mapping[str, str] = field(default_factory=dict)


_SECTIONS = {"query", "threatfox", "keys", "exclusions"}
_QUERY_KEYS = {"lookback", "flavour", "match", "ip_mode", "min_confidence", "types", "targets",
               "strategy", "watchlist_alias"}
_THREATFOX_KEYS = {"api_url", "auth_key", "timeout"}
_EXCLUSION_KEYS = {"id", "name", "description", "enabled", "conditions"}
_CONDITION_KEYS = {"field", "op", "values"}
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def load_config(path: Path, *, required: bool) -> Config:
    """Read `path`; a missing file is an error only when the user named it (`required`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            raise ConfigError(f"{path}: config file not found") from None
        return Config()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc})") from None
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Config:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return _Reader(text, path).read(doc)


class _Reader:
    def __init__(self, text: str, path: Path) -> None:
        self.lines = text.splitlines()
        self.path = path

    def fail(self, key: str, message: str, table: str = "", index: int = 0) -> ConfigError:
        line = self._line_of(table, key.rpartition(".")[2], index)
        where = f"{self.path}, line {line}" if line else str(self.path)
        return ConfigError(f"{where}: key '{key}': {message}")

    def _line_of(self, table: str, key: str, index: int) -> int:
        """Best effort: the line of `key` in the index-th `[table]`/`[[table]]`, else the
        table's header line, else 0."""
        key = key.split("[")[0]
        pattern = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
        if not table:
            for number, line in enumerate(self.lines, 1):
                if line.lstrip().startswith("["):
                    break
                if pattern.match(line):
                    return number
            return 0
        header = re.compile(r"^\s*\[\[?\s*" + re.escape(table) + r"\s*\]\]?\s*(#.*)?$")
        nested = re.compile(r"^\s*\[\[?\s*" + re.escape(table) + r"\.")
        starts = [n for n, line in enumerate(self.lines) if header.match(line)]
        if index >= len(starts):
            return 0
        end = starts[index + 1] if index + 1 < len(starts) else len(self.lines)
        for n in range(starts[index] + 1, end):
            line = self.lines[n]
            if line.lstrip().startswith("[") and not nested.match(line):
                break
            if pattern.match(line):
                return n + 1
        return starts[index] + 1

    def read(self, doc: dict[str, object]) -> Config:
        for key in doc:
            if key not in _SECTIONS:
                raise self.fail(key, f"unknown section (expected one of {sorted(_SECTIONS)})")
        query = self._table(doc, "query", _QUERY_KEYS)
        threatfox = self._table(doc, "threatfox", _THREATFOX_KEYS)
        keys = self._table(doc, "keys", None)
        for name, value in keys.items():
            if not isinstance(value, str) or not value.strip():
                raise self.fail(f"keys.{name}", "must be a key name such as \"space\"", "keys")
        options = Options(
            lookback=self._lookback(query),
            flavour=self._enum(query, "flavour", Flavour, Flavour.SENTINEL),
            match=self._enum(query, "match", MatchMode, MatchMode.HAS),
            ip_mode=self._enum(query, "ip_mode", IpMode, IpMode.PAIR),
            strategy=self._enum(query, "strategy", Strategy, Strategy.INLINE),
            watchlist_alias=self._watchlist_alias(query),
        )
        return Config(
            path=self.path,
            options=options,
            min_confidence=self._int(query, "query.min_confidence", 0, 0, 100, "query"),
            types=self._types(query),
            targets=self._targets(query),
            exclusions=merge_exclusions(self._exclusions(doc.get("exclusions", []))),
            threatfox=ThreatFoxSettings(
                api_url=self._str(threatfox, "threatfox.api_url", DEFAULT_API_URL, "threatfox"),
                auth_key=self._str(threatfox, "threatfox.auth_key", "", "threatfox"),
                timeout=self._number(threatfox, "threatfox.timeout", 30.0, "threatfox"),
            ),
            keys={k: str(v).strip() for k, v in keys.items()},
        )

    def _table(self, doc: dict[str, object], name: str, allowed: set[str] | None) -> dict:
        table = doc.get(name, {})
        if not isinstance(table, dict):
            raise self.fail(name, "must be a table like [" + name + "]")
        if allowed is not None:
            for key in table:
                if key not in allowed:
                    raise self.fail(f"{name}.{key}",
                                    f"unknown key (expected one of {sorted(allowed)})", name)
        return table

    def _str(self, table: dict, key: str, default: str, section: str) -> str:
        value = table.get(key.rpartition(".")[2], default)
        if not isinstance(value, str):
            raise self.fail(key, "must be a string", section)
        return value

    def _int(self, table: dict, key: str, default: int, low: int, high: int,
             section: str) -> int:
        value = table.get(key.rpartition(".")[2], default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(key, f"must be a whole number from {low} to {high}", section)
        return value

    def _number(self, table: dict, key: str, default: float, section: str) -> float:
        value = table.get(key.rpartition(".")[2], default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise self.fail(key, "must be a positive number of seconds", section)
        return float(value)

    def _lookback(self, query: dict) -> str:
        try:
            return parse_timespan(query.get("lookback", "14d"))
        except ValueError as exc:
            raise self.fail("query.lookback", str(exc), "query") from None

    def _enum(self, query: dict, key: str, enum: type, default: object):
        value = query.get(key, default.value)  # type: ignore[attr-defined]
        try:
            return enum(str(value).lower())
        except ValueError:
            allowed = ", ".join(e.value for e in enum)
            raise self.fail(f"query.{key}", f"{value!r} is not one of {allowed}", "query") from None

    def _watchlist_alias(self, query: dict) -> str:
        value = query.get("watchlist_alias", "")
        if value == "":
            return ""
        try:
            return parse_watchlist_alias(value if isinstance(value, str) else repr(value))
        except ValueError as exc:
            raise self.fail("query.watchlist_alias", str(exc), "query") from None

    def _types(self, query: dict) -> tuple[IocType, ...]:
        values = query.get("types", [])
        if not isinstance(values, list):
            raise self.fail("query.types", "must be a list such as [\"domain\", \"url\"]", "query")
        try:
            return tuple(dict.fromkeys(IocType.parse(str(v)) for v in values))
        except ValueError as exc:
            raise self.fail("query.types", str(exc), "query") from None

    def _targets(self, query: dict) -> tuple[str, ...]:
        values = query.get("targets", [])
        if not isinstance(values, list):
            raise self.fail("query.targets", "must be a list of table names", "query")
        try:
            return tuple(dict.fromkeys(find_target(str(v)).name for v in values))
        except KeyError as exc:
            raise self.fail("query.targets", str(exc.args[0]), "query") from None

    def _exclusions(self, raw: object) -> list[Exclusion]:
        if not isinstance(raw, list):
            raise self.fail("exclusions", "must be an array of tables written [[exclusions]]")
        result: list[Exclusion] = []
        seen: set[str] = set()
        for index, entry in enumerate(raw):
            where = f"exclusions[{index}]"
            if not isinstance(entry, dict):
                raise self.fail(where, "must be a table written [[exclusions]]")
            for key in entry:
                if key not in _EXCLUSION_KEYS:
                    raise self.fail(f"{where}.{key}",
                                    f"unknown key (expected one of {sorted(_EXCLUSION_KEYS)})",
                                    "exclusions", index)
            ex_id = entry.get("id")
            if not isinstance(ex_id, str) or not _ID.fullmatch(ex_id):
                raise self.fail(f"{where}.id", "must be a short id of letters, digits, . _ -",
                                "exclusions", index)
            if ex_id in seen:
                raise self.fail(f"{where}.id", f"duplicate exclusion id {ex_id!r}",
                                "exclusions", index)
            seen.add(ex_id)
            name = entry.get("name", ex_id)
            description = entry.get("description", "")
            enabled = entry.get("enabled", False)
            if not isinstance(name, str) or not isinstance(description, str):
                raise self.fail(f"{where}.name", "name and description must be strings",
                                "exclusions", index)
            if not isinstance(enabled, bool):
                raise self.fail(f"{where}.enabled", "must be true or false", "exclusions", index)
            conditions = entry.get("conditions")
            if not isinstance(conditions, list) or not conditions:
                raise self.fail(f"{where}.conditions",
                                "needs at least one [[exclusions.conditions]] table",
                                "exclusions", index)
            built = []
            for c_index, cond in enumerate(conditions):
                c_where = f"{where}.conditions[{c_index}]"
                if not isinstance(cond, dict):
                    raise self.fail(c_where, "must be a table", "exclusions", index)
                for key in cond:
                    if key not in _CONDITION_KEYS:
                        raise self.fail(f"{c_where}.{key}", "unknown key (expected field, op, "
                                        "values)", "exclusions", index)
                try:
                    built.append(make_condition(cond.get("field", ""), cond.get("op", "in"),
                                                cond.get("values")))
                except ExclusionError as exc:
                    raise self.fail(c_where, str(exc), "exclusions", index) from None
            result.append(Exclusion(ex_id, name, tuple(built), description, enabled))
        return result


def parse_exclusions(raw: object, text: str, path: Path) -> list[Exclusion]:
    """Validate `[[exclusions]]` entries (also used by workspace files)."""
    return _Reader(text, path)._exclusions(raw)
