"""The Markdown hunting pack: the seed's shape for the seed's nine IOCs, hostile text kept
inert, and the round trip through the importer (`foxhunt query --source <the pack>`)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from tests.hostile import HOSTILE_FAMILY, HOSTILE_FAMILY_ID, hostile_dataset
from tui.core.dataset import DatasetBuilder, RawIoc
from tui.core.exclusions import BUILTIN_EXCLUSIONS
from tui.core.fang import defang, refang
from tui.core.planner import Hunt, plan
from tui.export import export_files, write_files
from tui.export.markdown import md_code, md_text
from tui.sources.files import _md_cell, load_files, read_text

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
DATA = Path(__file__).parent / "data"
SEED = DATA / "seed-threatfox-purerat-rule.txt"
RENDER = MarkdownIt("commonmark").enable("table")


def _seed_hunt(**changes) -> Hunt:
    data = load_files([SEED])
    fam = data.find_family("PureRAT")
    hunt = Hunt(fam, tuple(data.family_iocs(fam)), rejected=tuple(data.rejected),
                exclusions=BUILTIN_EXCLUSIONS, sources=tuple(data.sources))
    return replace(hunt, **changes)


def _pack(hunt: Hunt, families=None) -> str:
    (file,) = export_files("markdown", hunt, plan(hunt, now=NOW), now=NOW, families=families)
    assert file.name.endswith(".md")
    return file.content


def _seed_table_values() -> list[tuple[str, str]]:
    """(type, value) of every row of the seed's own IOC table, as the seed writes them."""
    lines = SEED.read_text(encoding="utf-8").splitlines()
    start = lines.index("| Type | Value | Threat Type | First Seen | Confidence |") + 2
    rows = []
    for line in lines[start:]:
        if not line.startswith("| "):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows.append((cells[0], cells[1]))
    return rows


def _table_rows(markdown: str) -> list[list[str]]:
    """The IOC table's rows as a Markdown renderer sees them (cell text, escapes undone)."""
    tokens = RENDER.parse(markdown)
    rows: list[list[str]] = []
    in_table = in_body = False
    for index, token in enumerate(tokens):
        if token.type == "table_open":
            header = next(t for t in tokens[index:] if t.type == "inline")
            in_table = header.content == "Type"
        elif token.type == "table_close":
            if in_table:
                return rows
            in_body = False
        elif in_table and token.type == "tbody_open":
            in_body = True
        elif in_table and in_body and token.type == "tr_open":
            rows.append([])
        elif in_table and in_body and token.type == "inline":
            rows[-1].append("".join(c.content for c in token.children or []))
    return rows


def test_pack_has_what_the_seed_has():
    hunt = _seed_hunt()
    result = plan(hunt, now=NOW)
    text = _pack(hunt)
    for heading in ("# ThreatFox: PureRAT IOCs", "## IOC Summary", "## Hunting queries",
                    "## Sentinel tables and data connectors", "## False-positive scenarios"):
        assert f"\n{heading}\n" in f"\n{text}"
    assert "Malware Family: PureRAT Total IOCs: 9 IOC Types: domain, url" in text
    assert "| Type | Value | Threat Type | First Seen | Confidence |" in text
    # Every row of the seed's table, defanged (domains too), nothing left live in the table.
    rows = _table_rows(text)
    seed_rows = _seed_table_values()
    assert len(rows) == len(seed_rows) == 9
    expected = {(kind, defang(refang(value))) for kind, value in seed_rows}
    assert {(r[0], r[1]) for r in rows} == expected
    assert all(r[2] == "payload_delivery" and r[4] == "100%" and r[3] == "2026-05-20"
               for r in rows)
    table = text.split("## IOC Summary", 1)[1].split("## Hunting queries", 1)[0]
    assert "dev-tokyotechie.com" not in table and "https://" not in table
    # Both hunts, verbatim, in fenced KQL blocks.
    assert [q.target for q in result.queries] == ["DnsEvents", "UrlClickEvents"]
    for query in result.queries:
        assert f"```kql\n{query.kql}\n```" in text
    assert "| where Name has_any (malicious_domains)" in text
    assert "| where Url has_any (malicious_urls)" in text
    notes = text.split("## Sentinel tables and data connectors", 1)[1]
    assert "| Sentinel Table | Notes |" in notes
    assert re.search(r"\| DnsEvents \| Requires data connector .*\(DNS\)", notes)
    assert re.search(r"\| UrlClickEvents \| Requires data connector .*MicrosoftThreatProtection",
                     notes)
    scenarios = text.split("## False-positive scenarios", 1)[1]
    assert scenarios.count("### Scenario: ") == scenarios.count("Description: ") == \
        scenarios.count("Filter/Exclusion: ") == len(BUILTIN_EXCLUSIONS) == 5
    for excl in BUILTIN_EXCLUSIONS:
        assert f"### Scenario: {excl.name}" in scenarios and excl.id in scenarios
    assert "rsync" in scenarios and "backup\\_user" not in scenarios  # intraword _ stays


