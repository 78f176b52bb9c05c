"""The Hunt (all user choices) and `plan()`, the one pure function from a Hunt to KQL.

Each query block is self-contained: `//` header, its own `let` lists, the time filter first,
the match, the exclusions, `project`, `order by` time descending; no blank line inside a block
(the Log Analytics editor runs the block under the cursor), one blank line between blocks.

The IOC lists are inline `dynamic([...])` literals (the seed's way) or, with the watchlist
strategy, rows of a Sentinel watchlist read with `_GetWatchlist` (the way past the
10,000-character limit of an analytic rule).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property

from .. import __version__
from .exclusions import Condition, Exclusion, Op
from .kql import comment_text, literal_list, string_literal, timespan_seconds
from .model import TYPE_ORDER, Family, Ioc, IocType, Rejected
from .normalise import split_ip_port
from .targets import (
    CATALOGUE,
    Flavour,
    Holds,
    IpMode,
    MatchMode,
    Probe,
    Route,
    Target,
    default_routes,
)

HAS_ANY_LIMIT = 10_000  # has_any considers at most 10,000 distinct values
RULE_CHARACTER_LIMIT = 10_000  # Sentinel scheduled analytic rule query length
DEFENDER_RETENTION_DAYS = 30

_LIST_NAMES = {
    IocType.DOMAIN: "malicious_domains",
    IocType.URL: "malicious_urls",
    IocType.IP_PORT: "malicious_ip_ports",
    IocType.MD5: "malicious_md5",
    IocType.SHA1: "malicious_sha1",
    IocType.SHA256: "malicious_sha256",
}
_IP_LIST = "malicious_ips"

#: The watchlist CSV's columns the watchlist strategy reads (through `WatchlistItem`, which
#: every watchlist has, so the query binds whatever else the CSV holds). The exporter writes
#: exactly these names; tests check the two agree.
WATCHLIST_TYPE_COLUMN = "IocType"
WATCHLIST_IP_COLUMN = "Ip"
_WATCHLIST_ALIAS = re.compile(r"[A-Za-z0-9_-]{1,64}")


class Strategy(StrEnum):
    INLINE = "inline"  # the IOC lists inside the query, as dynamic([...]) literals
    WATCHLIST = "watchlist"  # the IOC lists read from a Sentinel watchlist (_GetWatchlist)


def parse_watchlist_alias(text: str) -> str:
    """Validate a watchlist alias (letters, digits, `_` and `-`, at most 64 characters)."""
    value = str(text).strip()
    if not _WATCHLIST_ALIAS.fullmatch(value):
        raise ValueError(
            f"watchlist alias {text!r} must be 1 to 64 letters, digits, _ or -"
        )
    return value


@dataclass(frozen=True)
class Options:
    lookback: str = "14d"
    flavour: Flavour = Flavour.SENTINEL
    match: MatchMode = MatchMode.HAS
    ip_mode: IpMode = IpMode.PAIR
    strategy: Strategy = Strategy.INLINE
    watchlist_alias: str = ""  # required by Strategy.WATCHLIST


@dataclass(frozen=True)
class RuleShape:
    """What a block needs inside a scheduled analytic rule (the rule exporter asks for it;
    hunting queries never carry it)."""

    # Derive `FileHashAlgorithm`/`FileHashValue`: the FileHash entity needs both as columns.
    entity_columns: bool = True
    # A timespan: keep only rows ingested within it, so a rule that runs more often than it
    # looks back evaluates each row once (Microsoft's ingestion-delay pattern). Tables only:
    # ASIM parser output is not guaranteed to carry the ingestion time.
    ingested_within: str = ""


#: The rule-only columns `RuleShape.entity_columns` adds to targets that hold file hashes.
HASH_ALGORITHM_COLUMN = "FileHashAlgorithm"
HASH_VALUE_COLUMN = "FileHashValue"
_HASH_NAMES = {IocType.SHA256: ("SHA256", 64), IocType.SHA1: ("SHA1", 40),
               IocType.MD5: ("MD5", 32)}


@dataclass(frozen=True)
class Hunt:
    """Everything the analyst chose. Widgets and CLI flags change it; `plan()` reads it."""

    family: Family | None
    iocs: tuple[Ioc, ...]
    rejected: tuple[Rejected, ...] = ()
    off: frozenset[tuple[IocType, str]] = frozenset()  # IOCs switched off, by Ioc.key
    exclusions: tuple[Exclusion, ...] = ()
    routes: frozenset[Route] | None = None  # None: the flavour's defaults
    options: Options = field(default_factory=Options)
    sources: tuple[str, ...] = ()

    def effective_routes(self) -> frozenset[Route]:
        return default_routes(self.options.flavour) if self.routes is None else self.routes

    def active(self) -> list[Ioc]:
        off = self.off
        return [i for i in self.iocs if i.key not in off] if off else list(self.iocs)


@dataclass(frozen=True)
class LetList:
    name: str
    literals: tuple[str, ...]  # quoted KQL string literals
    source: str = ""  # a tabular expression instead of literals (the watchlist strategy)

    def render(self, max_values: int | None = None) -> str:
        if self.source:
            return f"let {self.name} = {self.source};"
        shown = self.literals
        if max_values is not None and len(shown) > max_values:
            hidden = len(shown) - max_values
            body = literal_list(shown[:max_values])
            return f"let {self.name} = {body[:-2]}]); // ... {hidden:,} more values not shown"
        return f"let {self.name} = {literal_list(shown)};"


@dataclass(frozen=True)
class Query:
    """One self-contained KQL block for one target."""

    target: str
    ioc_types: tuple[IocType, ...]
    iocs: tuple[str, ...]  # the values exactly as the query uses them
    header: tuple[str, ...]
    lets: tuple[LetList, ...]
    body: tuple[str, ...]
    warnings: tuple[str, ...] = ()

    @cached_property
    def kql(self) -> str:
        return self.render()

    @cached_property
    def characters(self) -> int:
        return len(self.kql)

    def render(self, max_values: int | None = None) -> str:
        """The block's text; with `max_values`, long lists are cut for display only."""
        lines = [*self.header, *(let.render(max_values) for let in self.lets), *self.body]
        return "\n".join(lines)


