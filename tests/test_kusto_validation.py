"""The validation tier: every query foxhunt can emit parses and binds under Microsoft's own
Kusto.Language against the real table and ASIM schemas (tests/kusto/schema_*.json)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from itertools import product

import pytest

from tests.hostile import hostile_dataset
from tui.core import planner
from tui.core.exclusions import BUILTIN_EXCLUSIONS, Exclusion, Field, Op, make_condition
from tui.core.planner import Hunt, Options, plan
from tui.core.targets import CATALOGUE, Flavour, IpMode, MatchMode
from tui.sources.files import load_files

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
SCHEMA = {Flavour.SENTINEL: "sentinel", Flavour.DEFENDER: "defender"}


def _every_op_exclusions() -> tuple[Exclusion, ...]:
    """One exclusion per (field, op) with awkward values, all enabled."""
    awkward = ['C:\\Program Files\\x"y', "it's", "ü€𝕏", "line\nbreak", "/var/log/"]
    made = []
    for fld in Field:
        for op in Op:
            if op is Op.CIDR:
                if fld not in (Field.SOURCE_IP, Field.DESTINATION_IP):
                    continue
                values = ["10.0.0.0/8", "192.0.2.1", "2001:db8::/32"]
            else:
                values = awkward
            made.append(Exclusion(f"{fld.value}-{op.value}", f"{fld} {op}",
                                  (make_condition(fld.value, op.value, values),), enabled=True))
    return tuple(made)


def _hunt(**changes) -> Hunt:
    data = hostile_dataset()
    fam = next(iter(data.families.values()))
    base = Hunt(fam, tuple(data.iocs), rejected=tuple(data.rejected),
                sources=tuple(data.sources))
    return replace(base, **changes)


def _validate_plan(kusto, hunt: Hunt) -> int:
    result = plan(hunt, now=NOW)
    for query in result.queries:
        kusto.assert_valid(query.kql, SCHEMA[hunt.options.flavour])
    return len(result.queries)


CASES = [
    (flavour, target.name, ioc_type, match, ip_mode)
    for flavour in Flavour
    for target in CATALOGUE.values() if target.available(flavour)
    for ioc_type in target.probes
    for match in MatchMode
    for ip_mode in IpMode
    if ip_mode is IpMode.PAIR or ioc_type.value == "ip:port"
]


@pytest.mark.parametrize(("flavour", "target", "ioc_type", "match", "ip_mode"), CASES,
                         ids=["-".join(str(p) for p in c) for c in CASES])
def test_every_target_type_flavour_binds(kusto, flavour, target, ioc_type, match, ip_mode):
    hunt = _hunt(routes=frozenset({(target, ioc_type)}),
                 options=Options(flavour=flavour, match=match, ip_mode=ip_mode))
    built = _validate_plan(kusto, hunt)
    probe = CATALOGUE[target].probes[ioc_type]
    expected = 0 if (ioc_type.value == "ip:port" and ip_mode is IpMode.PAIR
                     and not probe.port) else 1
    assert built == expected


@pytest.mark.parametrize(("flavour", "target"), [
    (f, t.name) for f in Flavour for t in CATALOGUE.values() if t.available(f)
])
@pytest.mark.parametrize("exclusion", [None, *BUILTIN_EXCLUSIONS, "all-builtin", "every-op"],
                         ids=lambda e: e.id if isinstance(e, Exclusion) else str(e))
def test_targets_with_each_exclusion_bind(kusto, flavour, target, exclusion):
    if exclusion is None:
        exclusions: tuple[Exclusion, ...] = ()
    elif exclusion == "all-builtin":
        exclusions = tuple(e.with_enabled(True) for e in BUILTIN_EXCLUSIONS)
    elif exclusion == "every-op":
        exclusions = _every_op_exclusions()
    else:
        exclusions = (exclusion.with_enabled(True),)
    routes = frozenset((target, t) for t in CATALOGUE[target].probes)
    for ip_mode, match in product(IpMode, MatchMode):
        hunt = _hunt(routes=routes, exclusions=exclusions,
                     options=Options(flavour=flavour, ip_mode=ip_mode, match=match))
        assert _validate_plan(kusto, hunt) == 1


def test_split_lists_bind(kusto, monkeypatch):
    """Lists over the has_any limit are split; shown with a tiny limit to keep parsing fast."""
    monkeypatch.setattr(planner, "HAS_ANY_LIMIT", 1)
    for flavour in Flavour:
        for target in CATALOGUE.values():
            if not target.available(flavour):
                continue
            routes = frozenset((target.name, t) for t in target.probes)
            for match, ip_mode in product(MatchMode, IpMode):
                hunt = _hunt(routes=routes,
                             options=Options(flavour=flavour, match=match, ip_mode=ip_mode))
                result = plan(hunt, now=NOW)
                assert any("_2" in let.name for q in result.queries for let in q.lets)
                for query in result.queries:
                    kusto.assert_valid(query.kql, SCHEMA[flavour])


@pytest.mark.parametrize("flavour", list(Flavour))
def test_default_targets_on_fixtures_bind(kusto, data_dir, flavour):
    data = load_files([data_dir / "malwareinfo_purerat.json",
                       data_dir / "threatfox_recent_export_snippet.csv"])
    for fam in data.families.values():
        hunt = Hunt(fam, tuple(data.family_iocs(fam)), options=Options(flavour=flavour),
                    exclusions=tuple(e.with_enabled(True) for e in BUILTIN_EXCLUSIONS))
        _validate_plan(kusto, hunt)


def test_harness_rejects_broken_queries(kusto):
    """The tier can fail: a wrong column, an unknown table and a bad escape are all errors."""
    assert kusto.errors("DnsEvents | where QueryName has 'x'")
    assert kusto.errors("DnsEvent | take 1")
    assert kusto.errors('print x = "a\\/b"')
    assert kusto.errors("DeviceNetworkEvents | where TimeGenerated > ago(1d)", "defender")
    assert not kusto.errors("DeviceNetworkEvents | where Timestamp > ago(1d)", "defender")


@pytest.mark.parametrize("name", ["seed_purerat.kql", "api_purerat.kql"])
def test_golden_files_bind(kusto, name):
    from pathlib import Path

    text = (Path(__file__).parent / "golden" / name).read_text(encoding="utf-8")
    blocks = text.rstrip("\n").split("\n\n")
    assert len(blocks) == 2
    for block in blocks:
        kusto.assert_valid(block, "sentinel")