def test_scenarios_say_where_an_exclusion_applies():
    hunt = _seed_hunt(exclusions=tuple(e.with_enabled(e.id == "package-manager-repo")
                                       for e in BUILTIN_EXCLUSIONS))
    text = _pack(hunt)
    line = next(ln for ln in text.splitlines() if "package-manager-repo:" in ln)
    # process_name and url: UrlClickEvents has url but no process name; DnsEvents has neither.
    assert "applied in no query" in line
    assert "not applicable in DnsEvents, UrlClickEvents" in line
    other = next(ln for ln in text.splitlines() if "rsync-backup:" in ln)
    assert "not enabled in this hunt" in other


def test_pack_round_trips_through_the_importer(tmp_path):
    hunt = _seed_hunt()
    (path,) = write_files(export_files("markdown", hunt, plan(hunt, now=NOW), now=NOW),
                          tmp_path)
    again = load_files([path])
    fam = again.find_family("PureRAT")
    assert fam is not None and fam.name == "PureRAT"
    assert {i.key for i in again.family_iocs(fam)} == {i.key for i in hunt.iocs}
    original = {i.key: i for i in hunt.iocs}
    for ioc in again.iocs:
        before = original[ioc.key]
        assert (ioc.threat_type, ioc.confidence, ioc.first_seen) == \
            (before.threat_type, before.confidence, before.first_seen)
    assert again.rejected == []


def test_pack_of_the_api_answer_keeps_family_id_tags_and_ids(tmp_path):
    data = load_files([DATA / "malwareinfo_purerat.json"])
    fam = data.find_family("PureRAT")
    hunt = Hunt(fam, tuple(data.family_iocs(fam)), sources=tuple(data.sources))
    (path,) = write_files(export_files("markdown", hunt, plan(hunt, now=NOW), now=NOW),
                          tmp_path)
    again = load_files([path])
    assert list(again.families) == ["win.pure_rat"]
    back = {i.key: i for i in again.iocs}
    assert back.keys() == {i.key for i in hunt.iocs}
    for ioc in hunt.iocs:
        assert (back[ioc.key].tags, back[ioc.key].threatfox_id) == (ioc.tags, ioc.threatfox_id)


def test_cli_imports_the_pack_again(tmp_path):
    """`foxhunt query --source <the pack>` gives the same hunts as the seed did."""
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "c"), XDG_DATA_HOME=str(tmp_path / "d"),
               HOME=str(tmp_path))

    def query(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tui", "query", *args], capture_output=True,
                              text=True, env=env, timeout=120)

    made = query("--source", str(SEED), "--family", "PureRAT", "--format", "markdown",
                 "--output-dir", str(tmp_path / "out"))
    assert made.returncode == 0, made.stderr
    pack = Path(made.stdout.strip())
    assert pack.parent == tmp_path / "out" and pack.suffix == ".md"
    first = query("--source", str(SEED), "--family", "PureRAT", "--format", "json")
    second = query("--source", str(pack), "--family", "PureRAT", "--format", "json")
    assert first.returncode == second.returncode == 0, second.stderr
    blocks = [(q["target"], q["iocs"]) for q in json.loads(first.stdout)["queries"]]
    assert blocks == [(q["target"], q["iocs"]) for q in json.loads(second.stdout)["queries"]]


def _awkward_hunt() -> Hunt:
    builder = DatasetBuilder()
    values = ["https://evil.example/a|b", "https://evil.example/`tick`", "https://evil.example/x```y",
              "https://evil.example/<img/src=x/onerror=alert(1)>", "https://evil.example/*b*_c_",
              "https://evil.example/[link](javascript:alert(1))", "https://evil.example/back\\|",
              "https://evil.example/\ud800lone"]
    for value in values:
        builder.add(RawIoc(value=value, declared_type="url", malware="win.x|y",
                           malware_printable="X (the `|` family) <b>", threat_type="payload|x",
                           tags=["<script>", "a|b"], threatfox_id="1|2"))
    data = builder.build()
    assert len(data.iocs) == len(values), data.rejected
    return Hunt(data.families["win.x|y"], tuple(data.iocs))