@dataclass(frozen=True)
class QueryPlan:
    queries: tuple[Query, ...]
    warnings: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """All blocks, separated by exactly one blank line."""
        return "\n\n".join(q.kql for q in self.queries) + ("\n" if self.queries else "")

    def all_warnings(self) -> list[str]:
        return [*self.warnings, *(w for q in self.queries for w in q.warnings)]

    def to_json(self) -> dict[str, object]:
        return {
            "queries": [
                {
                    "target": q.target,
                    "ioc_types": [t.value for t in q.ioc_types],
                    "iocs": list(q.iocs),
                    "kql": q.kql,
                    "characters": q.characters,
                    "warnings": list(q.warnings),
                }
                for q in self.queries
            ],
            "warnings": list(self.warnings),
        }


def plan(hunt: Hunt, now: datetime | None = None, *, rule: RuleShape | None = None) -> QueryPlan:
    """Turn the hunt into query blocks, one per target, in catalogue order. `rule` shapes the
    blocks for a scheduled analytic rule (see `RuleShape`)."""
    now = now or datetime.now(UTC)
    opts = hunt.options
    warnings = [r.describe() for r in hunt.rejected]
    watchlist = _watchlist_alias(opts, warnings)
    by_type: dict[IocType, list[str]] = {}
    for ioc in hunt.active():
        by_type.setdefault(ioc.type, []).append(ioc.value)
    by_type = {t: list(dict.fromkeys(v)) for t, v in by_type.items()}  # one family or many
    routes = hunt.effective_routes()

    if opts.flavour is Flavour.DEFENDER and (
        timespan_seconds(opts.lookback) > DEFENDER_RETENTION_DAYS * 86400
    ):
        warnings.append(
            f"lookback {opts.lookback} is longer than the {DEFENDER_RETENTION_DAYS} days "
            "advanced hunting keeps; older events will not be searched"
        )

    hunted: set[IocType] = set()
    queries: list[Query] = []
    for target in CATALOGUE.values():
        wanted = [t for t in TYPE_ORDER if (target.name, t) in routes and t in by_type]
        if not wanted:
            continue
        if not target.available(opts.flavour):
            warnings.append(
                f"{target.name} does not exist in {opts.flavour.value} "
                f"(advanced hunting); skipped"
            )
            continue
        types: list[IocType] = []
        for ioc_type in wanted:
            probe = target.probes.get(ioc_type)
            if probe is None:
                continue
            if ioc_type is IocType.IP_PORT and opts.ip_mode is IpMode.PAIR and not probe.port:
                warnings.append(
                    f"{target.name} has no port column: its ip:port hunt needs IP-only mode "
                    "(--ip-mode ip); skipped there"
                )
                continue
            types.append(ioc_type)
        if types:
            hunted.update(types)
            queries.append(_build(target, types, by_type, hunt, now, watchlist, rule))

    for ioc_type, values in by_type.items():
        if ioc_type not in hunted:
            warnings.append(
                f"{len(values):,} {ioc_type.value} IOCs are not hunted: "
                f"no selected target hunts {ioc_type.value}"
            )
    if not by_type:
        warnings.append("no IOC is selected: nothing to hunt")
    return QueryPlan(tuple(queries), tuple(warnings))


