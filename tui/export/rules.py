"""Microsoft Sentinel scheduled analytic rules: Azure-Sentinel YAML and an ARM template.

One rule per query block of the plan. The query inside a rule is the planner's text for that
block, planned again with the rule's own time window (`ago()` equals `queryPeriod`, so the
rule says what Sentinel does), the entity columns the mappings need, and the ingestion-time
filter that makes each event alert once. Shape and limits follow the Azure-Sentinel template
validator (`.script/tests/detectionTemplateSchemaValidation`), the ARM resource follows the
`Microsoft.SecurityInsights` 2024-09-01 REST specification.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import yaml

from .. import __version__
from ..core.kql import comment_text, timespan_seconds
from ..core.model import TYPE_ORDER, Ioc, IocType
from ..core.planner import (
    RULE_CHARACTER_LIMIT,
    Hunt,
    Query,
    QueryPlan,
    RuleShape,
    Strategy,
    plan,
)
from ..core.targets import CATALOGUE, Flavour, Target

#: Fixed namespace for rule ids: the id depends only on family and target (and part), so a
#: re-export updates the rule Sentinel already has instead of adding a twin.
RULE_NAMESPACE = uuid.UUID("8a4f5b63-1f0e-5d3c-9a57-6c1b2f0d9e41")
ARM_API_VERSION = "2024-09-01"  # latest stable Microsoft.SecurityInsights alertRules API
MAX_RULE_PARTS = 10  # past this, one rule per chunk is the wrong tool: use a watchlist
MAX_ENTITY_MAPPINGS = 5  # the Azure-Sentinel validator's limit for Scheduled rules
MIN_PERIOD = 5 * 60
MAX_PERIOD = 14 * 86400
MAX_FREQUENCY = 3600  # run hourly (or as often as the period, when it is shorter)
RULE_VERSION = "1.0.0"

# ThreatFox threat type -> (tactics, techniques). Every tactic of each technique is listed,
# as the validator requires. payload: a malware sample on a device, run by a user (User
# Execution). cc_skimming: card-skimming infrastructure; the skimmer captures what users type
# into payment forms (Input Capture, which MITRE files under Collection and Credential Access).
THREAT_MITRE: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "botnet_cc": (("CommandAndControl",), ("T1071",)),
    "payload_delivery": (("CommandAndControl",), ("T1105",)),
    "payload": (("Execution",), ("T1204",)),
    "cc_skimming": (("Collection", "CredentialAccess"), ("T1056",)),
}
_FALLBACK_NETWORK = THREAT_MITRE["botnet_cc"]  # unknown threat type on a network IOC
_FALLBACK_FILE = THREAT_MITRE["payload"]  # unknown threat type on a hash


class RuleError(ValueError):
    """A rule cannot be written; the message is one sentence saying why and what to do."""


@dataclass(frozen=True)
class Rule:
    """One scheduled analytic rule, in Azure-Sentinel template terms."""

    id: str
    name: str
    description: str
    severity: str
    connectors: tuple[tuple[str, str], ...]  # (connectorId, dataType)
    frequency: int  # seconds
    period: int  # seconds
    tactics: tuple[str, ...]
    techniques: tuple[str, ...]
    query: Query
    entity_mappings: tuple[dict[str, object], ...]
    file_stem: str

    @property
    def kql(self) -> str:
        return self.query.kql


# -- the rule window ---------------------------------------------------------------------------


def rule_window(lookback: str, target: Target) -> tuple[int, int]:
    """(queryFrequency, queryPeriod) in seconds for a hunt's lookback.

    The period is the lookback, clamped to the 5 minutes - 14 days Sentinel allows. A table
    rule runs hourly and keeps only rows ingested since the previous run (see `RuleShape`),
    so an event alerts once while late events still fall in the period. An ASIM parser's
    output may not carry the ingestion time, so its rule runs once per period instead.
    """
    seconds = timespan_seconds(lookback)
    period = min(max(math.ceil(seconds / 60) * 60, MIN_PERIOD), MAX_PERIOD)
    frequency = period if target.asim else min(period, MAX_FREQUENCY)
    return frequency, period


def yaml_span(seconds: int) -> str:
    """`14d`, `1h`, `90m`: the template format (the validator reads only m, h and d)."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    raise ValueError(f"{seconds} s is not a whole number of minutes")


