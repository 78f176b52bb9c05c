"""`foxhunt query --format ... --output/--output-dir`, run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.test_export_rules import sentinel_template_problems
from tui.export import EXPORT_FORMATS, ExportError, ExportFile, write_files

DATA = Path(__file__).parent / "data"
PURERAT = str(DATA / "malwareinfo_purerat.json")


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "c"), XDG_DATA_HOME=str(tmp_path / "d"),
               HOME=str(tmp_path))
    env.pop("THREATFOX_AUTH_KEY", None)
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_done_when_rules_a_sentinel_engineer_commits(tmp_path, kusto):
    out = tmp_path / "out"
    done = run(tmp_path, "query", "--source", PURERAT, "--family", "PureRAT",
               "--format", "sentinel-rule", "--output-dir", str(out) + "/")
    assert done.returncode == 0, done.stderr
    written = [Path(line) for line in done.stdout.splitlines()]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written) == [
        "threatfox-purerat-devicefileevents.yaml", "threatfox-purerat-devicenetworkevents.yaml",
        "threatfox-purerat-dnsevents.yaml", "threatfox-purerat-urlclickevents.yaml",
    ]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left
    for path in written:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert sentinel_template_problems(doc) == []
        kusto.assert_valid(doc["query"], "sentinel")
    again = run(tmp_path, "query", "--source", PURERAT, "--family", "PureRAT",
                "--format", "sentinel-rule", "--output-dir", str(out))
    assert again.returncode == 0 and len(list(out.iterdir())) == 4  # same ids, same files


def test_rules_to_stdout_are_one_yaml_stream(tmp_path):
    done = run(tmp_path, "query", "--source", PURERAT, "--family", "PureRAT",
               "--format", "sentinel-rule")
    assert done.returncode == 0, done.stderr
    docs = list(yaml.safe_load_all(done.stdout))
    assert len(docs) == 4 and all(d["kind"] == "Scheduled" for d in docs)


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_every_format_writes_one_output_file_or_a_directory(tmp_path, fmt):
    target = tmp_path / f"x.{fmt}"
    done = run(tmp_path, "query", "--source", PURERAT, "--family", "PureRAT", "--format", fmt,
               "--output", str(target))
    if fmt == "sentinel-rule":
        assert done.returncode == 1
        assert done.stderr.strip().splitlines() == [
            "foxhunt: error: --format sentinel-rule writes 4 files here (one per rule); use "
            "--output-dir DIR instead of --output"]
        return
    assert done.returncode == 0 and done.stdout == "", done.stderr
    text = target.read_text(encoding="utf-8")
    if fmt in {"json", "arm"}:
        json.loads(text)
    assert text.strip()
    listed = run(tmp_path, "query", "--source", PURERAT, "--family", "PureRAT", "--format", fmt,
                 "--output-dir", str(tmp_path / "dir"))
    assert listed.returncode == 0
    (path,) = [Path(p) for p in listed.stdout.splitlines()]
    suffix = {"kql": ".kql", "json": ".json", "arm": ".json", "markdown": ".md",
              "watchlist-csv": ".csv"}[fmt]
    assert path.parent == tmp_path / "dir" and path.suffix == suffix
    assert path.read_text(encoding="utf-8").splitlines()[:1] == text.splitlines()[:1]


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--format", "arm", "--flavour", "defender"], 1, "sentinel flavour"),
    (["--strategy", "watchlist"], 1, "needs --watchlist-alias NAME"),
    (["--strategy", "watchlist", "--watchlist-alias", "fox", "--flavour", "defender"], 1,
     "has no watchlists"),
    (["--watchlist-alias", "no way"], 2, "watchlist alias"),
    (["--format", "yaml"], 2, "invalid choice"),
    (["--output", "a", "--output-dir", "b"], 2, "not allowed with argument"),
])
def test_export_errors_are_one_line(tmp_path, args, code, message):
    done = run(tmp_path, "query", "--source", PURERAT, "--family", "PureRAT", *args)
    assert done.returncode == code
    assert message in done.stderr and "Traceback" not in done.stderr
    if code == 1:
        assert len(done.stderr.strip().splitlines()) == 1


def test_unwritable_directory_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    done = run(tmp_path, "query", "--source", PURERAT, "--family", "PureRAT", "--format",
               "sentinel-rule", "--output-dir", str(blocker / "sub"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("foxhunt: error: cannot write into ")
    assert len(done.stderr.strip().splitlines()) == 1


def test_watchlist_strategy_end_to_end(tmp_path, kusto):
    common = ["query", "--source", PURERAT, "--family", "PureRAT", "--strategy", "watchlist",
              "--watchlist-alias", "foxhunt_purerat"]
    rules = run(tmp_path, *common, "--format", "sentinel-rule", "--output-dir",
                str(tmp_path / "rules"))
    data = run(tmp_path, *common, "--format", "watchlist-csv", "--output-dir",
               str(tmp_path / "rules"))
    assert rules.returncode == data.returncode == 0, rules.stderr + data.stderr
    for path in (tmp_path / "rules").glob("*.yaml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert '_GetWatchlist("foxhunt_purerat")' in doc["query"]
        assert sentinel_template_problems(doc) == []
        kusto.assert_valid(doc["query"], "sentinel")
    assert (tmp_path / "rules" / "threatfox-purerat-watchlist.csv").exists()


def test_write_files_refuses_paths(tmp_path):
    with pytest.raises(ExportError, match="not a plain file name"):
        write_files([ExportFile("../escape.txt", "x")], tmp_path)
    assert not (tmp_path.parent / "escape.txt").exists()
