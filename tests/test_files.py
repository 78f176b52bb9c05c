"""Ingest: every supported file format, detected from content, and the errors for bad files."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from tui.core.model import IocType, count_by_type
from tui.sources.files import CSV_COLUMNS_15, SourceError, load_files

PURERAT_DOMAINS = {"dev-tokyotechie.com", "readadobe-document.click", "documents-abacus.click"}


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def test_seed_document_imports(data_dir):
    data = load_files([data_dir / "seed-threatfox-purerat-rule.txt"])
    fam = data.find_family("purerat")
    assert fam is not None and fam.name == "PureRAT"
    assert count_by_type(data.iocs) == {IocType.DOMAIN: 3, IocType.URL: 6}
    assert {i.value for i in data.iocs if i.type is IocType.DOMAIN} == PURERAT_DOMAINS
    url = next(i for i in data.iocs if i.value.endswith("/de-ch/"))
    assert url.value == "https://dev-tokyotechie.com/de-ch/"  # refanged from hxxps
    assert url.confidence == 100 and url.threat_type == "payload_delivery"
    assert url.first_seen is not None and url.first_seen.isoformat().startswith("2026-05-20")
    assert data.rejected == []


def test_malwareinfo_answer(data_dir):
    data = load_files([data_dir / "malwareinfo_purerat.json"])
    fam = data.find_family("win.pure_rat")
    assert fam is not None and fam.aliases == ("PureHVNC",)
    assert fam.malpedia == "https://malpedia.caad.fkie.fraunhofer.de/details/win.pure_rat"
    assert data.find_family("PureHVNC") is fam
    assert count_by_type(data.iocs) == {IocType.DOMAIN: 3, IocType.URL: 6, IocType.IP_PORT: 2,
                                        IocType.SHA256: 2}
    ioc = next(i for i in data.iocs if i.value == "192.0.2.45:56001")
    assert ioc.threatfox_id == "1816735" and ioc.tags == ("PureRAT", "RAT")
    assert ioc.confidence == 75 and ioc.last_seen is not None


def test_seed_and_api_merge_into_one_family(data_dir):
    data = load_files([data_dir / "seed-threatfox-purerat-rule.txt",
                       data_dir / "malwareinfo_purerat.json"])
    assert list(data.families) == ["win.pure_rat"]
    assert len(data.iocs) == 13
    assert data.sources == ["seed-threatfox-purerat-rule.txt", "malwareinfo_purerat.json"]


@pytest.mark.parametrize("query", ["get_iocs", "taginfo", "search_ioc"])
def test_other_api_envelopes(tmp_path, data_dir, query):
    doc = json.loads((data_dir / "malwareinfo_purerat.json").read_text())
    records = doc["data"][:3]
    if query == "search_ioc":
        records[0]["malware_samples"] = [{"time_stamp": "2026-05-20", "md5_hash": "x"}]
    path = _write(tmp_path, f"{query}.json", json.dumps({"query_status": "ok", "data": records}))
    assert len(load_files([path]).iocs) == 3


def test_bare_ioc_object(tmp_path, data_dir):
    doc = json.loads((data_dir / "malwareinfo_purerat.json").read_text())
    path = _write(tmp_path, "ioc.json", json.dumps(doc["data"][0]))
    data = load_files([path])
    assert [i.value for i in data.iocs] == ["192.0.2.45:56001"]


def test_no_result_is_empty(tmp_path):
    path = _write(tmp_path, "x.json", '{"query_status": "no_result", "data": "Your search did '
                  'not yield any results"}')
    assert load_files([path]).iocs == []


def test_error_answer_is_an_error(tmp_path):
    path = _write(tmp_path, "x.json", '{"query_status": "illegal_malware", "data": null}')
    with pytest.raises(SourceError, match="illegal_malware"):
        load_files([path])


def test_csv_export_15_columns(data_dir):
    data = load_files([data_dir / "threatfox_recent_export_snippet.csv"])
    assert len(data.iocs) == 15 and data.rejected == []
    url = next(i for i in data.iocs if "dl.php" in i.value)
    assert url.value == "https://shop.example.net/wp-content/dl.php?id=7,8"  # comma kept
    assert url.last_seen is None and url.reference == ""
    cobalt = data.families["win.cobalt_strike"]
    assert cobalt.aliases == ("Agentemis", "BEACON", "CobaltStrike", "cobeacon")
    md5 = next(i for i in data.iocs if i.type is IocType.MD5)
    assert md5.tags == () and md5.family == "unknown"


def _csv_lines(data_dir) -> list[str]:
    return (data_dir / "threatfox_recent_export_snippet.csv").read_text().splitlines()


def test_csv_export_14_columns_by_header_name(tmp_path, data_dir):
    """The older layout without is_compromised, parsed by header names, not positions."""
    lines = _csv_lines(data_dir)
    drop = CSV_COLUMNS_15.index("is_compromised")
    out = []
    for line in lines:
        if line.startswith('# "first_seen_utc"'):
            out.append(line.replace(',"is_compromised"', ""))
        elif line.startswith('"'):
            cells = line.split('", "')
            del cells[drop]
            out.append('", "'.join(cells))
        else:
            out.append(line)
    data = load_files([_write(tmp_path, "old.csv", "\r\n".join(out) + "\r\n")])
    assert len(data.iocs) == 15 and data.rejected == []
    assert next(i for i in data.iocs if i.value == "192.0.2.45:56001").confidence == 75


def test_csv_columns_reordered_still_parse(tmp_path, data_dir):
    lines = _csv_lines(data_dir)
    header = next(ln for ln in lines if ln.startswith('# "first_seen_utc"'))
    names = [n.strip('"') for n in header[2:].split(",")]
    rows = [ln for ln in lines if ln.startswith('"')]
    order = list(reversed(range(len(names))))
    new_header = "# " + ",".join(f'"{names[i]}"' for i in order)
    new_rows = ['"' + '", "'.join(r[1:-1].split('", "')[i] for i in order) + '"' for r in rows]
    data = load_files([_write(tmp_path, "rev.csv", "\n".join([new_header, *new_rows]))])
    assert len(data.iocs) == 15


def test_csv_without_header_uses_column_count(tmp_path, data_dir):
    rows = [ln for ln in _csv_lines(data_dir) if ln.startswith('"')]
    data = load_files([_write(tmp_path, "bare.csv", "\n".join(rows))])
    assert len(data.iocs) == 15


def test_csv_bad_row_is_reported(tmp_path, data_dir):
    lines = [*_csv_lines(data_dir), '"2026-05-20 10:00:00", "1", "evil.example"']
    data = load_files([_write(tmp_path, "bad.csv", "\n".join(lines))])
    assert len(data.iocs) == 15
    assert len(data.rejected) == 1 and "3 columns" in data.rejected[0].reason


def test_zipped_export(tmp_path, data_dir):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(data_dir / "threatfox_recent_export_snippet.csv", "full.csv")
    data = load_files([_write(tmp_path, "full.zip", buffer.getvalue())])
    assert len(data.iocs) == 15


def test_json_export(data_dir):
    data = load_files([data_dir / "export_json_recent_snippet.json"])
    assert len(data.iocs) == 6
    ioc = next(i for i in data.iocs if i.value == "192.0.2.45:56001")
    assert ioc.threatfox_id == "1816735" and ioc.tags == ("PureRAT", "RAT")


def test_plain_text_list(tmp_path):
    text = (
        "# family: PureRAT\n"
        "# a comment\n\n"
        "dev-tokyotechie[.]com\n"
        "hxxps://readadobe-document[.]click/support/   # inline note\n"
        "192.0.2.45[:]56001\n"
        "35ee1637499cf84260dc966c6433c617b0546c74d12fc20c1b136ce62e5efbc4\n"
        "192.0.2.99\n"
        "not a domain\n"
    )
    data = load_files([_write(tmp_path, "list.txt", text)])
    assert {i.type for i in data.iocs} == {IocType.DOMAIN, IocType.URL, IocType.IP_PORT,
                                           IocType.SHA256}
    assert data.find_family("PureRAT") is not None
    reasons = sorted(r.reason for r in data.rejected)
    assert len(reasons) == 2
    assert any("without a port" in r for r in reasons)


def test_duplicates_merge(tmp_path, data_dir):
    data = load_files([data_dir / "malwareinfo_purerat.json",
                       data_dir / "threatfox_recent_export_snippet.csv",
                       data_dir / "export_json_recent_snippet.json"])
    values = [(i.family, i.type, i.value) for i in data.iocs]
    assert len(values) == len(set(values))
    dev = next(i for i in data.iocs if i.value == "dev-tokyotechie.com")
    assert "malwareinfo_purerat.json" in dev.source and "csv" in dev.source


@pytest.mark.parametrize(("content", "message"), [
    (b"", "is empty"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b"{not json", "not valid JSON"),
    (b'{"hello": "world"}', "not a ThreatFox"),
    (b"PK\x03\x04broken", "zip"),
])
def test_bad_files(tmp_path, content, message):
    with pytest.raises(SourceError, match=message):
        load_files([_write(tmp_path, "bad.bin", content)])


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        load_files([tmp_path / "missing.json"])
    with pytest.raises(SourceError, match="directory"):
        load_files([tmp_path])


def test_hostile_json_shapes_do_not_crash(tmp_path):
    doc = {"query_status": "ok", "data": [
        "a string", 42, None,
        {"ioc": 12345, "ioc_type": "domain", "tags": {"x": 1}, "malware_alias": ["a"]},
        {"ioc": "evil.example", "ioc_type": "domain", "confidence_level": "lots",
         "first_seen": "yesterday", "malware": None},
    ]}
    data = load_files([_write(tmp_path, "weird.json", json.dumps(doc))])
    assert [i.value for i in data.iocs] == ["evil.example"]
    assert data.iocs[0].confidence is None and data.iocs[0].first_seen is None
    assert len(data.rejected) == 4


def test_absurd_numbers_nesting_and_field_sizes_are_handled(tmp_path):
    doc = {"query_status": "ok", "data": [
        {"ioc": "evil.example", "ioc_type": "domain", "confidence_level": "1e999"},
        {"ioc": "nan.example", "ioc_type": "domain", "confidence_level": "nan"},
    ]}
    data = load_files([_write(tmp_path, "big.json", json.dumps(doc))])
    assert [i.confidence for i in data.iocs] == [None, None]
    with pytest.raises(SourceError, match="nested too deeply"):
        load_files([_write(tmp_path, "deep.json", "[" * 100_000)])
    lines = _csv_lines_from(tmp_path)
    huge = '"2026-05-20 10:00:00", "1", "https://evil.example/' + "a" * 200_000 + '", "url", ' \
        '"botnet_cc", "win.x", "None", "X", "", "75", "False", "None", "None", "0", "r"'
    data = load_files([_write(tmp_path, "huge.csv", "\n".join([*lines, huge]))])
    assert len(data.iocs) == 15 and "longer than" in data.rejected[0].reason


def _csv_lines_from(tmp_path) -> list[str]:
    from tests.conftest import DATA

    return (DATA / "threatfox_recent_export_snippet.csv").read_text().splitlines()


def test_plain_list_may_start_with_a_bracketed_ipv6(tmp_path):
    data = load_files([_write(tmp_path, "v6.txt", "[2001:db8::1]:443\nevil.example\n")])
    assert sorted(i.value for i in data.iocs) == ["[2001:db8::1]:443", "evil.example"]
