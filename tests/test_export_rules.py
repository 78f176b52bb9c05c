"""Sentinel analytic rules (YAML and ARM) checked against the Azure-Sentinel template rules.

The facts below are those the Azure-Sentinel repository's template validator enforces
(`.script/tests/detectionTemplateSchemaValidation/Models`: ScheduledTemplateInternalModel,
AnalyticsTemplateInternalModelBase, EntityMappingIdentifiers, ValidEntityMappingsAttribute,
FrequencyLimitationForLongPeriodQuery, NoTechniquesWithoutMatchingTactics and the
KillChainTechniquesHelper technique table), and for ARM the Microsoft.SecurityInsights
2024-09-01 REST specification (AlertRules.json: required ScheduledAlertRuleProperties).
`sentinel_template_problems` re-implements those checks; a test shows it does reject.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from itertools import product
from pathlib import Path

import pytest
import yaml

from tests.hostile import HOSTILE_FAMILY, hostile_dataset
from tui.core.dataset import DatasetBuilder, RawIoc
from tui.core.kql import timespan_seconds
from tui.core.model import IocType
from tui.core.planner import (
    RULE_CHARACTER_LIMIT,
    Hunt,
    Options,
    RuleShape,
    Strategy,
    plan,
)
from tui.core.targets import CATALOGUE, Flavour, IpMode, MatchMode, routes_for
from tui.export import ExportError, export_files
from tui.export import rules as rules_module
from tui.export.rules import arm_literal, build_rules, project_columns, rule_document
from tui.sources.files import load_files

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
DATA = Path(__file__).parent / "data"

# -- facts from the Azure-Sentinel validator and the ARM specification -------------------------

REQUIRED = ("id", "name", "description", "kind", "severity", "requiredDataConnectors",
            "queryFrequency", "queryPeriod", "triggerOperator", "triggerThreshold", "query")
SEVERITIES = {"Informational", "Low", "Medium", "High"}
TRIGGER_OPERATORS = {"gt", "lt", "eq", "ne", "GreaterThan", "LessThan", "Equal", "NotEqual"}
TACTICS = {"InitialAccess", "Execution", "Persistence", "PrivilegeEscalation", "DefenseEvasion",
           "CredentialAccess", "Discovery", "LateralMovement", "Collection", "Exfiltration",
           "CommandAndControl", "Impact", "Reconnaissance", "ResourceDevelopment",
           "ImpairProcessControl", "InhibitResponseFunction"}
# KillChainTechniquesHelper: every tactic a technique belongs to must be listed in `tactics`.
TECHNIQUE_TACTICS = {
    "T1071": {"CommandAndControl"},
    "T1105": {"CommandAndControl"},
    "T1204": {"Execution"},
    "T1056": {"CredentialAccess", "Collection"},
    "T1041": {"Exfiltration"},
    "T1566": {"InitialAccess"},
}
# EntityMappingIdentifiers.cs: valid identifiers, and the sets of which one must be complete.
ENTITY_IDENTIFIERS: dict[str, tuple[set[str], list[set[str]]]] = {
    "Account": ({"Name", "FullName", "NTDomain", "DnsDomain", "UPNSuffix", "Sid", "AadTenantId",
                 "AadUserId", "PUID", "IsDomainJoined", "DisplayName", "ObjectGuid"},
                [{"FullName"}, {"Sid"}, {"Name"}, {"AadUserId"}, {"PUID"}, {"ObjectGuid"}]),
    "Host": ({"DnsDomain", "NTDomain", "HostName", "FullName", "NetBiosName", "AzureID",
              "OMSAgentID", "OSFamily", "OSVersion", "IsDomainJoined"},
             [{"FullName"}, {"HostName"}, {"NetBiosName"}, {"AzureID"}, {"OMSAgentID"}]),
    "IP": ({"Address"}, [{"Address"}]),
    "DNS": ({"DomainName"}, [{"DomainName"}]),
    "URL": ({"Url"}, [{"Url"}]),
    "File": ({"Directory", "Name"}, [{"Name"}]),
    "FileHash": ({"Algorithm", "Value"}, [{"Algorithm", "Value"}]),
    "Process": ({"ProcessId", "CommandLine", "ElevationToken", "CreationTimeUtc"},
                [{"CommandLine"}, {"ProcessId"}]),
    "MailMessage": ({"Recipient", "Urls", "Threats", "Sender", "P1Sender", "P1SenderDisplayName",
                     "P1SenderDomain", "SenderIP", "P2Sender", "P2SenderDisplayName",
                     "P2SenderDomain", "ReceivedDate", "NetworkMessageId", "InternetMessageId",
                     "Subject", "BodyFingerprintBin1", "BodyFingerprintBin2",
                     "BodyFingerprintBin3", "BodyFingerprintBin4", "BodyFingerprintBin5",
                     "AntispamDirection", "DeliveryAction", "DeliveryLocation", "Language",
                     "ThreatDetectionMethods"},
                    [{"NetworkMessageId"}, {"Recipient"}]),
}
# Connector ids the reference sheet found in Azure-Sentinel for our tables (kql-sentinel §4).
KNOWN_CONNECTORS = {"DNS", "MicrosoftThreatProtection", "CEF", "CefAma", "ASimDnsActivityLogs"}
ARM_REQUIRED = {"displayName", "enabled", "severity", "query", "queryFrequency", "queryPeriod",
                "triggerOperator", "triggerThreshold", "suppressionEnabled",
                "suppressionDuration"}
ARM_OPERATORS = {"GreaterThan", "LessThan", "Equal", "NotEqual"}
_SPAN = re.compile(r"(\d+)([mhd])")
_COLUMN = re.compile(r"^[a-zA-Z_]+\w*$")


def span_seconds(text: str) -> int:
    match = _SPAN.fullmatch(text)
    assert match, f"{text!r} is not <n>m, <n>h or <n>d"
    return int(match.group(1)) * {"m": 60, "h": 3600, "d": 86400}[match.group(2)]


def iso_seconds(text: str) -> int:
    match = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?", text)
    assert match and text not in {"P", "PT"}, f"{text!r} is not an ISO 8601 duration"
    days, hours, minutes = (int(g or 0) for g in match.groups())
    return days * 86400 + hours * 3600 + minutes * 60


def sentinel_template_problems(doc: dict) -> list[str]:
    """What the Azure-Sentinel validator would reject in an analytic-rule template."""
    problems = [f"missing {key}" for key in REQUIRED if key not in doc]
    if problems:
        return problems
    try:
        uuid.UUID(str(doc["id"]))
    except ValueError:
        problems.append("id is not a GUID")
    if doc["kind"] != "Scheduled":
        problems.append("kind")
    if not isinstance(doc["name"], str) or not 0 < len(doc["name"]) <= 256:
        problems.append("name length")
    if not isinstance(doc["description"], str) or not 0 < len(doc["description"]) <= 5000:
        problems.append("description length")
    if doc["severity"] not in SEVERITIES:
        problems.append("severity")
    if doc["triggerOperator"] not in TRIGGER_OPERATORS:
        problems.append("triggerOperator")
    threshold = doc["triggerThreshold"]
    if isinstance(threshold, bool) or not isinstance(threshold, int) or not 0 <= threshold <= 10000:
        problems.append("triggerThreshold")
    query = doc["query"]
    if not isinstance(query, str) or not 1 <= len(query) <= 10000:
        problems.append("query length")
    elif re.search(r"\b(search|union)\s+\*", query):
        problems.append("search * / union *")
    try:
        frequency, period = span_seconds(doc["queryFrequency"]), span_seconds(doc["queryPeriod"])
    except AssertionError as exc:
        problems.append(str(exc))
    else:
        for what, value in (("queryFrequency", frequency), ("queryPeriod", period)):
            if not 300 <= value <= 14 * 86400:
                problems.append(f"{what} out of 5m-14d")
        if period < frequency:
            problems.append("queryPeriod < queryFrequency")
        if period >= 2 * 86400 and frequency < 3600:
            problems.append("period >= 2d needs frequency >= 1h")
    tactics = doc.get("tactics") or []
    problems += [f"tactic {t}" for t in tactics if t not in TACTICS]
    for technique in doc.get("relevantTechniques") or []:
        if not re.fullmatch(r"T\d{4}(\.\d{3})?", technique):
            problems.append(f"technique format {technique}")
            continue
        needed = TECHNIQUE_TACTICS.get(technique.split(".")[0])
        if needed is None:
            problems.append(f"technique {technique} unknown to this test's fact table")
        elif not needed <= set(tactics):
            problems.append(f"technique {technique} lacks tactics {needed - set(tactics)}")
    connectors = doc["requiredDataConnectors"]
    if not isinstance(connectors, list):
        problems.append("requiredDataConnectors")
    else:
        for conn in connectors:
            if not conn.get("connectorId") or not conn.get("dataTypes"):
                problems.append("connector shape")
    mappings = doc.get("entityMappings")
    if mappings is not None:
        if not 1 <= len(mappings) <= 5:
            problems.append("entityMappings count")
        for mapping in mappings:
            entity = mapping.get("entityType")
            if entity not in ENTITY_IDENTIFIERS:
                problems.append(f"entity {entity}")
                continue
            valid, required = ENTITY_IDENTIFIERS[entity]
            fields = mapping.get("fieldMappings") or []
            if not 1 <= len(fields) <= 3:
                problems.append("fieldMappings count")
            used = [f.get("identifier") for f in fields]
            problems += [f"{entity} identifier {i}" for i in used if i not in valid]
            if len(set(used)) != len(used):
                problems.append(f"{entity} identifier repeated")
            if not any(req <= set(used) for req in required):
                problems.append(f"{entity} lacks required identifiers")
            problems += [f"column {f.get('columnName')!r}" for f in fields
                         if not _COLUMN.match(str(f.get("columnName")))]
    version = doc.get("version")
    if not isinstance(version, str) or not re.fullmatch(r"\d+\.\d+\.\d+", version):
        problems.append("version")
    return problems


# -- helpers -----------------------------------------------------------------------------------


def _purerat(**changes) -> Hunt:
    data = load_files([DATA / "malwareinfo_purerat.json"])
    fam = data.find_family("PureRAT")
    hunt = Hunt(fam, tuple(data.family_iocs(fam)), rejected=tuple(data.rejected),
                sources=tuple(data.sources))
    return replace(hunt, **changes)


def _hostile(**changes) -> Hunt:
    data = hostile_dataset()
    fam = next(iter(data.families.values()))
    hunt = Hunt(fam, tuple(data.iocs), rejected=tuple(data.rejected), sources=tuple(data.sources))
    return replace(hunt, **changes)


def _docs(hunt: Hunt) -> list[dict]:
    files = export_files("sentinel-rule", hunt, plan(hunt, now=NOW), now=NOW)
    docs = [yaml.safe_load(f.content) for f in files]
    assert all(f.name.endswith(".yaml") and "/" not in f.name for f in files)
    return docs


def _check(kusto, doc: dict) -> None:
    assert sentinel_template_problems(doc) == []
    kusto.assert_valid(doc["query"], "sentinel")
    block = [ln for ln in doc["query"].splitlines() if ln.startswith("| project ")]
    assert len(block) == 1
    projected = {c.strip() for c in block[0].removeprefix("| project ").split(",")}
    for mapping in doc.get("entityMappings", []):
        for field in mapping["fieldMappings"]:
            assert field["columnName"] in projected, (field, projected)
    target = CATALOGUE[re.search(r" IOCs in (\S+)", doc["name"]).group(1)]
    expected = {c.id for c in target.connectors}
    assert {c["connectorId"] for c in doc["requiredDataConnectors"]} == expected
    assert expected <= KNOWN_CONNECTORS


# -- the validator itself can fail --------------------------------------------------------------


def test_validator_rejects_broken_templates():
    good = _docs(_purerat())[0]
    assert sentinel_template_problems(good) == []
    breakages = {
        "severity": ("severity", "Critical"),
        "id": ("id", "not-a-guid"),
        "queryPeriod": ("queryPeriod", "15d"),
        "triggerThreshold": ("triggerThreshold", 10001),
        "tactics": ("tactics", ["Execution"]),  # T1105 needs CommandAndControl
        "query": ("query", "x" * 10_001),
    }
    for what, (key, value) in breakages.items():
        broken = copy.deepcopy(good)
        broken[key] = value
        assert sentinel_template_problems(broken), what
    broken = copy.deepcopy(good)
    broken["entityMappings"][0]["fieldMappings"][0]["identifier"] = "Hostname"
    assert sentinel_template_problems(broken)
    broken = copy.deepcopy(good)
    broken["queryFrequency"], broken["queryPeriod"] = "30m", "3d"
    assert "period >= 2d needs frequency >= 1h" in sentinel_template_problems(broken)


# -- the done-when family and every target -------------------------------------------------------


def test_purerat_rules_are_valid_and_bind(kusto):
    docs = _docs(_purerat())
    assert [d["name"] for d in docs] == [
        "ThreatFox - PureRAT IOCs in DnsEvents",
        "ThreatFox - PureRAT IOCs in UrlClickEvents",
        "ThreatFox - PureRAT IOCs in DeviceNetworkEvents",
        "ThreatFox - PureRAT IOCs in DeviceFileEvents",
    ]
    for doc in docs:
        _check(kusto, doc)
        assert doc["queryFrequency"] == "1h" and doc["queryPeriod"] == "14d"
        assert "| where TimeGenerated > ago(14d)" in doc["query"]
    by_name = {d["name"].rsplit(" ", 1)[-1]: d for d in docs}
    assert by_name["DnsEvents"]["relevantTechniques"] == ["T1105"]  # payload_delivery
    assert by_name["DeviceNetworkEvents"]["relevantTechniques"] == ["T1071"]  # botnet_cc
    assert by_name["DeviceFileEvents"]["tactics"] == ["Execution"]  # payload
    hashes = by_name["DeviceFileEvents"]["entityMappings"][0]
    assert hashes["entityType"] == "FileHash"
    assert {f["identifier"] for f in hashes["fieldMappings"]} == {"Algorithm", "Value"}


CASES = list(product(CATALOGUE.values(), MatchMode, IpMode, ["purerat", "hostile"]))


@pytest.mark.parametrize(("target", "match", "ip_mode", "data"),
                         [c for c in CASES if c[0].available(Flavour.SENTINEL)],
                         ids=lambda v: getattr(v, "name", str(v)))
def test_every_target_gives_a_valid_rule(kusto, target, match, ip_mode, data):
    make = _purerat if data == "purerat" else _hostile
    hunt = make(routes=routes_for([target.name]),
                options=Options(match=match, ip_mode=ip_mode))
    result = plan(hunt, now=NOW)
    docs = _docs(hunt)
    assert len(docs) == len(result.queries)
    for doc in docs:
        _check(kusto, doc)
        assert f"in {target.name}" in doc["name"]


def test_hostile_text_survives_yaml(kusto):
    hunt = _hostile(routes=routes_for(list(CATALOGUE)))
    files = export_files("sentinel-rule", hunt, plan(hunt, now=NOW), now=NOW)
    rules = build_rules(hunt, plan(hunt, now=NOW), NOW)
    assert len(files) == len(rules) > 5
    for file, rule in zip(files, rules, strict=True):
        doc = yaml.safe_load(file.content)
        assert doc == rule_document(rule)  # PyYAML round trip, nothing lost or added
        assert "\x1b" not in file.content and "\r" not in file.content
        assert HOSTILE_FAMILY not in doc["name"]  # control characters are shown, not kept
        assert doc["name"].startswith('ThreatFox - Evil"Fam\\u000a| take 1')
        _check(kusto, doc)


# -- the query is the planner's block --------------------------------------------------------------


def test_rule_query_is_the_planners_block_for_the_rule_window():
    hunt = _purerat(options=Options(lookback="90d"))
    result = plan(hunt, now=NOW)
    docs = _docs(hunt)
    for doc, block in zip(docs, result.queries, strict=True):
        assert doc["queryPeriod"] == "14d"  # 90d capped; the query says the same
        again = plan(replace(hunt, options=Options(lookback="14d"),
                             routes=frozenset((block.target, t) for t in block.ioc_types)),
                     now=NOW, rule=RuleShape(ingested_within="1h")).queries
        assert doc["query"] == again[0].kql
        assert "ago(90d)" in block.kql and "ago(90d)" not in doc["query"]
    # Without hashes, the rule adds exactly the ingestion-time line to the hunting block.
    same_window = plan(replace(hunt, options=Options(lookback="14d")), now=NOW)
    dns = same_window.queries[0]
    rule_lines = docs[0]["query"].splitlines()
    assert [ln for ln in rule_lines if ln != "| where ingestion_time() > ago(1h)"] == \
        dns.kql.splitlines()


@pytest.mark.parametrize(("lookback", "frequency", "period", "dedupe"), [
    ("14d", "1h", "14d", True),
    ("90d", "1h", "14d", True),
    ("36h", "1h", "36h", True),
    ("1h", "1h", "1h", False),
    ("30m", "30m", "30m", False),
    ("2m", "5m", "5m", False),
    ("90s", "5m", "5m", False),
    ("3601s", "1h", "61m", True),
])
def test_rule_window(lookback, frequency, period, dedupe):
    doc = _docs(_purerat(options=Options(lookback=lookback)))[0]
    assert (doc["queryFrequency"], doc["queryPeriod"]) == (frequency, period)
    assert f"| where TimeGenerated > ago({period})" in doc["query"]
    assert ("ingestion_time()" in doc["query"]) is dedupe
    if dedupe:
        assert f"| where ingestion_time() > ago({frequency})" in doc["query"]
    assert span_seconds(period) >= timespan_seconds(lookback) or period == "14d"


def test_asim_rules_run_once_per_period(kusto):
    hunt = _purerat(routes=routes_for(["_Im_Dns", "_Im_NetworkSession"]))
    for doc in _docs(hunt):
        assert doc["queryFrequency"] == doc["queryPeriod"] == "14d"
        assert "ingestion_time()" not in doc["query"]
        assert "starttime=ago(14d)" in doc["query"]
        _check(kusto, doc)


def test_ids_are_stable_uuid5_of_family_and_target():
    first = _docs(_purerat())
    fewer = _purerat()
    fewer = replace(fewer, off=frozenset({(IocType.DOMAIN, "dev-tokyotechie.com")}))
    later = export_files("sentinel-rule", fewer, plan(fewer, now=NOW),
                         now=datetime(2027, 1, 1, tzinfo=UTC))
    again = [yaml.safe_load(f.content) for f in later]
    assert [d["id"] for d in first] == [d["id"] for d in again]
    assert first[0]["query"] != again[0]["query"]
    assert len({d["id"] for d in first}) == len(first)
    assert all(uuid.UUID(d["id"]).version == 5 for d in first)
    other = _hostile()
    assert not {d["id"] for d in _docs(other)} & {d["id"] for d in first}


def test_mitre_for_each_threat_type():
    builder = DatasetBuilder()
    for value, threat in [("a.example", "botnet_cc"), ("b.example", "payload_delivery"),
                          ("c.example", "cc_skimming"), ("d.example", "")]:
        builder.add(RawIoc(value=value, declared_type="domain", malware="win.x",
                           malware_printable="X", threat_type=threat))
    builder.add(RawIoc(value="a" * 32, declared_type="md5_hash", malware="win.x",
                       malware_printable="X", threat_type="something_new"))
    data = builder.build()
    hunt = Hunt(data.families["win.x"], tuple(data.iocs))
    docs = {d["name"].rsplit(" ", 1)[-1]: d for d in _docs(hunt)}
    dns = docs["DnsEvents"]
    assert dns["tactics"] == ["CommandAndControl", "Collection", "CredentialAccess"]
    assert dns["relevantTechniques"] == ["T1071", "T1105", "T1056"]
    assert docs["DeviceFileEvents"]["tactics"] == ["Execution"]  # unknown threat on a hash
    for doc in docs.values():
        assert sentinel_template_problems(doc) == []


def test_severity_follows_confidence():
    def severity(confidences):
        builder = DatasetBuilder()
        for n, conf in enumerate(confidences):
            builder.add(RawIoc(value=f"d{n}.example", declared_type="domain", malware="win.x",
                               malware_printable="X", confidence=conf))
        data = builder.build()
        return _docs(Hunt(data.families["win.x"], tuple(data.iocs)))[0]["severity"]

    assert severity([95, 100]) == "High"
    assert severity([95, 60]) == "Medium"
    assert severity([10, 40]) == "Low"
    assert severity([None]) == "Medium"


# -- over 10,000 characters ------------------------------------------------------------------------


def _domains(count: int, strategy: Strategy = Strategy.INLINE, match=MatchMode.HAS) -> Hunt:
    builder = DatasetBuilder()
    for n in range(count):
        builder.add(RawIoc(value=f"host-{n:05d}.malicious-example.org", declared_type="domain",
                           malware="win.big", malware_printable="BigFamily",
                           threat_type="botnet_cc"))
    data = builder.build()
    return Hunt(data.families["win.big"], tuple(data.iocs),
                options=Options(strategy=strategy, watchlist_alias="foxhunt_big", match=match))


def test_long_query_is_split_into_rules_that_fit(kusto):
    hunt = _domains(1500)
    result = plan(hunt, now=NOW)
    assert result.queries[0].characters > RULE_CHARACTER_LIMIT
    docs = _docs(hunt)
    assert 4 <= len(docs) <= 7
    values: list[str] = []
    for number, doc in enumerate(docs, 1):
        assert doc["name"].endswith(f"(part {number} of {len(docs)})")
        assert len(doc["query"]) <= RULE_CHARACTER_LIMIT
        _check(kusto, doc)
        values += re.findall(r'"(host-\d{5}\.malicious-example\.org)"', doc["query"])
    assert sorted(values) == sorted(i.value for i in hunt.iocs)  # every IOC once
    assert len({d["id"] for d in docs}) == len(docs)
    small = _docs(_domains(10))[0]
    assert small["id"] == docs[0]["id"]  # part 1 keeps the unsplit rule's id


def test_far_too_long_points_to_the_watchlist():
    hunt = _domains(20_000)
    with pytest.raises(ExportError, match="--strategy watchlist") as caught:
        export_files("sentinel-rule", hunt, plan(hunt, now=NOW), now=NOW)
    assert "\n" not in str(caught.value)
    with pytest.raises(ExportError, match="--strategy watchlist"):
        export_files("arm", hunt, plan(hunt, now=NOW), now=NOW)


def test_one_ioc_too_long_for_any_rule(monkeypatch):
    monkeypatch.setattr(rules_module, "RULE_CHARACTER_LIMIT", 400)
    hunt = _domains(3)
    with pytest.raises(ExportError, match="single IOC"):
        export_files("sentinel-rule", hunt, plan(hunt, now=NOW), now=NOW)


def test_watchlist_rules_fit_any_family_size(kusto):
    for match in MatchMode:
        hunt = _domains(20_000, Strategy.WATCHLIST, match)
        result = plan(hunt, now=NOW)
        has_warning = any("has_any considers only" in w for w in result.all_warnings())
        assert has_warning is (match is MatchMode.HAS)
        docs = _docs(hunt)
        assert len(docs) == 1
        assert '_GetWatchlist("foxhunt_big")' in docs[0]["query"]
        assert "foxhunt_big" in docs[0]["description"]
        assert len(docs[0]["query"]) < 2000
        _check(kusto, docs[0])


def test_defender_flavour_has_no_rules():
    hunt = _purerat(options=Options(flavour=Flavour.DEFENDER))
    for fmt in ("sentinel-rule", "arm"):
        with pytest.raises(ExportError, match="sentinel flavour"):
            export_files(fmt, hunt, plan(hunt, now=NOW), now=NOW)


# -- ARM -------------------------------------------------------------------------------------------


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


@pytest.mark.parametrize("make", [_purerat, _hostile])
def test_arm_template_matches_the_yaml_rules(kusto, make):
    hunt = make(routes=routes_for(list(CATALOGUE)))
    result = plan(hunt, now=NOW)
    (file,) = export_files("arm", hunt, result, now=NOW)
    template = json.loads(file.content)
    docs = _docs(hunt)
    assert template["$schema"].endswith("/deploymentTemplate.json#")
    assert template["parameters"] == {"workspace": {"type": "string", "metadata": {
        "description": "Name of the Log Analytics workspace where Microsoft Sentinel runs"}}}
    assert len(template["resources"]) == len(docs)
    for resource, doc in zip(template["resources"], docs, strict=True):
        assert resource["type"] == "Microsoft.SecurityInsights/alertRules"
        assert resource["apiVersion"] == "2024-09-01"
        assert resource["kind"] == "Scheduled"
        assert resource["scope"] == ("[format('Microsoft.OperationalInsights/workspaces/{0}', "
                                     "parameters('workspace'))]")
        assert resource["name"] == doc["id"]
        props = resource["properties"]
        assert props.keys() >= ARM_REQUIRED
        assert props["displayName"] == doc["name"] and props["query"] == doc["query"]
        assert props["severity"] in SEVERITIES and props["triggerOperator"] in ARM_OPERATORS
        assert iso_seconds(props["queryFrequency"]) == span_seconds(doc["queryFrequency"])
        assert iso_seconds(props["queryPeriod"]) == span_seconds(doc["queryPeriod"])
        assert props["tactics"] == doc["tactics"]
        assert props["techniques"] == doc["relevantTechniques"]
        assert props["entityMappings"] == doc["entityMappings"]
        assert props["enabled"] is True and props["suppressionEnabled"] is False
        grouping = props["incidentConfiguration"]["groupingConfiguration"]
        assert {"enabled", "reopenClosedIncident", "lookbackDuration", "matchingMethod"} <= \
            grouping.keys()
        for text in _strings(props):  # no literal the deployment would evaluate
            assert not (text.startswith("[") and text.endswith("]")) or text.startswith("[[")
        kusto.assert_valid(props["query"], "sentinel")


def test_arm_literal_escapes_what_arm_would_evaluate():
    assert arm_literal("[parameters('x')]") == "[[parameters('x')]"
    assert arm_literal("[a] b") == "[a] b"
    assert arm_literal({"k": ["[x]", "y"]}) == {"k": ["[[x]", "y"]}


def test_project_columns_reads_the_output():
    hunt = _purerat()
    rules = build_rules(hunt, plan(hunt, now=NOW), NOW)
    files = rules[-1]
    assert project_columns(files.query)[-2:] == ["FileHashAlgorithm", "FileHashValue"]


def test_yaml_stays_out_of_core_and_textual_out_of_exports():
    import ast
    import subprocess
    import sys

    core = Path(__file__).parent.parent / "tui" / "core"
    for path in core.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [n for n in names if n.split(".")[0] == "yaml"], path
    code = ("import sys, tui.export, tui.core.planner\n"
            "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