def iso_span(seconds: int) -> str:
    """ISO 8601 duration for ARM: `P14D`, `PT1H`, `PT90M`."""
    if seconds % 86400 == 0:
        return f"P{seconds // 86400}D"
    if seconds % 3600 == 0:
        return f"PT{seconds // 3600}H"
    return f"PT{seconds // 60}M"


# -- building the rules --------------------------------------------------------------------------


def build_rules(hunt: Hunt, result: QueryPlan, now: datetime | None = None) -> list[Rule]:
    """One rule per block of `result` (several when a block's IOCs need more than 10,000
    characters); raises RuleError when that cannot be done."""
    now = now or datetime.now(UTC)
    if hunt.options.flavour is not Flavour.SENTINEL:
        raise RuleError("analytic rules run in Microsoft Sentinel: plan the hunt with the "
                        "sentinel flavour (Defender XDR custom detections are another format)")
    if not result.queries:
        raise RuleError("no query was built, so there is no rule to write")
    rules: list[Rule] = []
    for block in result.queries:
        rules.extend(_block_rules(hunt, block, now))
    return rules


def _block_rules(hunt: Hunt, block: Query, now: datetime) -> list[Rule]:
    target = CATALOGUE[block.target]
    frequency, period = rule_window(hunt.options.lookback, target)
    shape = RuleShape(entity_columns=True,
                      ingested_within=yaml_span(frequency) if frequency < period else "")
    options = replace(hunt.options, lookback=yaml_span(period))
    routes = frozenset((target.name, t) for t in block.ioc_types)
    iocs = [i for i in hunt.active() if i.type in block.ioc_types]
    family = _family_label(hunt)

    def planned(chunk: Sequence[Ioc]) -> Query:
        found = plan(replace(hunt, iocs=tuple(chunk), routes=routes, options=options), now,
                     rule=shape).queries
        if len(found) != 1:  # the block was built from these very IOCs and routes
            raise RuleError(f"the {target.name} query could not be planned again for a rule")
        return found[0]

    whole = planned(iocs)
    if whole.characters <= RULE_CHARACTER_LIMIT:
        parts = [(iocs, whole)]
    else:
        estimate = math.ceil(whole.characters / RULE_CHARACTER_LIMIT)
        if estimate > MAX_RULE_PARTS:
            raise RuleError(_too_big(target, family, whole.characters, estimate))
        parts = _fit(iocs, whole, planned, target)
        if len(parts) > MAX_RULE_PARTS:
            raise RuleError(_too_big(target, family, whole.characters, len(parts)))

    family_key = hunt.family.key if hunt.family else "*"
    rules = []
    for number, (chunk, query) in enumerate(parts, 1):
        suffix = f" (part {number} of {len(parts)})" if len(parts) > 1 else ""
        # Part 1 keeps the unsplit rule's id, so a family that grows past one rule still
        # updates the rule already deployed.
        seed = f"{family_key}\x1f{target.name}" + (f"\x1fpart {number}" if number > 1 else "")
        stem = f"threatfox-{slug(family)}-{slug(target.name)}"
        tactics, techniques = _mitre(chunk)
        rules.append(Rule(
            id=str(uuid.uuid5(RULE_NAMESPACE, seed)),
            name=f"ThreatFox - {family} IOCs in {target.name}{suffix}",
            description=_description(hunt, target, query, chunk, frequency, period, now,
                                     suffix),
            severity=_severity(chunk),
            connectors=_connectors(target),
            frequency=frequency,
            period=period,
            tactics=tactics,
            techniques=techniques,
            query=query,
            entity_mappings=entity_mappings(target, query),
            file_stem=stem + (f"-part{number}" if len(parts) > 1 else ""),
        ))
    return rules


def _fit(iocs: list[Ioc], query: Query, planned: Callable[[Sequence[Ioc]], Query],
         target: Target) -> list[tuple[list[Ioc], Query]]:
    """Split `iocs` into chunks whose queries fit a rule: even chunks sized from the length,
    and any chunk still too long split again."""
    if query.characters <= RULE_CHARACTER_LIMIT:
        return [(iocs, query)]
    if len(iocs) == 1:
        shown = comment_text(iocs[0].value)[:60]
        raise RuleError(
            f"the {target.name} query for the single IOC {shown!r} is {query.characters:,} "
            f"characters, over the {RULE_CHARACTER_LIMIT:,} a rule allows; switch that IOC off "
            "or use --strategy watchlist"
        )
    count = max(2, math.ceil(query.characters / (RULE_CHARACTER_LIMIT * 0.9)))
    size = math.ceil(len(iocs) / count)
    fitted: list[tuple[list[Ioc], Query]] = []
    for start in range(0, len(iocs), size):
        chunk = iocs[start : start + size]
        fitted.extend(_fit(chunk, planned(chunk), planned, target))
    return fitted