@pytest.mark.parametrize("make", [_awkward_hunt, lambda: _hostile_hunt()],
                         ids=["awkward", "hostile"])
def test_hostile_values_stay_inert_and_round_trip(tmp_path, make):
    hunt = make()
    text = _pack(hunt)
    html = RENDER.render(text)
    for tag in ("<img", "<script", "<a ", "<b>", "<em>", "<strong>"):
        assert tag not in html
    rows = _table_rows(text)
    assert len(rows) == len(hunt.iocs)
    assert all(len(r) == 8 for r in rows)  # no cell split or merged by a |
    # A renderer shows each value exactly, defanged (those with unprintable characters are
    # shown with \\u escapes instead; the round trip below covers them).
    printable = {defang(i.value) for i in hunt.iocs if defang(i.value).isprintable()}
    assert printable and printable <= {r[1] for r in rows}
    (path,) = write_files(export_files("markdown", hunt, plan(hunt, now=NOW), now=NOW),
                          tmp_path)
    again = load_files([path])
    assert {i.key for i in again.iocs} == {i.key for i in hunt.iocs}
    fam = next(iter(again.families.values()))
    assert (fam.key, fam.name) == (hunt.family.key, hunt.family.name)
    back = {i.key: i for i in again.iocs}
    for ioc in hunt.iocs:
        assert (back[ioc.key].threat_type, back[ioc.key].tags, back[ioc.key].threatfox_id) == \
            (ioc.threat_type, ioc.tags, ioc.threatfox_id)


def _hostile_hunt() -> Hunt:
    data = hostile_dataset()
    fam = next(iter(data.families.values()))
    assert (fam.key, fam.name) == (HOSTILE_FAMILY_ID, HOSTILE_FAMILY)
    return Hunt(fam, tuple(data.iocs), rejected=tuple(data.rejected),
                exclusions=BUILTIN_EXCLUSIONS, sources=tuple(data.sources))


def test_kql_fence_is_longer_than_any_backtick_run():
    hunt = _awkward_hunt()
    text = _pack(hunt)
    result = plan(hunt, now=NOW)
    for query in result.queries:
        assert "````kql\n" + query.kql + "\n````" in text  # the URLs hold a run of three


def test_multi_family_pack_names_each_rows_family(tmp_path):
    data = load_files([DATA / "malwareinfo_purerat.json",
                       DATA / "threatfox_recent_export_snippet.csv"])
    hunt = Hunt(None, tuple(data.iocs), sources=tuple(data.sources))
    text = _pack(hunt, families=data.families)
    assert "Malware Families: " in text and "| Family | Family ID |" in text
    (path,) = write_files([export_files("markdown", hunt, plan(hunt, now=NOW), now=NOW,
                                        families=data.families)[0]], tmp_path)
    again = load_files([path])
    assert {(i.family, i.key) for i in again.iocs} == {(i.family, i.key) for i in data.iocs}
    assert {f.name for f in again.families.values()} == {f.name for f in data.families.values()}


def test_seed_itself_still_imports():
    data = load_files([SEED])
    assert len(data.iocs) == 9 and data.find_family("PureRAT") is not None


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_md_text_and_md_code_are_undone_by_the_importer(text):
    assert _md_cell(md_text(text)) == text
    if text.strip() == text:
        assert _md_cell(md_code(text)) == text
    # one cell stays one cell, whatever the text
    row = f"| Type | Value |\n|---|---|\n| x | {md_text(text)} |\n"
    builder = DatasetBuilder()
    read_text(row, "row.md", builder)
    tokens = RENDER.parse(row)
    cells = [t for t in tokens if t.type == "td_open"]
    assert len(cells) == 2


def test_family_named_like_the_summary_label_round_trips(tmp_path):
    from tui.core.dataset import DatasetBuilder, RawIoc

    builder = DatasetBuilder()
    builder.add(RawIoc(value="evil.example", declared_type="domain", malware="win.x",
                       malware_printable="Malware Family: X"))
    data = builder.build()
    fam = data.families["win.x"]
    hunt = Hunt(fam, tuple(data.iocs))
    (file,) = export_files("markdown", hunt, plan(hunt, now=NOW), now=NOW)
    path = tmp_path / file.name
    path.write_text(file.content)
    again = load_files([path])
    assert [(f.key, f.name) for f in again.families.values()] == [("win.x", "Malware Family: X")]
