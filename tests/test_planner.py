"""The planner: golden text for the seed's two hunts, and the matching semantics."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tui.core.dataset import DatasetBuilder, RawIoc
from tui.core.exclusions import BUILTIN_EXCLUSIONS, Exclusion, make_condition
from tui.core.model import IocType
from tui.core.planner import HAS_ANY_LIMIT, Hunt, Options, plan
from tui.core.targets import Flavour, IpMode, MatchMode, routes_for
from tui.sources.files import load_files

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
GOLDEN = Path(__file__).parent / "golden"


def _hunt_from(paths, family="PureRAT", **changes) -> Hunt:
    data = load_files(paths)
    fam = data.find_family(family)
    hunt = Hunt(fam, tuple(data.family_iocs(fam)), rejected=tuple(data.rejected),
                sources=tuple(data.sources))
    return replace(hunt, **changes)


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("FOXHUNT_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_seed_golden(data_dir):
    hunt = _hunt_from([data_dir / "seed-threatfox-purerat-rule.txt"])
    result = plan(hunt, now=NOW)
    assert [q.target for q in result.queries] == ["DnsEvents", "UrlClickEvents"]
    assert result.warnings == ()
    _golden("seed_purerat.kql", result.text)


def test_seed_from_api_answer_golden(data_dir):
    hunt = _hunt_from([data_dir / "malwareinfo_purerat.json"])
    hunt = replace(hunt, iocs=tuple(i for i in hunt.iocs
                                    if i.type in (IocType.DOMAIN, IocType.URL)))
    result = plan(hunt, now=NOW)
    assert [q.target for q in result.queries] == ["DnsEvents", "UrlClickEvents"]
    _golden("api_purerat.kql", result.text)


def test_blocks_are_separated_by_exactly_one_blank_line(data_dir):
    hunt = _hunt_from([data_dir / "malwareinfo_purerat.json"],
                      exclusions=tuple(e.with_enabled(True) for e in BUILTIN_EXCLUSIONS))
    result = plan(hunt, now=NOW)
    assert len(result.queries) == 4
    blocks = result.text.rstrip("\n").split("\n\n")
    assert len(blocks) == len(result.queries)
    for block, query in zip(blocks, result.queries, strict=True):
        assert block == query.kql
        assert "\n\n" not in block
        lines = block.splitlines()
        first_code = next(i for i, ln in enumerate(lines) if not ln.startswith("//"))
        assert all(ln.startswith("let ") for ln in lines[first_code:]
                   if not ln.startswith(("|", "//", "    or", query.target)))
        assert lines[-1].startswith("| order by ") and lines[-1].endswith(" desc")
        assert lines[-2].startswith("| project ")
        table = lines.index(next(ln for ln in lines if ln.startswith(query.target)))
        assert lines[table + 1].startswith("| where TimeGenerated > ago(14d)")


def test_header_carries_provenance(data_dir):
    hunt = _hunt_from([data_dir / "malwareinfo_purerat.json"],
                      off=frozenset({(IocType.DOMAIN, "dev-tokyotechie.com")}))
    query = plan(hunt, now=NOW).queries[0]
    header = "\n".join(query.header)
    assert "PureRAT (win.pure_rat; aliases PureHVNC)" in header
    assert "malwareinfo_purerat.json" in header
    assert "2 domain" in header and "1 switched off" in header
    assert "generated 2026-12-03 12:00:00 UTC" in header
    assert '"DNS (Windows DNS Server)" (DNS)' in header
    assert "dev-tokyotechie.com" not in query.iocs


def test_json_shape_lists_values_as_used(data_dir):
    hunt = _hunt_from([data_dir / "seed-threatfox-purerat-rule.txt"])
    doc = plan(hunt, now=NOW).to_json()
    assert set(doc) == {"queries", "warnings"}
    first = doc["queries"][0]
    assert set(first) == {"target", "ioc_types", "iocs", "kql", "characters", "warnings"}
    assert first["ioc_types"] == ["domain"]
    assert first["characters"] == len(first["kql"])
    for value in first["iocs"]:
        assert f'"{value}"' in first["kql"]


def _dataset(values: list[tuple[str, str]]):
    builder = DatasetBuilder()
    for declared, value in values:
        builder.add(RawIoc(value=value, declared_type=declared, malware="win.x",
                           malware_printable="X"))
    return builder.build()


def _plan(values, **changes):
    data = _dataset(values)
    hunt = Hunt(data.families["win.x"], tuple(data.iocs), rejected=tuple(data.rejected))
    return plan(replace(hunt, **changes), now=NOW)


def test_ip_port_matches_ip_and_port_together():
    result = _plan([("ip:port", "192.0.2.45:56001")],
                   routes=routes_for(["DeviceNetworkEvents"]))
    kql = result.queries[0].kql
    assert 'strcat(RemoteIP, ":", RemotePort) in (malicious_ip_ports)' in kql
    assert "RemoteIP in (malicious_ips)" in kql


def test_ip_only_mode_and_tables_without_ports():
    values = [("ip:port", "192.0.2.45:56001"), ("ip:port", "192.0.2.45:443")]
    paired = _plan(values, routes=routes_for(["DnsEvents"]))
    assert paired.queries == ()
    assert any("IP-only mode" in w for w in paired.warnings)
    ip_only = _plan(values, routes=routes_for(["DnsEvents"]),
                    options=Options(ip_mode=IpMode.IP))
    query = ip_only.queries[0]
    assert "IPAddresses has_any (malicious_ips)" in query.kql
    assert query.iocs == ("192.0.2.45",)  # one IP, as the query uses it


def test_ipv6_pairs_use_brackets():
    result = _plan([("ip:port", "[2001:db8::1]:443")],
                   routes=routes_for(["DeviceNetworkEvents"]))
    kql = result.queries[0].kql
    assert '"[2001:db8::1]:443"' in kql and '"2001:db8::1"' in kql
    assert 'strcat("[", RemoteIP, "]")' in kql and "in~ (malicious_ip_ports)" in kql


def test_exact_mode_uses_in_and_host():
    values = [("domain", "evil.example"), ("url", "https://evil.example/x")]
    has = _plan(values, routes=routes_for(["DeviceNetworkEvents"])).queries[0].kql
    assert "RemoteUrl has_any (malicious_domains)" in has
    exact = _plan(values, routes=routes_for(["DeviceNetworkEvents"]),
                  options=Options(match=MatchMode.EXACT)).queries[0].kql
    assert "has_any" not in exact
    assert "tostring(parse_url(RemoteUrl).Host) in~ (malicious_domains)" in exact
    assert "RemoteUrl in~ (malicious_urls)" in exact


def test_hashes_use_their_algorithm_column():
    values = [("md5_hash", "a" * 32), ("sha1_hash", "b" * 40), ("sha256_hash", "c" * 64)]
    kql = _plan(values).queries[0].kql
    assert "MD5 in~ (malicious_md5)" in kql
    assert "SHA1 in~ (malicious_sha1)" in kql
    assert "SHA256 in~ (malicious_sha256)" in kql


def test_has_any_lists_split_at_the_limit():
    values = [("domain", f"d{n}.example") for n in range(HAS_ANY_LIMIT + 5)]
    query = _plan(values).queries[0]
    assert [len(x.literals) for x in query.lets] == [HAS_ANY_LIMIT, 5]
    assert "Name has_any (malicious_domains_1) or Name has_any (malicious_domains_2)" in query.kql
    assert any("split" in w for w in query.warnings)
    assert any("10,000-character limit" in w for w in query.warnings)
    assert query.characters > 10_000


def test_small_queries_have_no_length_warning():
    query = _plan([("domain", "evil.example")]).queries[0]
    assert query.characters < 10_000 and query.warnings == ()


def test_exclusion_applied_or_reported():
    excl = Exclusion("svc", "Service account", (make_condition("account", "in", ["svc"]),),
                     enabled=True)
    values = [("domain", "evil.example"), ("ip:port", "192.0.2.1:80")]
    result = _plan(values, exclusions=(excl,))
    by_target = {q.target: q for q in result.queries}
    assert "InitiatingProcessAccountName in~" in by_target["DeviceNetworkEvents"].kql
    dns = by_target["DnsEvents"]
    assert "not(" not in dns.kql
    assert "not applicable here: svc (no account in DnsEvents)" in dns.kql
    assert any("svc" in w for w in dns.warnings)


def test_disabled_exclusions_are_ignored():
    excl = Exclusion("svc", "x", (make_condition("account", "in", ["svc"]),), enabled=False)
    kql = _plan([("ip:port", "192.0.2.1:80")], exclusions=(excl,)).queries[0].kql
    assert "not(" not in kql


def test_cidr_exclusion_keeps_rows_of_the_other_family():
    excl = Exclusion("lan", "LAN", (make_condition("destination_ip", "cidr",
                                                   ["10.0.0.0/8", "fd00::/8"]),), enabled=True)
    kql = _plan([("ip:port", "192.0.2.1:80")], exclusions=(excl,)).queries[0].kql
    assert "coalesce(ipv4_is_in_any_range(RemoteIP, " in kql
    assert "coalesce(ipv6_is_in_any_range(RemoteIP, " in kql


def test_defender_flavour():
    values = [("domain", "evil.example"), ("url", "https://evil.example/x")]
    result = _plan(values, options=Options(flavour=Flavour.DEFENDER))
    assert [q.target for q in result.queries] == ["UrlClickEvents", "DeviceNetworkEvents"]
    for query in result.queries:
        assert "TimeGenerated" not in query.kql and "Timestamp > ago(14d)" in query.kql
    named = _plan(values, routes=routes_for(["DnsEvents", "UrlClickEvents"]),
                  options=Options(flavour=Flavour.DEFENDER, lookback="90d"))
    assert any("DnsEvents does not exist" in w for w in named.warnings)
    assert any("30 days" in w for w in named.warnings)


def test_unrouted_types_are_reported():
    result = _plan([("md5_hash", "a" * 32)], routes=routes_for(["DnsEvents"]))
    assert result.queries == ()
    assert any("1 md5_hash IOCs are not hunted" in w for w in result.warnings)


def test_invalid_iocs_never_reach_a_query():
    result = _plan([("domain", "evil.example"), ("domain", "not a domain"),
                    ("ip:port", "127.0.0.1:80")])
    text = result.text
    assert "not a domain" not in text and "127.0.0.1" not in text
    assert sum("skipped" in w for w in result.warnings) == 2


def test_asim_filter_parameters():
    values = [("domain", "evil.example")]
    kql = _plan(values, routes=routes_for(["_Im_Dns"])).queries[0].kql
    assert "_Im_Dns(starttime=ago(14d), domain_has_any=malicious_domains)" in kql
    assert "| where DnsQuery has_any (malicious_domains)" in kql
    v6 = _plan([("ip:port", "[2001:db8::1]:443")], routes=routes_for(["_Im_NetworkSession"]))
    assert "_Im_NetworkSession(starttime=ago(14d))\n" in v6.queries[0].kql
    both = _plan([*values, ("ip:port", "192.0.2.1:80")], routes=routes_for(["_Im_NetworkSession"]))
    # parameters are ANDed by the parser, so a two-type block must not pass them
    assert "_Im_NetworkSession(starttime=ago(14d))\n" in both.queries[0].kql


def test_preview_render_bounds_long_lists():
    values = [("domain", f"d{n}.example") for n in range(500)]
    query = _plan(values).queries[0]
    short = query.render(max_values=20)
    assert "480 more values not shown" in short
    assert len(short) < len(query.kql) / 10
    assert query.render() == query.kql


@pytest.mark.parametrize("flavour", list(Flavour))
def test_plan_is_deterministic(data_dir, flavour):
    hunt = _hunt_from([data_dir / "malwareinfo_purerat.json"], options=Options(flavour=flavour))
    assert plan(hunt, now=NOW).text == plan(hunt, now=NOW).text