def _watchlist_alias(opts: Options, warnings: list[str]) -> str:
    """The alias to read IOCs from, or "" for inline lists (with a warning when the watchlist
    strategy cannot apply)."""
    if opts.strategy is not Strategy.WATCHLIST:
        return ""
    if opts.flavour is Flavour.DEFENDER:
        warnings.append("watchlists exist only in Microsoft Sentinel, not in Defender XDR "
                        "advanced hunting: the IOC lists are inline")
        return ""
    try:
        return parse_watchlist_alias(opts.watchlist_alias)
    except ValueError as exc:
        warnings.append(f"{exc}: the IOC lists are inline")
        return ""


# -- one block ---------------------------------------------------------------------------------


def _chunks(values: Sequence[str]) -> list[Sequence[str]]:
    return [values[i : i + HAS_ANY_LIMIT] for i in range(0, len(values), HAS_ANY_LIMIT)] or [[]]


def _make_lets(name: str, values: Sequence[str], alias: str = "", ioc_type: IocType | None = None,
               column: str = "SearchKey") -> list[LetList]:
    if alias and ioc_type is not None:
        # One watchlist holds every IOC type; its IocType column picks this list's rows.
        pick = (f"_GetWatchlist({string_literal(alias)}) | where tostring(WatchlistItem."
                f"{WATCHLIST_TYPE_COLUMN}) == {string_literal(ioc_type.value)}")
        return [LetList(name, (), f"{pick} | project {column}")]
    chunks = _chunks(values)
    if len(chunks) == 1:
        return [LetList(name, tuple(string_literal(v) for v in values))]
    return [
        LetList(f"{name}_{n}", tuple(string_literal(v) for v in chunk))
        for n, chunk in enumerate(chunks, 1)
    ]


@dataclass
class _Lists:
    """The let lists of one IOC type in one block."""

    names: list[str]
    ip_names: list[str] = field(default_factory=list)
    ipv6: bool = False
    values: list[str] = field(default_factory=list)  # what the query uses


