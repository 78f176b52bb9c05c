"""The watchlist strategy: the CSV, its round trip, and queries that read `_GetWatchlist`."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from itertools import product
from pathlib import Path

import pytest

from tests.hostile import hostile_dataset
from tui.core.config import ConfigError, parse_config
from tui.core.dataset import DatasetBuilder, RawIoc
from tui.core.model import IocType
from tui.core.planner import (
    WATCHLIST_IP_COLUMN,
    WATCHLIST_TYPE_COLUMN,
    Hunt,
    Options,
    Strategy,
    parse_watchlist_alias,
    plan,
)
from tui.core.targets import CATALOGUE, Flavour, IpMode, MatchMode, routes_for
from tui.export import export_files, write_files
from tui.export.watchlist import SEARCH_KEY_COLUMN, WATCHLIST_COLUMNS
from tui.sources.files import load_files

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
DATA = Path(__file__).parent / "data"
ALIAS = "foxhunt_purerat"


def _hunt(data, **changes) -> Hunt:
    fam = data.find_family("PureRAT") or next(iter(data.families.values()))
    base = Hunt(fam, tuple(data.family_iocs(fam)), rejected=tuple(data.family_rejected(fam)),
                sources=tuple(data.sources),
                options=Options(strategy=Strategy.WATCHLIST, watchlist_alias=ALIAS))
    return replace(base, **changes)


def _csv(hunt: Hunt) -> str:
    (file,) = export_files("watchlist-csv", hunt, plan(hunt, now=NOW), now=NOW)
    assert file.name.endswith("-watchlist.csv")
    return file.content


def _header(text: str) -> list[str]:
    return next(csv.reader(io.StringIO(text, newline="")))


def test_csv_has_the_columns_the_queries_read():
    hunt = _hunt(load_files([DATA / "malwareinfo_purerat.json"]),
                 routes=routes_for(list(CATALOGUE)))
    text = _csv(hunt)
    header = _header(text)
    assert header == list(WATCHLIST_COLUMNS)
    result = plan(hunt, now=NOW)
    read = {name for q in result.queries for name in re.findall(r"WatchlistItem\.(\w+)", q.kql)}
    assert read == {WATCHLIST_TYPE_COLUMN, WATCHLIST_IP_COLUMN}
    assert read <= set(header)  # derived from the exact CSV, so the two cannot drift apart
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == len(hunt.iocs) == 13
    pair = next(r for r in rows if r[SEARCH_KEY_COLUMN] == "192.0.2.45:56001")
    assert (pair["IocType"], pair["Ip"], pair["Port"]) == ("ip:port", "192.0.2.45", "56001")
    assert (pair["Family"], pair["FamilyId"], pair["FamilyAliases"]) == \
        ("PureRAT", "win.pure_rat", "PureHVNC")
    assert (pair["ThreatType"], pair["Confidence"], pair["FirstSeen"]) == \
        ("botnet_cc", "75", "2026-05-20 16:22:31")
    # every type the queries pick by IocType is a type value the CSV holds
    picked = {v for q in result.queries for v in re.findall(r'IocType\) == "([^"]+)"', q.kql)}
    assert picked <= {r["IocType"] for r in rows}


def test_watchlist_csv_only_has_the_selected_iocs():
    data = load_files([DATA / "malwareinfo_purerat.json"])
    hunt = _hunt(data, off=frozenset({(IocType.DOMAIN, "dev-tokyotechie.com")}))
    keys = [r[SEARCH_KEY_COLUMN] for r in csv.DictReader(io.StringIO(_csv(hunt), newline=""))]
    assert "dev-tokyotechie.com" not in keys and len(keys) == 12


@pytest.mark.parametrize("source", ["malwareinfo_purerat.json", "hostile"])
def test_csv_round_trips(tmp_path, source):
    data = hostile_dataset() if source == "hostile" else load_files([DATA / source])
    hunt = _hunt(data)
    (path,) = write_files(export_files("watchlist-csv", hunt, plan(hunt, now=NOW), now=NOW),
                          tmp_path)
    again = load_files([path])
    assert again.rejected == []
    assert [(f.key, f.name, f.aliases) for f in again.families.values()] == [
        (hunt.family.key, hunt.family.name, hunt.family.aliases)]  # the CSV has no Malpedia link
    back = {i.key: i for i in again.iocs}
    assert back.keys() == {i.key for i in hunt.iocs}
    for ioc in hunt.iocs:
        got = back[ioc.key]
        assert (got.threat_type, got.confidence, got.first_seen, got.last_seen, got.tags,
                got.threatfox_id, got.reference) == \
            (ioc.threat_type, ioc.confidence, ioc.first_seen, ioc.last_seen, ioc.tags,
             ioc.threatfox_id, ioc.reference)


def test_cli_reads_the_watchlist_back(tmp_path):
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "c"), XDG_DATA_HOME=str(tmp_path / "d"),
               HOME=str(tmp_path))

    def query(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tui", "query", *args], capture_output=True,
                              text=True, env=env, timeout=120)

    out = tmp_path / "wl.csv"
    made = query("--source", str(DATA / "malwareinfo_purerat.json"), "--family", "PureRAT",
                 "--format", "watchlist-csv", "--output", str(out))
    assert made.returncode == 0 and made.stdout == "", made.stderr
    first = query("--source", str(DATA / "malwareinfo_purerat.json"), "--family", "PureRAT",
                  "--format", "json")
    second = query("--source", str(out), "--family", "win.pure_rat", "--format", "json")
    assert second.returncode == 0, second.stderr
    assert [(q["target"], sorted(q["iocs"])) for q in json.loads(first.stdout)["queries"]] == \
        [(q["target"], sorted(q["iocs"])) for q in json.loads(second.stdout)["queries"]]


WATCHLIST_CASES = [
    (target.name, ioc_type, match, ip_mode)
    for target in CATALOGUE.values() if target.available(Flavour.SENTINEL)
    for ioc_type, match, ip_mode in product(target.probes, MatchMode, IpMode)
    if ip_mode is IpMode.PAIR or ioc_type is IocType.IP_PORT
]


@pytest.mark.parametrize(("target", "ioc_type", "match", "ip_mode"), WATCHLIST_CASES,
                         ids=["-".join(str(p) for p in c) for c in WATCHLIST_CASES])
def test_watchlist_queries_bind_everywhere(kusto, target, ioc_type, match, ip_mode):
    """Sentinel is the only flavour with watchlists; every target and IOC type binds there."""
    hunt = _hunt(hostile_dataset(), routes=frozenset({(target, ioc_type)}),
                 options=Options(match=match, ip_mode=ip_mode, strategy=Strategy.WATCHLIST,
                                 watchlist_alias="a-b_1"))
    result = plan(hunt, now=NOW)
    for query in result.queries:
        assert '_GetWatchlist("a-b_1")' in query.kql
        assert "dynamic([" not in "\n".join(ln for ln in query.kql.splitlines()
                                            if ln.startswith("let "))
        assert not any(v in query.kql for v in query.iocs)  # the values live in the watchlist
        kusto.assert_valid(query.kql, "sentinel")
    probe = CATALOGUE[target].probes[ioc_type]
    expected = 0 if (ioc_type is IocType.IP_PORT and ip_mode is IpMode.PAIR
                     and not probe.port) else 1
    assert len(result.queries) == expected


def test_asim_parsers_get_no_prefilter_from_a_watchlist(kusto):
    hunt = _hunt(load_files([DATA / "malwareinfo_purerat.json"]),
                 routes=routes_for(["_Im_Dns"]))
    (query,) = plan(hunt, now=NOW).queries
    assert "_Im_Dns(starttime=ago(14d))\n" in query.kql  # domain_has_any takes a literal
    assert "| where DnsQuery has_any (malicious_domains)" in query.kql
    kusto.assert_valid(query.kql, "sentinel")


def test_defender_flavour_falls_back_to_inline_lists(kusto):
    hunt = _hunt(load_files([DATA / "malwareinfo_purerat.json"]),
                 options=Options(flavour=Flavour.DEFENDER, strategy=Strategy.WATCHLIST,
                                 watchlist_alias=ALIAS))
    result = plan(hunt, now=NOW)
    assert any("watchlists exist only in Microsoft Sentinel" in w for w in result.warnings)
    for query in result.queries:
        assert "_GetWatchlist" not in query.kql and "dynamic([" in query.kql
        kusto.assert_valid(query.kql, "defender")


@pytest.mark.parametrize("alias", ["", "has space", 'x") | take 1 //', "ü", "a" * 65])
def test_bad_alias_is_refused(alias):
    with pytest.raises(ValueError, match="watchlist alias"):
        parse_watchlist_alias(alias)
    hunt = _hunt(load_files([DATA / "malwareinfo_purerat.json"]),
                 options=Options(strategy=Strategy.WATCHLIST, watchlist_alias=alias))
    result = plan(hunt, now=NOW)
    assert any("the IOC lists are inline" in w for w in result.warnings)
    assert all("_GetWatchlist" not in q.kql for q in result.queries)


def test_good_alias_is_quoted_by_the_one_escaper():
    assert parse_watchlist_alias(" Fox-hunt_1 ") == "Fox-hunt_1"
    hunt = _hunt(load_files([DATA / "malwareinfo_purerat.json"]),
                 options=Options(strategy=Strategy.WATCHLIST, watchlist_alias="Fox-hunt_1"))
    assert '_GetWatchlist("Fox-hunt_1") | where tostring(WatchlistItem.IocType) == "domain"' \
        in plan(hunt, now=NOW).queries[0].kql


def test_big_family_warns_about_has_any_limit():
    builder = DatasetBuilder()
    for n in range(10_050):
        builder.add(RawIoc(value=f"d{n}.example", declared_type="domain", malware="win.big",
                           malware_printable="Big"))
    data = builder.build()
    hunt = Hunt(data.families["win.big"], tuple(data.iocs),
                options=Options(strategy=Strategy.WATCHLIST, watchlist_alias="big"))
    result = plan(hunt, now=NOW)
    assert result.queries[0].characters < 1000
    assert any("has_any considers only 10,000" in w for w in result.all_warnings())
    exact = plan(replace(hunt, options=replace(hunt.options, match=MatchMode.EXACT)), now=NOW)
    assert not any("has_any" in w for w in exact.all_warnings())


def test_config_keys(tmp_path):
    config = parse_config('[query]\nstrategy = "watchlist"\nwatchlist_alias = "fox_1"\n',
                          tmp_path / "c.toml")
    assert config.options.strategy is Strategy.WATCHLIST
    assert config.options.watchlist_alias == "fox_1"
    assert parse_config("", tmp_path / "c.toml").options.strategy is Strategy.INLINE
    with pytest.raises(ConfigError, match=r"line 2: key 'query\.watchlist_alias'"):
        parse_config('[query]\nwatchlist_alias = "bad alias"\n', tmp_path / "c.toml")
    with pytest.raises(ConfigError, match=r"query\.strategy"):
        parse_config('[query]\nstrategy = "external"\n', tmp_path / "c.toml")


def test_csv_text_cells_are_terminal_and_spreadsheet_safe(tmp_path):
    import csv as csv_module
    import io

    from tests.hostile import HOSTILE_FAMILY
    from tui.core.dataset import DatasetBuilder, RawIoc

    builder = DatasetBuilder()
    builder.add(RawIoc(value="evil.example", declared_type="domain", malware="win.x",
                       malware_printable="=HYPERLINK(\"http://x\")" + HOSTILE_FAMILY,
                       threat_type="botnet_cc\x1b[2J", tags=["@SUM(1)", "X\x1b]0;PWNED\x07"],
                       reference="+cmd|' /C calc'!A0"))
    data = builder.build()
    hunt = _hunt(data)
    (file,) = export_files("watchlist-csv", hunt, plan(hunt, now=NOW), now=NOW)
    assert not any((ord(ch) < 32 and ch not in "\r\n") or 0x7F <= ord(ch) < 0xA0
                   for ch in file.content)
    rows = list(csv_module.reader(io.StringIO(file.content)))
    for cell in rows[1]:
        assert cell[:1] not in ("=", "+", "-", "@"), cell
    (path,) = write_files([file], tmp_path)
    again = load_files([path])
    fam = next(iter(again.families.values()))
    assert fam.name == "=HYPERLINK(\"http://x\")" + HOSTILE_FAMILY
    assert again.iocs[0].tags == ("@SUM(1)", "X\x1b]0;PWNED\x07")
    assert again.iocs[0].reference == "+cmd|' /C calc'!A0"
    assert again.iocs[0].threat_type == "botnet_cc\x1b[2J"