def _too_big(target: Target, family: str, characters: int, parts: int) -> str:
    return (
        f"the {target.name} query for {family} is {characters:,} characters and would need "
        f"{parts} rules of at most {RULE_CHARACTER_LIMIT:,} (foxhunt writes up to "
        f"{MAX_RULE_PARTS}); use --strategy watchlist --watchlist-alias NAME and upload the "
        "--format watchlist-csv export instead"
    )


def _family_label(hunt: Hunt) -> str:
    """The family's display name, safe for one line and short enough for a rule name."""
    name = hunt.family.name if hunt.family else "all loaded families"
    name = " ".join(comment_text(name).split())
    return name if len(name) <= 64 else name[:61] + "..."


_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """A file-name-safe form of hostile text (never empty, never a path)."""
    return _SLUG.sub("-", text.casefold()).strip("-")[:48].strip("-") or "x"


def _severity(iocs: Sequence[Ioc]) -> str:
    """High when every IOC is trusted (confidence >= 90), Low when none reaches 50, else
    Medium (also when ThreatFox gave no confidence)."""
    known = [i.confidence for i in iocs if i.confidence is not None]
    if known and min(known) >= 90 and len(known) == len(iocs):
        return "High"
    if known and max(known) < 50:
        return "Low"
    return "Medium"