def _build(
    target: Target, types: list[IocType], by_type: dict[IocType, list[str]], hunt: Hunt,
    now: datetime, watchlist: str = "", rule: RuleShape | None = None,
) -> Query:
    opts = hunt.options
    lets: list[LetList] = []
    lists: dict[IocType, _Lists] = {}
    for ioc_type in types:
        values = by_type[ioc_type]
        if ioc_type is IocType.IP_PORT:
            pairs = [split_ip_port(v) for v in values]
            ips = list(dict.fromkeys(ip for ip, _ in pairs))
            ipv6 = any(":" in ip for ip in ips)
            ip_lets = _make_lets(_IP_LIST, ips, watchlist, ioc_type,
                                 f"{WATCHLIST_IP_COLUMN} = tostring(WatchlistItem."
                                 f"{WATCHLIST_IP_COLUMN})")
            if opts.ip_mode is IpMode.PAIR:
                pair_lets = _make_lets(_LIST_NAMES[ioc_type], values, watchlist, ioc_type)
                lets += pair_lets + ip_lets
                lists[ioc_type] = _Lists([x.name for x in pair_lets], [x.name for x in ip_lets],
                                         ipv6, list(values))
            else:
                lets += ip_lets
                lists[ioc_type] = _Lists([], [x.name for x in ip_lets], ipv6, ips)
        else:
            made = _make_lets(_LIST_NAMES[ioc_type], values, watchlist, ioc_type)
            lets += made
            lists[ioc_type] = _Lists([x.name for x in made], values=list(values))

    time_col = target.time_column(opts.flavour)
    warnings: list[str] = []
    body = [_source_line(target, types, lists, opts, watchlist)]
    if not target.asim:
        body.append(f"| where {time_col} > ago({opts.lookback})")
        if rule is not None and rule.ingested_within:
            body.append(f"| where ingestion_time() > ago({rule.ingested_within})")
    matches = [
        expr
        for ioc_type in types
        for column in target.probes[ioc_type].columns
        for expr in [_match(ioc_type, column.name, column.holds, target.probes[ioc_type],
                            lists[ioc_type], opts)]
    ]
    matches = list(dict.fromkeys(matches))
    if watchlist:
        for ioc_type in types:
            count = len(lists[ioc_type].values)
            probe = target.probes[ioc_type]
            uses_has_any = any(
                " has_any " in _match(ioc_type, c.name, c.holds, probe, lists[ioc_type], opts)
                for c in probe.columns
            )
            if count > HAS_ANY_LIMIT and uses_has_any:
                warnings.append(
                    f"{target.name}: has_any considers only {HAS_ANY_LIMIT:,} values of a list "
                    f"and the watchlist holds {count:,} {ioc_type.value} IOCs; use the exact "
                    "match (in~, up to 1,000,000 values)"
                )
    if len(matches) == 1:
        body.append(f"| where {matches[0]}")
    else:
        body.append(f"| where {_paren(matches[0])}")
        body.extend(f"    or {_paren(m)}" for m in matches[1:])

    applied: list[str] = []
    not_applied: list[str] = []
    for excl in hunt.exclusions:
        if not excl.enabled:
            continue
        missing = sorted(f.value for f in excl.fields if f not in target.fields)
        if missing:
            note = f"{excl.id} (no {', '.join(missing)} in {target.name})"
            not_applied.append(note)
            warnings.append(f"exclusion {note} is not applied to the {target.name} query")
            continue
        applied.append(excl.id)
        body.append(f"// exclude {comment_text(excl.id)}: {comment_text(excl.name)}")
        body.append(f"| where not({exclusion_predicate(excl, target)})")
    project = [time_col, *target.project]
    hashes = _hash_columns(target)
    if rule is not None and rule.entity_columns and hashes:
        body.append(f"| extend {HASH_ALGORITHM_COLUMN} = {_hash_case(hashes, True)}, "
                    f"{HASH_VALUE_COLUMN} = {_hash_case(hashes, False)}")
        project += [HASH_ALGORITHM_COLUMN, HASH_VALUE_COLUMN]
    body.append(f"| project {', '.join(project)}")
    body.append(f"| order by {time_col} desc")

    used = tuple(v for t in types for v in lists[t].values)
    for ioc_type in types:
        if len(lists[ioc_type].names) > 1 or len(lists[ioc_type].ip_names) > 1:
            warnings.append(
                f"{target.name}: {ioc_type.value} list split into chunks of "
                f"{HAS_ANY_LIMIT:,} (the has_any limit)"
            )
    header = _header(target, types, lists, hunt, now, applied, not_applied, watchlist)
    query = Query(target.name, tuple(types), used, header, tuple(lets), tuple(body))
    if query.characters > RULE_CHARACTER_LIMIT:
        warnings.append(
            f"{target.name} query is {query.characters:,} characters, over the "
            f"{RULE_CHARACTER_LIMIT:,}-character limit of a Sentinel analytic rule "
            "(fine for hunting; for a rule split the IOCs or use a watchlist)"
        )
    return Query(target.name, tuple(types), used, header, tuple(lets), tuple(body),
                 tuple(warnings))


