"""Workspace files: round trip, atomic writes, damaged files end in one sentence."""

from __future__ import annotations

import pytest

from tui.core.exclusions import BUILTIN_EXCLUSIONS
from tui.core.model import IocType
from tui.core.planner import Options, Strategy
from tui.core.targets import Flavour, IpMode, MatchMode
from tui.core.workspace import Workspace, WorkspaceError, dumps, load, loads, save


def _workspace() -> Workspace:
    return Workspace(
        family="win.pure_rat",
        options=Options(lookback="7d", flavour=Flavour.DEFENDER, match=MatchMode.EXACT,
                        ip_mode=IpMode.IP, strategy=Strategy.WATCHLIST,
                        watchlist_alias="foxhunt_purerat"),
        routes=frozenset({("DnsEvents", IocType.DOMAIN), ("DeviceNetworkEvents",
                                                          IocType.IP_PORT)}),
        off=frozenset({(IocType.URL, 'https://x.example/a"b\\c'), (IocType.IP_PORT,
                                                                   "[2001:db8::1]:443")}),
        exclusions=(BUILTIN_EXCLUSIONS[0].with_enabled(True), *BUILTIN_EXCLUSIONS[1:]),
        min_confidence=50,
        max_age_days=30,
    )


def test_round_trip(tmp_path):
    ws = _workspace()
    path = tmp_path / "sub" / "hunt.toml"
    save(ws, path)
    assert load(path) == ws
    assert not list(path.parent.glob(".*tmp"))  # no temp file left behind


def test_defaults_round_trip():
    ws = Workspace()
    assert loads(dumps(ws), __import__("pathlib").Path("w.toml")) == ws


@pytest.mark.parametrize(("text", "message"), [
    ("version = 1\n[options\n", "not valid TOML"),
    ("version = 2\n", "unsupported version"),
    ('version = 1\n[options]\nlookback = "forever"\n', "timespan"),
    ('version = 1\n[routes]\nNoSuchTable = ["domain"]\n', "unknown target"),
    ('version = 1\n[off]\nipv4 = ["1.2.3.4"]\n', "not a foxhunt workspace"),
    ('version = 1\n[[exclusions]]\nid = "x"\n', "conditions"),
    ('version = 1\n[options]\nwatchlist_alias = "bad alias!"\n', "watchlist alias"),
    ("version = 1\noptions = 5\n", "options must be a table"),
    ('version = 1\nroutes = ["DnsEvents"]\n', "routes must be a table"),
    ('version = 1\n[off]\ndomain = "evil.example"\n', "off.domain must be a list"),
])
def test_damaged_files(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(WorkspaceError, match=message) as caught:
        load(path)
    assert "\n" not in str(caught.value)


def test_missing_and_unwritable(tmp_path):
    with pytest.raises(WorkspaceError, match="no such workspace"):
        load(tmp_path / "none.toml")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(WorkspaceError, match="cannot write"):
        save(Workspace(), blocker / "w.toml")
