"""The SQLite store: upserts, identity, provenance, atomicity, damaged files, big imports."""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import subprocess
import sys
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.hostile import hostile_dataset
from tui import paths
from tui.core.dataset import DatasetBuilder, RawIoc
from tui.core.model import Dataset, Family, Ioc, IocType
from tui.sources.files import load_files
from tui.sources.store import ImportSummary, Store, StoreError


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "data" / "foxhunt.sqlite3") as opened:
        yield opened


def dump(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return "\n".join(db.iterdump())
    finally:
        db.close()


def test_a_new_store_is_empty_in_wal_mode_with_its_folder(tmp_path):
    path = tmp_path / "deep" / "er" / "foxhunt.sqlite3"
    with Store(path) as store:
        assert store.is_empty() and store.families() == [] and store.load().iocs == []
        assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert path.is_file()


def test_store_file_honours_xdg_data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert paths.store_file() == tmp_path / "xdg" / "foxhunt" / "foxhunt.sqlite3"


def test_import_then_reimport_counts(store, data_dir):
    api = load_files([data_dir / "malwareinfo_purerat.json"])
    assert store.import_dataset(api, "api") == ImportSummary(13, 0, 0, 0)
    assert store.import_dataset(api, "api again") == ImportSummary(0, 0, 13, 0)
    assert not store.is_empty()
    [summary] = store.families()
    assert summary.family == Family("win.pure_rat", "PureRAT", ("PureHVNC",),
                                    "https://malpedia.caad.fkie.fraunhofer.de/details/win.pure_rat")
    assert summary.counts == {IocType.DOMAIN: 3, IocType.URL: 6, IocType.IP_PORT: 2,
                              IocType.SHA256: 2}
    assert summary.total == 13
    assert summary.last_seen == datetime(2026, 5, 20, 16, 24, 10, tzinfo=UTC)
    assert [(f.source, f.summary.new) for f in store.fetch_log()] == [("api again", 0),
                                                                       ("api", 13)]


def test_loaded_iocs_equal_what_was_imported(store, data_dir):
    api = load_files([data_dir / "malwareinfo_purerat.json"])
    store.import_dataset(api, "api")
    loaded = store.load("win.pure_rat")
    assert sorted(loaded.iocs, key=lambda i: i.key) == sorted(api.iocs, key=lambda i: i.key)
    assert loaded.families == api.families and loaded.sources == api.sources


def test_seed_and_api_merge_in_either_order(tmp_path, data_dir):
    seed = load_files([data_dir / "seed-threatfox-purerat-rule.txt"])
    api = load_files([data_dir / "malwareinfo_purerat.json"])
    for order in ((seed, api), (api, seed)):
        with Store(tmp_path / f"{len(list(tmp_path.iterdir()))}.sqlite3") as store:
            for dataset in order:
                store.import_dataset(dataset, "x")
            assert [s.family.key for s in store.families()] == ["win.pure_rat"]
            iocs = store.load("win.pure_rat").iocs
            assert len(iocs) == 13  # the seed's nine are the API's nine, not twins
            url = next(i for i in iocs if i.value == "https://dev-tokyotechie.com/de-ch/")
            assert url.threatfox_id == "1816605"
            assert set(url.source.split(", ")) == {"seed-threatfox-purerat-rule.txt",
                                                   "malwareinfo_purerat.json"}


def _one(value: str, family: str, tf_id: str = "", **extra) -> Dataset:
    builder = DatasetBuilder()
    builder.add(RawIoc(value, "domain", family, family.split(".")[-1].title(),
                       threatfox_id=tf_id, source="t", **extra))
    return builder.build()


def test_an_ioc_is_followed_by_its_threatfox_id_across_families(store):
    store.import_dataset(_one("moved.example", "unknown", "777"), "first")
    summary = store.import_dataset(_one("moved.example", "win.vidar", "777"), "second")
    assert summary == ImportSummary(0, 1, 0, 0)
    everything = store.load().iocs
    assert [(i.value, i.family) for i in everything] == [("moved.example", "win.vidar")]
    counts = {s.family.key: s.total for s in store.families()}
    assert counts == {"unknown": 0, "win.vidar": 1}


def test_without_an_id_the_key_is_family_type_value(store):
    store.import_dataset(_one("same.example", "win.a"), "1")
    store.import_dataset(_one("same.example", "win.b"), "2")  # another family: another IOC
    assert store.import_dataset(_one("same.example", "win.a", "55"), "3").updated == 1
    assert sorted((i.family, i.threatfox_id) for i in store.load().iocs) == [
        ("win.a", "55"), ("win.b", "")]


def test_a_newer_fetch_updates_fields_and_widens_the_window(store):
    store.import_dataset(_one("x.example", "win.a", "9", confidence=50, tags="a",
                              first_seen="2026-05-01", last_seen="2026-05-02"), "old")
    summary = store.import_dataset(_one("x.example", "win.a", "9", confidence=100, tags="b",
                                        first_seen="2026-05-03", last_seen="2026-05-09"), "new")
    assert summary.updated == 1
    [ioc] = store.load("win.a").iocs
    assert ioc.confidence == 100 and ioc.tags == ("a", "b")
    assert (ioc.first_seen.day, ioc.last_seen.day) == (1, 9)


def test_rejected_values_are_kept_and_reported(store):
    dataset = hostile_dataset()
    assert dataset.rejected  # the hostile set has invalid values on purpose
    summary = store.import_dataset(dataset, "hostile")
    assert summary.rejected == len(dataset.rejected)
    loaded = store.load()
    assert sorted(r.raw for r in loaded.rejected) == sorted(r.raw for r in dataset.rejected)
    assert sorted(i.value for i in loaded.iocs) == sorted(i.value for i in dataset.iocs)
    assert loaded.families == dataset.families  # hostile names survive byte for byte


def test_search(store, data_dir):
    store.import_dataset(load_files([data_dir / "threatfox_recent_export_snippet.csv"]), "csv")
    assert next(i.value for i in store.search("dev-tokyotechie.com")) == "dev-tokyotechie.com"
    assert {i.value for i in store.search("TOKYOTECHIE")} >= {"dev-tokyotechie.com",
                                                              "https://dev-tokyotechie.com/de-ch/"}
    assert next(i.value for i in store.search("dev-tokyotechie[.]com")) == "dev-tokyotechie.com"
    assert [i.threatfox_id for i in store.search("1816690")] == ["1816690"]
    assert {i.family for i in store.search("ClickFix")} == {"win.pure_rat", "win.vidar"}
    assert store.search("%") == [] and store.search("_") == []  # LIKE wildcards are literal
    assert len(store.search("e", limit=3)) == 3 and store.search("  ") == []


def test_load_one_family_or_all(store, data_dir):
    store.import_dataset(load_files([data_dir / "threatfox_recent_export_snippet.csv"]), "csv")
    vidar = store.load("win.vidar")
    assert list(vidar.families) == ["win.vidar"] and len(vidar.iocs) == 2
    assert {i.family for i in vidar.iocs} == {"win.vidar"}
    assert len(store.load().iocs) == 15 and len(store.load().families) == 7
    assert store.load("win.nothing").iocs == []


class _Interrupted(list):
    """A list of IOCs that stops half-way, like Ctrl-C during an import."""

    def __iter__(self):
        for n, item in enumerate(list.__iter__(self)):
            if n == 5:
                raise KeyboardInterrupt
            yield item


def test_an_interrupted_import_changes_nothing(tmp_path, data_dir):
    path = tmp_path / "store.sqlite3"
    with Store(path) as store:
        store.import_dataset(load_files([data_dir / "seed-threatfox-purerat-rule.txt"]), "seed")
    before = dump(path)
    csv = load_files([data_dir / "threatfox_recent_export_snippet.csv"])
    with Store(path) as store, pytest.raises(KeyboardInterrupt):
        store.import_dataset(replace(csv, iocs=_Interrupted(csv.iocs)), "csv")
    assert dump(path) == before


def test_a_failing_import_is_a_store_error_and_changes_nothing(tmp_path, data_dir):
    path = tmp_path / "store.sqlite3"
    with Store(path) as store:
        store.import_dataset(load_files([data_dir / "seed-threatfox-purerat-rule.txt"]), "seed")
    before = dump(path)
    csv = load_files([data_dir / "threatfox_recent_export_snippet.csv"])
    broken = Ioc(IocType.DOMAIN, "ok.example", "win.x", confidence=object())  # unbindable
    with Store(path) as store, pytest.raises(StoreError, match=str(path)):
        store.import_dataset(replace(csv, iocs=[*csv.iocs, broken]), "csv")
    assert dump(path) == before


@pytest.mark.parametrize("content", [
    b"this is not a database at all\n" * 100,
    b"SQLite format 3\x00" + b"\xff" * 4000,
])
def test_a_damaged_file_is_one_sentence_and_is_never_touched(tmp_path, content):
    path = tmp_path / "foxhunt.sqlite3"
    path.write_bytes(content)
    with pytest.raises(StoreError) as caught, Store(path) as store:
        store.load()
    message = str(caught.value)
    assert str(path) in message and "move it aside" in message and "\n" not in message
    assert path.read_bytes() == content


def test_a_truncated_store_is_reported_not_deleted(tmp_path, data_dir):
    path = tmp_path / "foxhunt.sqlite3"
    with Store(path) as store:
        store.import_dataset(load_files([data_dir / "threatfox_recent_export_snippet.csv"]),
                             "csv")
    half = path.read_bytes()[: path.stat().st_size // 2]
    path.write_bytes(half)
    with pytest.raises(StoreError, match="damaged"), Store(path) as store:
        store.families()
        store.load()
    assert path.read_bytes() == half


def test_another_programs_database_is_refused(tmp_path):
    path = tmp_path / "other.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (text TEXT)")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a foxhunt store"):
        Store(path)
    assert path.read_bytes() == before


def test_a_folder_in_the_way_is_refused(tmp_path):
    (tmp_path / "foxhunt.sqlite3").mkdir()
    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path / "foxhunt.sqlite3")