def _hash_columns(target: Target) -> list[tuple[str, int, str]]:
    """(algorithm, hex length, column) for each hash the target holds, strongest first."""
    found = []
    for ioc_type, (algorithm, length) in _HASH_NAMES.items():
        probe = target.probes.get(ioc_type)
        if probe is not None:
            found.append((algorithm, length, probe.columns[0].name))
    return found


def _hash_case(hashes: list[tuple[str, int, str]], algorithm: bool) -> str:
    """The strongest hash a row holds (by its length, so one column holding any hash works
    too), as its algorithm name or its value; "" when the row holds none."""
    arms = ", ".join(
        f"strlen({column}) == {length}, " + (string_literal(name) if algorithm else column)
        for name, length, column in hashes
    )
    return f'case({arms}, "")'


def _source_line(target: Target, types: list[IocType], lists: dict[IocType, _Lists],
                 opts: Options, watchlist: str = "") -> str:
    if not target.asim:
        return target.name
    args = [f"starttime=ago({opts.lookback})"]
    # A parser's filtering parameters are ANDed, so pre-filter only single-type blocks; they
    # take a dynamic literal, which a watchlist list is not (the where clause still matches).
    if len(types) == 1 and not watchlist:
        ioc_type = types[0]
        probe = target.probes[ioc_type]
        own = lists[ioc_type]
        names = own.ip_names if ioc_type is IocType.IP_PORT else own.names
        if probe.asim_param and len(names) == 1 and not (probe.asim_ipv4_only and own.ipv6):
            args.append(f"{probe.asim_param}={names[0]}")
    return f"{target.name}({', '.join(args)})"


def _any(column: str, op: str, names: list[str]) -> str:
    if op == "has_any":
        return " or ".join(f"{column} has_any ({n})" for n in names)
    return f"{column} {op} ({', '.join(names)})"


def _match(ioc_type: IocType, column: str, holds: Holds, probe: Probe, own: _Lists,
           opts: Options) -> str:
    exact = opts.match is MatchMode.EXACT
    if ioc_type is IocType.IP_PORT:
        ip_op = "in~" if own.ipv6 else "in"
        if holds is Holds.TEXT:
            return _any(column, "has_any", own.ip_names)
        ip_test = _any(column, ip_op, own.ip_names)
        if opts.ip_mode is IpMode.IP:
            return ip_test
        key = column
        if own.ipv6:  # canonical IPv6 pairs are written [addr]:port
            key = f'iff({column} contains ":", strcat("[", {column}, "]"), {column})'
        return f'{ip_test} and strcat({key}, ":", {probe.port}) {ip_op} ({", ".join(own.names)})'
    if ioc_type.is_hash:
        return _any(column, "in~", own.names)
    if not exact or holds is Holds.TEXT:
        return _any(column, "has_any", own.names)
    if ioc_type is IocType.DOMAIN and holds is Holds.URL:
        return _any(f"tostring(parse_url({column}).Host)", "in~", own.names)
    if ioc_type is IocType.DOMAIN and holds is Holds.HOST_OR_URL:
        host = f"tostring(parse_url({column}).Host)"
        return f"{_any(column, 'in~', own.names)} or {_any(host, 'in~', own.names)}"
    return _any(column, "in~", own.names)