def _mitre(iocs: Sequence[Ioc]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    tactics: dict[str, None] = {}
    techniques: dict[str, None] = {}
    for ioc in iocs:
        found = THREAT_MITRE.get(ioc.threat_type.strip().lower())
        if found is None:
            found = _FALLBACK_FILE if ioc.type.is_hash else _FALLBACK_NETWORK
        tactics.update(dict.fromkeys(found[0]))
        techniques.update(dict.fromkeys(found[1]))
    return tuple(tactics), tuple(techniques)


def _connectors(target: Target) -> tuple[tuple[str, str], ...]:
    # The ASIM DNS connector writes its own table, named like the connector; the parsers
    # without a connector in the catalogue list none (Sentinel allows an empty list).
    return tuple((c.id, c.id if target.asim else target.name) for c in target.connectors)


def project_columns(query: Query) -> list[str]:
    """The columns the block outputs: its `project` line."""
    line = next(ln for ln in reversed(query.body) if ln.startswith("| project "))
    return [c.strip() for c in line.removeprefix("| project ").split(",")]


def entity_mappings(target: Target, query: Query) -> tuple[dict[str, object], ...]:
    """The target's entities onto columns the query really outputs, at most five."""
    projected = set(project_columns(query))
    groups: list[tuple[str, dict[str, str]]] = []  # (entity type, identifier -> column)
    for column, spec in target.entities.items():
        if column not in projected:
            continue
        entity, _, identifier = spec.partition(".")
        if groups and groups[-1][0] == entity and identifier not in groups[-1][1]:
            groups[-1][1][identifier] = column
        else:
            groups.append((entity, {identifier: column}))
    return tuple(
        {"entityType": entity,
         "fieldMappings": [{"identifier": i, "columnName": c} for i, c in fields.items()]}
        for entity, fields in groups[:MAX_ENTITY_MAPPINGS]
    )


def _description(hunt: Hunt, target: Target, query: Query, iocs: Sequence[Ioc],
                 frequency: int, period: int, now: datetime, suffix: str) -> str:
    counts: dict[IocType, int] = {}
    for ioc in iocs:
        counts[ioc.type] = counts.get(ioc.type, 0) + 1
    listed = ", ".join(f"{counts[t]:,} {t.value}" for t in TYPE_ORDER if t in counts)
    family = _family_label(hunt)
    opts = hunt.options
    text = (f"Alerts on {target.purpose} matching ThreatFox IOCs of {family}{suffix}: "
            f"{listed} (match {opts.match.value}). ")
    if opts.strategy is Strategy.WATCHLIST and "_GetWatchlist(" in query.kql:
        text += (f"The IOCs are read from the Sentinel watchlist {opts.watchlist_alias}; upload "
                 "foxhunt's watchlist-csv export to it with Ioc as the search key. ")
    else:
        text += (f"The IOC list is fixed as of {now.astimezone(UTC):%Y-%m-%d}: export again "
                 "to refresh it (the rule id stays the same). ")
    if frequency < period:
        text += (f"Runs every {yaml_span(frequency)} over the last {yaml_span(period)} and "
                 "keeps only rows ingested since the previous run, so each event alerts once "
                 "and late events are still caught. ")
    else:
        text += f"Runs every {yaml_span(frequency)} over the last {yaml_span(period)}. "
    text += f"Requires {target.requirement(Flavour.SENTINEL)}. Generated by foxhunt {__version__}."
    return comment_text(text)


# -- YAML --------------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Block-style YAML as the Azure-Sentinel repository writes it: lists indented under
    their key, multi-line text (the query) as a literal block."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)


def rule_document(rule: Rule) -> dict[str, object]:
    """The rule as an Azure-Sentinel analytic-rule template (key order as in that repo)."""
    return {
        "id": rule.id,
        "name": rule.name,
        "description": rule.description,
        "severity": rule.severity,
        "requiredDataConnectors": [
            {"connectorId": cid, "dataTypes": [data_type]} for cid, data_type in rule.connectors
        ],
        "queryFrequency": yaml_span(rule.frequency),
        "queryPeriod": yaml_span(rule.period),
        "triggerOperator": "gt",
        "triggerThreshold": 0,
        "tactics": list(rule.tactics),
        "relevantTechniques": list(rule.techniques),
        "query": rule.kql,
        "entityMappings": [_plain(m) for m in rule.entity_mappings],
        "version": RULE_VERSION,
        "kind": "Scheduled",
    }


def rule_yaml(rule: Rule) -> str:
    return yaml.dump(rule_document(rule), Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     width=1_000_000, default_flow_style=False)


def _plain(value: object) -> object:
    """Deep copy into plain dicts and lists (the YAML and JSON writers' input)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# -- ARM ---------------------------------------------------------------------------------------


def arm_template(rules: Sequence[Rule]) -> dict[str, object]:
    """A deployable ARM template: every rule as a `Microsoft.SecurityInsights/alertRules`
    extension resource on the workspace named by the `workspace` parameter."""
    resources = []
    for rule in rules:
        properties = {
            "displayName": rule.name,
            "description": rule.description,
            "severity": rule.severity,
            "enabled": True,
            "query": rule.kql,
            "queryFrequency": iso_span(rule.frequency),
            "queryPeriod": iso_span(rule.period),
            "triggerOperator": "GreaterThan",
            "triggerThreshold": 0,
            "suppressionDuration": "PT5H",
            "suppressionEnabled": False,
            "tactics": list(rule.tactics),
            "techniques": list(rule.techniques),
            "entityMappings": _plain(rule.entity_mappings),
            "eventGroupingSettings": {"aggregationKind": "SingleAlert"},
            "incidentConfiguration": {
                "createIncident": True,
                "groupingConfiguration": {
                    "enabled": False,
                    "reopenClosedIncident": False,
                    "lookbackDuration": "PT5H",
                    "matchingMethod": "AllEntities",
                    "groupByEntities": [],
                    "groupByAlertDetails": [],
                    "groupByCustomDetails": [],
                },
            },
        }
        resources.append({
            "type": "Microsoft.SecurityInsights/alertRules",
            "apiVersion": ARM_API_VERSION,
            "name": rule.id,
            "scope": "[format('Microsoft.OperationalInsights/workspaces/{0}', "
                     "parameters('workspace'))]",
            "kind": "Scheduled",
            "properties": arm_literal(properties),
        })
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/"
                   "deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "workspace": {
                "type": "string",
                "metadata": {"description": "Name of the Log Analytics workspace where "
                                            "Microsoft Sentinel runs"},
            },
        },
        "resources": resources,
    }


def arm_json(rules: Sequence[Rule]) -> str:
    return json.dumps(arm_template(rules), indent=2, ensure_ascii=False) + "\n"


def arm_literal(value: object) -> object:
    """ARM evaluates a string that starts with `[` and ends with `]` as an expression; a
    literal one is written with the bracket doubled. Applied to every string we pass."""
    if isinstance(value, str):
        return "[" + value if value.startswith("[") and value.endswith("]") else value
    if isinstance(value, dict):
        return {k: arm_literal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [arm_literal(v) for v in value]
    return value