def test_the_store_is_usable_from_a_worker_thread(store, data_dir):
    import threading

    result: list[int] = []
    store.import_dataset(load_files([data_dir / "malwareinfo_purerat.json"]), "api")
    worker = threading.Thread(target=lambda: result.append(len(store.load().iocs)))
    worker.start()
    worker.join()
    assert result == [13]


# -- large exports (100,000 rows, generated here) ----------------------------------------------

HEADER = ('# "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type","fk_malware",'
          '"malware_alias","malware_printable","last_seen_utc","confidence_level",'
          '"is_compromised","reference","tags","anonymous","reporter"\n')
FAMILIES = [("win.bench_a", "BenchA"), ("win.bench_b", "BenchB"), ("elf.bench_c", "BenchC")]


def big_export(rows: int) -> bytes:
    lines = ["#" * 64 + "\n", "# ThreatFox IOCs: recent additions - CSV format\n", "#\n",
             HEADER]
    for n in range(rows):
        key, name = FAMILIES[0] if n < rows * 0.8 else FAMILIES[1 + n % 2]
        kind = n % 6
        if kind == 0:
            value, ioc_type = f"h{n}.bench.example", "domain"
        elif kind == 1:
            value, ioc_type = f"https://h{n}.bench.example/p?id={n}", "url"
        elif kind == 2:
            value, ioc_type = f"198.51.{n // 50000}.{n % 250 + 1}:{1024 + n % 50000}", "ip:port"
        else:
            algo = ("md5", "sha1", "sha256")[kind - 3]
            value = hashlib.new(algo, f"bench-{n}".encode()).hexdigest()
            ioc_type = f"{algo}_hash"
        lines.append(f'"2026-05-{1 + n % 28:02d} 10:{n % 60:02d}:00", "{2_000_000 + n}", '
                     f'"{value}", "{ioc_type}", "botnet_cc", "{key}", "None", "{name}", "", '
                     f'"75", "False", "None", "bench", "0", "bench_bot"\n')
    return "".join(lines).encode()


def test_import_100k_rows_plain_then_zipped(tmp_path):
    """100,000 generated rows through the real parser into the store; then the same export
    zipped, through the real CLI: every row is recognised as already stored."""
    rows = 100_000
    export = big_export(rows)
    plain = tmp_path / "recent.csv"
    plain.write_bytes(export)
    path = tmp_path / "home" / "data" / "foxhunt" / "foxhunt.sqlite3"
    dataset = load_files([plain])
    assert len(dataset.iocs) == rows and dataset.rejected == []
    with Store(path) as store:
        assert store.import_dataset(dataset, "plain") == ImportSummary(rows, 0, 0, 0)
        totals = {s.family.key: s.total for s in store.families()}
        assert totals == {"win.bench_a": 80_000, "win.bench_b": 10_000, "elf.bench_c": 10_000}
        assert len(store.load("win.bench_a").iocs) == 80_000

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("full.csv", export)
    zipped = tmp_path / "full.zip"
    zipped.write_bytes(buffer.getvalue())
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "home" / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "home" / "config"))
    out = subprocess.run([sys.executable, "-m", "tui", "import", str(zipped)],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "100,000 IOCs, 0 new, 0 updated, 100,000 unchanged, 0 rejected" in out.stdout