def _paren(expr: str) -> str:
    return f"({expr})" if " or " in expr or " and " in expr else expr


def condition_predicate(cond: Condition, expr: str) -> str:
    values = cond.values
    if cond.op is Op.IN:
        return f"{expr} in~ ({_dynamic(values)})"
    if cond.op is Op.HAS:
        return f"{expr} has_any ({_dynamic(values)})"
    if cond.op in (Op.STARTSWITH, Op.ENDSWITH):
        parts = [f"{expr} {cond.op.value} {string_literal(v)}" for v in values]
        return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"
    # CIDR: the ipv4/ipv6 range functions return null for an address of the other family or
    # an empty column; coalesce so that not(...) keeps such rows instead of dropping them.
    v4 = [v for v in values if ipaddress.ip_network(v, strict=False).version == 4]
    v6 = [v for v in values if ipaddress.ip_network(v, strict=False).version == 6]
    parts = []
    if v4:
        parts.append(f"coalesce(ipv4_is_in_any_range({expr}, {_dynamic(v4)}), false)")
    if v6:
        parts.append(f"coalesce(ipv6_is_in_any_range({expr}, {_dynamic(v6)}), false)")
    return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"


def exclusion_predicate(excl: Exclusion, target: Target) -> str:
    """All conditions of `excl` over `target`'s columns (the caller checks applicability)."""
    parts = [condition_predicate(c, target.fields[c.field]) for c in excl.conditions]
    return " and ".join(parts)


def _dynamic(values: Sequence[str]) -> str:
    return literal_list([string_literal(v) for v in values])


def _header(
    target: Target, types: list[IocType], lists: dict[IocType, _Lists], hunt: Hunt,
    now: datetime, applied: list[str], not_applied: list[str], watchlist: str = "",
) -> tuple[str, ...]:
    opts = hunt.options
    fam = hunt.family
    family_name = fam.name if fam else "all loaded families"
    ident = ""
    if fam:
        extra = [fam.key] if fam.key != fam.name else []
        if fam.aliases:
            extra.append("aliases " + ", ".join(fam.aliases))
        ident = f" ({'; '.join(extra)})" if extra else ""
    counts = ", ".join(f"{len(lists[t].values):,} {t.value}" for t in types)
    if opts.ip_mode is IpMode.IP and IocType.IP_PORT in types:
        counts = counts.replace(" ip:port", " IP (ip:port, IP only)")
    sources = list(hunt.sources)
    source_text = ", ".join(sources[:4]) + (f" and {len(sources) - 4} more" if len(sources) > 4
                                            else "")
    off = sum(1 for t, _ in hunt.off if t in types)
    invalid = sum(1 for r in hunt.rejected if r.declared_type in {t.value for t in types}
                  or not r.declared_type)
    skipped = [f"{invalid} invalid" if invalid else "", f"{off} switched off" if off else ""]
    skipped_text = ", ".join(s for s in skipped if s) or "none"
    excl_text = ", ".join(applied) or "none"
    if not_applied:
        excl_text += "; not applicable here: " + ", ".join(not_applied)
    if watchlist:
        counts += f" from watchlist {watchlist}"
    lines = [
        f"// Hunt for {target.purpose} matching {family_name} IOCs",
        f"// Source: ThreatFox - {family_name}{ident}"
        + (f" | from {source_text}" if source_text else ""),
        f"// IOCs: {counts} | match {opts.match.value} | lookback {opts.lookback}"
        f" | generated {now.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC by foxhunt {__version__}",
        f"// Exclusions: {excl_text}",
        f"// Skipped: {skipped_text}",
        f"// Requires: {target.requirement(opts.flavour)}",
    ]
    return tuple(comment_text(line) for line in lines)
