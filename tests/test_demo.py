"""The shipped demo data, session loading (files > store > demo) and a fresh home."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui.core.model import IocType, count_by_type
from tui.sources.demo import DEMO_LABEL, demo_bytes, demo_dataset
from tui.sources.files import load_files
from tui.sources.loading import load_session
from tui.sources.store import Store

ROOT = Path(__file__).parent.parent
DOC_NETS = [ipaddress.ip_network(n) for n in
            ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]
PURERAT_HOSTS = {"dev-tokyotechie.com", "readadobe-document.click", "documents-abacus.click"}


def test_purerat_is_the_seed_family_exactly(data_dir):
    demo = demo_dataset()
    fam = demo.find_family("PureHVNC")
    assert fam is not None and (fam.key, fam.name, fam.aliases) == ("win.pure_rat", "PureRAT",
                                                                      ("PureHVNC",))
    demo_iocs = {(i.type, i.value): i for i in demo.family_iocs(fam)}
    api = load_files([data_dir / "malwareinfo_purerat.json"])
    assert set(demo_iocs) == {i.key for i in api.iocs}  # the 13 records, nothing else
    for ioc in api.iocs:
        mine = demo_iocs[ioc.key]
        assert (mine.threatfox_id, mine.confidence, mine.first_seen, mine.last_seen,
                mine.tags) == (ioc.threatfox_id, ioc.confidence, ioc.first_seen,
                               ioc.last_seen, ioc.tags)
    seed = load_files([data_dir / "seed-threatfox-purerat-rule.txt"])
    assert {i.key for i in seed.iocs} <= set(demo_iocs)  # the seed's nine IOCs


def test_demo_covers_every_type_and_several_families():
    demo = demo_dataset()
    assert set(count_by_type(demo.iocs)) == set(IocType)
    assert 250 <= len(demo.iocs) <= 500 and len(demo.families) >= 6
    assert all(len(demo.family_iocs(f)) >= 10 for f in demo.families.values())
    assert demo.sources == [DEMO_LABEL]
    assert sorted(r.raw for r in demo.rejected) == ["*.cdn-sync.lumma.example",
                                                    "203.0.113.9:0"]


def test_invented_values_are_clearly_invented():
    demo = demo_dataset()
    algos = {IocType.MD5: "md5", IocType.SHA1: "sha1", IocType.SHA256: "sha256"}
    known = {hashlib.new(algo, f"foxhunt-demo-{fam}-{k}".encode()).hexdigest()
             for algo in algos.values() for fam in demo.families for k in range(200)}
    for ioc in demo.iocs:
        if ioc.family == "win.pure_rat":
            continue
        if ioc.type is IocType.IP_PORT:
            host = ioc.value.rpartition(":")[0].strip("[]")
            assert any(ipaddress.ip_address(host) in net for net in DOC_NETS), ioc.value
        elif ioc.type is IocType.DOMAIN:
            assert ioc.value.endswith(".example"), ioc.value
        elif ioc.type is IocType.URL:
            host = ioc.value.split("/")[2]
            assert host.endswith(".example") or any(
                ipaddress.ip_address(host) in net for net in DOC_NETS), ioc.value
        else:
            assert ioc.value in known, ioc.value


def test_demo_file_is_what_the_script_makes():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_demo_data.py"),
                          "--check"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert demo_bytes().startswith(b"#" * 64)


def test_each_call_gives_a_fresh_dataset():
    first = demo_dataset()
    first.iocs.clear()
    assert len(demo_dataset().iocs) > 0


# -- load_session ---------------------------------------------------------------------------


def test_sources_win_over_store_and_demo(tmp_path, data_dir):
    store = tmp_path / "store.sqlite3"
    with Store(store) as s:
        s.import_dataset(load_files([data_dir / "threatfox_recent_export_snippet.csv"]), "csv")
    dataset, origin = load_session([data_dir / "seed-threatfox-purerat-rule.txt"], store)
    assert origin == "files" and len(dataset.iocs) == 9


def test_store_when_it_has_data_else_demo(tmp_path, data_dir):
    store = tmp_path / "data" / "store.sqlite3"
    dataset, origin = load_session([], store)
    assert origin == "demo data" and len(dataset.families) >= 6
    assert not store.exists()  # looking never creates a store
    with Store(store) as s:
        assert load_session([], store)[1] == "demo data"  # an empty store: still the demo
        s.import_dataset(load_files([data_dir / "threatfox_recent_export_snippet.csv"]), "csv")
    dataset, origin = load_session([], store)
    assert origin == "store" and len(dataset.iocs) == 15
    one, origin = load_session([], store, family="PureHVNC")
    assert origin == "store" and list(one.families) == ["win.pure_rat"] and len(one.iocs) == 8
    everything, _ = load_session([], store, family="no such family")
    assert len(everything.iocs) == 15  # so the caller can say which families exist


# -- a fresh home: no config, no key, no store -------------------------------------------------


def fresh(home: Path, *args: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREATFOX_")}
    env.update(XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
               HOME=str(home))
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True,
                          env=env, timeout=60)


def test_fresh_home_families_lists_the_demo(tmp_path):
    home = tmp_path / "home"
    out = fresh(home, "families")
    assert out.returncode == 0, out.stderr
    for name in ("PureRAT", "Cobalt Strike", "Mirai", "ClearFake"):
        assert name in out.stdout
    assert "demo data" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    doc = json.loads(fresh(home, "families", "--format", "json").stdout)
    assert doc["origin"] == "demo data" and len(doc["families"]) >= 6
    assert not (home / "data").exists()  # nothing written


def test_fresh_home_query_uses_the_demo_and_says_so(tmp_path):
    out = fresh(tmp_path / "home", "query", "--family", "PureRAT", "--type", "domain")
    assert out.returncode == 0, out.stderr
    assert "dev-tokyotechie.com" in out.stdout and "demo data" in out.stderr


def test_fresh_home_unknown_family_names_the_demo_in_one_line(tmp_path):
    out = fresh(tmp_path / "home", "query", "--family", "Nope")
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown family 'Nope'" in lines[0] and "demo data" in lines[0]


@pytest.mark.parametrize("name", ["malwareinfo_purerat.json", "threatfox_recent_export_snippet.csv",
                                  "export_json_recent_snippet.json", "malware_list.json",
                                  "seed-threatfox-purerat-rule.txt"])
def test_cli_import_of_each_fixture_then_the_store_is_used(tmp_path, data_dir, name):
    home = tmp_path / "home"
    out = fresh(home, "import", str(data_dir / name))
    assert out.returncode == 0, out.stderr
    expected = len(load_files([data_dir / name]).iocs)
    assert f"{expected:,} IOCs, {expected:,} new" in out.stdout
    again = fresh(home, "import", str(data_dir / name))
    assert f"0 new, 0 updated, {expected:,} unchanged" in again.stdout
    families = json.loads(fresh(home, "families", "--format", "json").stdout)
    assert families["origin"] == "store"


def test_cli_import_of_a_bad_file_changes_nothing(tmp_path, data_dir):
    home = tmp_path / "home"
    assert fresh(home, "import", str(data_dir / "malwareinfo_purerat.json")).returncode == 0
    store = home / "data" / "foxhunt" / "foxhunt.sqlite3"
    before = store.read_bytes()
    bad = tmp_path / "bad.json"
    bad.write_text('{"query_status": "ok", "data": [')
    out = fresh(home, "import", str(data_dir / "threatfox_recent_export_snippet.csv"), str(bad))
    assert out.returncode == 1 and "bad.json is not valid JSON" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert store.read_bytes() == before


def test_cli_import_reports_rejected_values(tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text("# family: Demo\ngood.example\n127.0.0.1:80\n\x1b[31mred.example\n")
    out = fresh(tmp_path / "home", "import", str(listing))
    assert out.returncode == 0, out.stderr
    assert "1 new" in out.stdout and "2 rejected" in out.stdout
    assert "skipped '127.0.0.1:80': loopback" in out.stderr and "\x1b" not in out.stderr


@pytest.mark.parametrize("command", [["families"], ["query"], ["import", "{csv}"]])
def test_a_damaged_store_is_one_line_and_kept(tmp_path, data_dir, command):
    home = tmp_path / "home"
    store = home / "data" / "foxhunt" / "foxhunt.sqlite3"
    store.parent.mkdir(parents=True)
    store.write_bytes(b"not a database\n" * 64)
    args = [a.replace("{csv}", str(data_dir / "threatfox_recent_export_snippet.csv"))
            for a in command]
    out = fresh(home, *args)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and str(store) in lines[0] and "move it aside" in lines[0]
    assert store.read_bytes() == b"not a database\n" * 64
