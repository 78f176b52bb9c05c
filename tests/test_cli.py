"""The headless CLI, run as a real subprocess: output, JSON shape, exit codes, clean errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, env_home: Path | None = None, cwd: Path | None = None):
    env = dict(os.environ)
    if env_home is not None:
        env.update(XDG_CONFIG_HOME=str(env_home / "config"), XDG_DATA_HOME=str(env_home / "data"),
                   HOME=str(env_home))
    env.pop("THREATFOX_AUTH_KEY", None)
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


def test_query_seed_prints_both_hunts(data_dir, home):
    out = run("query", "--source", str(data_dir / "seed-threatfox-purerat-rule.txt"),
              "--family", "PureRAT", env_home=home)
    assert out.returncode == 0, out.stderr
    blocks = out.stdout.rstrip("\n").split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == [
        "// Hunt for DNS queries matching PureRAT IOCs",
        "// Hunt for clicks on URLs in email, Teams and Office matching PureRAT IOCs",
    ]
    assert "| where Name has_any (malicious_domains)" in blocks[0]
    assert "| where Url has_any (malicious_urls)" in blocks[1]
    assert out.stderr == ""


def test_query_json_shape(data_dir, home):
    out = run("query", "--source", str(data_dir / "malwareinfo_purerat.json"), "--family",
              "win.pure_rat", "--format", "json", "--type", "ip:port,sha256",
              "--exclude", "rsync-backup", env_home=home)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert [q["target"] for q in doc["queries"]] == ["DeviceNetworkEvents", "DeviceFileEvents"]
    assert doc["queries"][0]["iocs"] == ["192.0.2.45:56001", "198.51.100.23:56003"]
    assert "rsync-backup" in doc["queries"][0]["kql"]


def test_family_by_alias_any_case(data_dir, home):
    out = run("query", "--source", str(data_dir / "malwareinfo_purerat.json"), "--family",
              "purehvnc", "--type", "domain", env_home=home)
    assert out.returncode == 0 and "DnsEvents" in out.stdout


def test_options_reach_the_query(data_dir, home):
    out = run("query", "--source", str(data_dir / "malwareinfo_purerat.json"), "--family",
              "PureRAT", "--flavour", "defender", "--lookback", "7d", "--match", "exact",
              "--target", "DeviceNetworkEvents", "--ip-mode", "ip", "--min-confidence", "80",
              env_home=home)
    assert out.returncode == 0, out.stderr
    assert "| where Timestamp > ago(7d)" in out.stdout
    assert "RemoteUrl in~ (malicious_domains)" in out.stdout
    assert "192.0.2.45" not in out.stdout  # confidence 75 < 80


def test_output_file_is_written(data_dir, home, tmp_path):
    target = tmp_path / "out" / "hunt.kql"
    out = run("query", "--source", str(data_dir / "seed-threatfox-purerat-rule.txt"),
              "--output", str(target), env_home=home)
    assert out.returncode == 0 and out.stdout == ""
    assert target.read_text().startswith("// Hunt for DNS queries")


def test_warnings_go_to_stderr(tmp_path, home):
    src = tmp_path / "list.txt"
    src.write_text("evil.example\n127.0.0.1:80\n\x1b[31mred.example\n")
    out = run("query", "--source", str(src), env_home=home)
    assert out.returncode == 0
    assert "warning: skipped '127.0.0.1:80': loopback" in out.stderr
    assert "\x1b" not in out.stderr and "\x1b" not in out.stdout


@pytest.mark.parametrize(("args", "code", "message"), [
    (["query", "--source", "missing.json"], 1, "missing.json: no such file"),
    (["query", "--source", "{seed}", "--family", "Nope"], 1, "unknown family 'Nope'"),
    (["query", "--source", "{seed}", "--type", "md5"], 1, "nothing to hunt"),
    (["query", "--source", "{seed}", "--exclude", "nope"], 1, "unknown exclusion nope"),
    (["query", "--source", "{seed}", "--type", "bogus"], 2, "unknown IOC type"),
    (["query", "--source", "{seed}", "--lookback", "forever"], 2, "timespan"),
    (["query", "--source", "{seed}", "--target", "Nope"], 2, "unknown target"),
    (["query", "--bogus"], 2, "unrecognized arguments"),
    (["query", "--source", "{seed}", "--config", "missing.toml"], 1, "config file not found"),
])
def test_errors_are_one_line(data_dir, home, args, code, message):
    args = [a.replace("{seed}", str(data_dir / "seed-threatfox-purerat-rule.txt")) for a in args]
    out = run(*args, env_home=home, cwd=data_dir)
    assert out.returncode == code
    assert message in out.stderr
    assert "Traceback" not in out.stderr
    if code == 1:
        assert len(out.stderr.strip().splitlines()) == 1


def test_bad_config_names_file_line_and_key(data_dir, home, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[query]\nflavour = "sentinel"\nlookback = "two weeks"\n')
    out = run("query", "--source", str(data_dir / "seed-threatfox-purerat-rule.txt"),
              "--config", str(config), env_home=home)
    assert out.returncode == 1
    assert f"{config}, line 3: key 'query.lookback'" in out.stderr


def test_config_from_xdg_home_is_used(data_dir, home):
    (home / "config" / "foxhunt").mkdir(parents=True)
    (home / "config" / "foxhunt" / "config.toml").write_text('[query]\nlookback = "3d"\n')
    out = run("query", "--source", str(data_dir / "seed-threatfox-purerat-rule.txt"),
              env_home=home)
    assert out.returncode == 0 and "ago(3d)" in out.stdout


def test_families_lists_counts(data_dir, home):
    out = run("families", "--source", str(data_dir / "threatfox_recent_export_snippet.csv"),
              "--format", "json", env_home=home)
    assert out.returncode == 0, out.stderr
    families = {f["id"]: f for f in json.loads(out.stdout)["families"]}
    assert families["win.pure_rat"]["by_type"] == {"domain": 2, "url": 3, "ip:port": 1,
                                                   "sha256_hash": 2}
    table = run("families", "--source", str(data_dir / "threatfox_recent_export_snippet.csv"),
                env_home=home)
    assert table.returncode == 0 and "PureRAT" in table.stdout and "win.pure_rat" in table.stdout


def test_python_dash_m_and_version(home):
    out = run("--version", env_home=home)
    assert out.returncode == 0 and out.stdout.startswith("foxhunt ")
