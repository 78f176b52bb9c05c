"""The real workbench under Pilot: every flow an analyst uses, end to end."""

from __future__ import annotations

import pyperclip
import pytest
from textual.widgets import Input, TextArea

from tests.tui_helpers import fixture_dataset, make_app, notifications, plan_text, settle
from tui.app.screens.dialogs import ExclusionEditor, ExportDialog, HelpScreen, Prompt
from tui.core.config import Config
from tui.core.model import IocType
from tui.core.workspace import load as load_workspace

SIZE = (120, 40)


@pytest.fixture
def purerat():
    return fixture_dataset("malwareinfo_purerat.json")


@pytest.fixture
def several():
    return fixture_dataset("malwareinfo_purerat.json", "threatfox_recent_export_snippet.csv")


@pytest.fixture
def clipboard(monkeypatch):
    """The system clipboard stand-in: this machine has no X/Wayland clipboard to talk to."""
    copied: list[str] = []
    monkeypatch.setattr(pyperclip, "copy", copied.append)
    return copied


async def test_single_family_opens_directly(purerat, tmp_path):
    app = make_app(purerat, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert app.family is not None and app.family.key == "win.pure_rat"
        assert app.focused is app.query_one("#iocs")
        assert len(app.query_one("#iocs").rows) == 13
        assert [q.target for q in app.result.queries] == [
            "DnsEvents", "UrlClickEvents", "DeviceNetworkEvents", "DeviceFileEvents"]


async def test_several_families_focus_the_family_table_then_open(several, tmp_path):
    app = make_app(several, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert app.family is None
        assert app.focused is app.query_one("#families")
        names = [i.family.name for i in app.query_one("#families").rows]
        assert names[0] == "PureRAT"  # largest first
        await pilot.press("down", "enter")
        await settle(pilot, app)
        assert app.family is not None and app.family.name == names[1]
        assert app.focused is app.query_one("#iocs")


async def test_family_filter_as_you_type(several, tmp_path):
    app = make_app(several, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("slash")
        assert isinstance(app.focused, Input) and app.focused.id == "family-filter"
        await pilot.press(*"cobalt")
        rows = app.query_one("#families").rows
        assert [r.family.name for r in rows] == ["Cobalt Strike"]
        await pilot.press("enter", "enter")
        await settle(pilot, app)
        assert app.family.name == "Cobalt Strike"


async def test_ioc_text_and_type_filters(purerat, tmp_path):
    app = make_app(purerat, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("slash", *"tokyotechie")
        table = app.query_one("#iocs")
        assert len(table.rows) == 5 and all("tokyotechie" in r.value for r in table.rows)
        assert "shown 5 / total 13" in str(app.query_one("#iocs-title").render())
        await pilot.press("escape")
        assert len(table.rows) == 13 and app.focused is table
        await pilot.press("t")  # all -> domain
        assert app.type_filter == "domain" and len(table.rows) == 3
        await pilot.press("t")
        assert app.type_filter == "url" and len(table.rows) == 6


async def test_toggle_all_none_invert_within_filter(purerat, tmp_path):
    app = make_app(purerat, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        table = app.query_one("#iocs")
        first = table.rows[0]
        await pilot.press("space")
        await settle(pilot, app)
        assert first.key in app.off
        assert f'"{first.value}"' not in plan_text(app)
        await pilot.press("space")
        await settle(pilot, app)
        assert app.off == frozenset() and f'"{first.value}"' in plan_text(app)
        await pilot.press("t")  # domains only
        await pilot.press("n")
        await settle(pilot, app)
        assert {k[0] for k in app.off} == {IocType.DOMAIN} and len(app.off) == 3
        assert "DnsEvents" not in [q.target for q in app.result.queries]
        await pilot.press("i")
        await settle(pilot, app)
        assert app.off == frozenset()
        await pilot.press("down", "space", "i")
        await settle(pilot, app)
        assert len(app.off) == 2  # invert within the 3 domains: 1 on -> 2 off
        await pilot.press("a")
        await settle(pilot, app)
        assert app.off == frozenset()


async def test_invalid_iocs_are_shown_but_never_selectable(tmp_path):
    from tests.hostile import hostile_dataset

    app = make_app(hostile_dataset(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("t", "t", "t", "t", "t", "t", "t")  # ... -> invalid
        assert app.type_filter == "invalid"
        table = app.query_one("#iocs")
        assert len(table.rows) == len(app.hunt.rejected) == 5
        before = plan_text(app)
        await pilot.press("space")
        await settle(pilot, app)
        assert plan_text(app) == before
        assert any("never reach a query" in n for n in notifications(app))


async def test_exclusion_on_off_and_edit(purerat, tmp_path):
    app = make_app(purerat, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.query_one("#exclusions").focus()
        await pilot.press("space")  # rsync-backup on
        await settle(pilot, app)
        assert app.exclusions[0].enabled
        assert "// exclude rsync-backup" in plan_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ExclusionEditor)
        editor = app.screen.query_one(TextArea)
        editor.text = editor.text.replace('"backup_user"', '"svc_backup"')
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert not isinstance(app.screen, ExclusionEditor)
        assert '"svc_backup"' in plan_text(app) and '"backup_user"' not in plan_text(app)
        await pilot.press("space")
        await settle(pilot, app)
        assert "// exclude rsync-backup" not in plan_text(app)


async def test_exclusion_editor_rejects_bad_input_and_adds_new(purerat, tmp_path):
    app = make_app(purerat, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("plus")
        await pilot.pause()
        assert isinstance(app.screen, ExclusionEditor)
        editor = app.screen.query_one(TextArea)
        editor.text = editor.text.replace('field = "account"', 'field = "acount"')
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ExclusionEditor)  # stays open with the error shown
        error = str(app.screen.query_one("#exclusion-error").render())
        assert "unknown field 'acount'" in error
        editor.text = editor.text.replace('field = "acount"', 'field = "account"')
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert app.exclusions[-1].id == "my-exclusion" and app.exclusions[-1].enabled
        assert "// exclude my-exclusion" in plan_text(app)


async def test_save_exclusions_to_config(purerat, tmp_path):
    config_path = tmp_path / "config.toml"
    config_path.write_text('[query]\nlookback = "7d"\n')
    from tui.core.config import load_config

    config = load_config(config_path, required=True)
    app = make_app(purerat, tmp_path, config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.query_one("#exclusions").focus()
        await pilot.press("down", "enter")
        await pilot.pause()
        editor = app.screen.query_one(TextArea)
        editor.text = editor.text.replace("enabled = false", "enabled = true")
        await pilot.press("ctrl+o")
        await settle(pilot, app)
    saved = load_config(config_path, required=True)
    assert saved.options.lookback == "7d"
    curl = next(e for e in saved.exclusions if e.id == "curl-internal-api")
    assert curl.enabled
    assert (tmp_path / "config.toml.bak").read_text() == '[query]\nlookback = "7d"\n'


async def test_target_on_off(purerat, tmp_path):
    app = make_app(purerat, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        targets = app.query_one("#targets")
        targets.focus()
        assert (targets.row.target.name, targets.row.ioc_type.value) == ("DnsEvents", "domain")
        await pilot.press("space")
        await settle(pilot, app)
        assert "DnsEvents" not in [q.target for q in app.result.queries]
        assert any("3 domain IOCs are not hunted" in w for w in app.result.warnings)
        row = next(i for i, r in enumerate(targets.rows) if r.target.name == "_Im_Dns")
        targets.cursor = row
        await pilot.press("space")
        await settle(pilot, app)
        assert "_Im_Dns(starttime=ago(14d), domain_has_any=malicious_domains)" in plan_text(app)


async def test_options_flavour_match_ipmode_lookback(purerat, tmp_path):
    app = make_app(purerat, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        options = app.query_one("#options")
        options.focus()
        await pilot.press("space")  # flavour -> defender
        await settle(pilot, app)
        assert "Timestamp > ago(14d)" in plan_text(app) and "TimeGenerated" not in plan_text(app)
        await pilot.press("down", "space")  # match -> exact
        await settle(pilot, app)
        assert "in~ (malicious_urls)" in plan_text(app)
        await pilot.press("down", "space")  # ip mode -> ip
        await settle(pilot, app)
        assert "malicious_ip_ports" not in plan_text(app)
        await pilot.press("down", "enter")  # lookback prompt
        await pilot.pause()
        assert isinstance(app.screen, Prompt)
        box = app.screen.query_one(Input)
        box.value = "3d"
        await pilot.press("enter")
        await settle(pilot, app)
        assert "Timestamp > ago(3d)" in plan_text(app)
        await pilot.press("down", "enter")  # min confidence prompt
        await pilot.pause()
        app.screen.query_one(Input).value = "80"
        await pilot.press("enter")
        await settle(pilot, app)
        assert "192.0.2.45" not in plan_text(app)  # confidence 75
        assert "below confidence/age" in str(app.query_one("#iocs-title").render())
        options.cursor = next(i for i, r in enumerate(options.rows) if r.key == "flavour")
        await pilot.press("space")  # back to sentinel: watchlists exist only there
        options.cursor = next(i for i, r in enumerate(options.rows) if r.key == "watchlist_alias")
        await pilot.press("enter")
        await pilot.pause()
        app.screen.query_one(Input).value = "foxhunt_purerat"
        await pilot.press("enter")
        options.cursor = next(i for i, r in enumerate(options.rows) if r.key == "strategy")
        await pilot.press("space")
        await settle(pilot, app)
        assert '_GetWatchlist("foxhunt_purerat")' in plan_text(app)


async def test_copy_all_and_block(purerat, tmp_path, clipboard):
    app = make_app(purerat, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("c")
        await settle(pilot, app)
        full = plan_text(app)
        assert app.clipboard == full  # OSC 52 path (Textual keeps what it sent)
        assert clipboard == [full]  # system clipboard path
        assert any("Copied 4 block(s)" in n for n in notifications(app))
        await pilot.press("right_square_bracket")
        assert app.query_one("#preview").current == 1
        await pilot.press("y")
        await settle(pilot, app)
        block = app.result.queries[1].kql + "\n"
        assert app.clipboard == block and clipboard[-1] == block


async def test_copy_failure_is_reported(purerat, tmp_path, monkeypatch):
    def broken(text: str) -> None:
        raise pyperclip.PyperclipException("Pyperclip could not find a copy/paste mechanism")

    monkeypatch.setattr(pyperclip, "copy", broken)
    app = make_app(purerat, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("c")
        await settle(pilot, app)
        assert app.clipboard == plan_text(app)
        warning = next(n for n in notifications(app) if "system clipboard failed" in n)
        assert "OSC 52" in warning and "press e to save" in warning


async def test_copy_hang_is_time_boxed(purerat, tmp_path, monkeypatch):
    import threading

    from tui.app import app as app_module

    release = threading.Event()
    monkeypatch.setattr(pyperclip, "copy", lambda text: release.wait(5))
    monkeypatch.setattr(app_module, "CLIPBOARD_TIMEOUT", 0.2)
    app = make_app(purerat, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("c")
        await settle(pilot, app)
        assert any("did not answer within 0.2 s" in n for n in notifications(app))
    release.set()


async def test_export_kql(purerat, tmp_path):
    app = make_app(purerat, tmp_path)
    target = tmp_path / "out" / "hunt.kql"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)
        app.screen.query_one("#export-path", Input).value = str(target)
        app.screen.query_one("#export-path", Input).focus()
        await pilot.press("enter")
        await settle(pilot, app)
        assert target.read_text() == plan_text(app)
        assert any("Exported kql" in n for n in notifications(app))


@pytest.mark.parametrize(("fmt", "expected"), [
    ("sentinel-rule", ["threatfox-purerat-dnsevents.yaml", "threatfox-purerat-urlclickevents.yaml",
                       "threatfox-purerat-devicenetworkevents.yaml",
                       "threatfox-purerat-devicefileevents.yaml"]),
    ("markdown", ["threatfox-purerat.md"]),
    ("watchlist-csv", ["threatfox-purerat-watchlist.csv"]),
])
async def test_export_other_formats_into_a_folder(purerat, tmp_path, fmt, expected):
    from tui.export import EXPORT_FORMATS

    app = make_app(purerat, tmp_path)
    folder = tmp_path / "exports"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("e")
        await pilot.pause()
        dialog = app.screen
        assert [f for f, _ in dialog.formats] == list(EXPORT_FORMATS)
        for _ in range(EXPORT_FORMATS.index(fmt)):
            await pilot.press("down")
        await pilot.press("tab")
        dialog.query_one("#export-path", Input).value = str(folder)
        await pilot.press("enter")
        await settle(pilot, app)
        assert any(f"Exported {fmt}" in n for n in notifications(app)), notifications(app)
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected)


async def test_export_failure_keeps_the_app(purerat, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    app = make_app(purerat, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#export-path", Input).value = str(blocker / "sub" / "x.kql")
        app.screen.query_one("#export-path", Input).focus()
        await pilot.press("enter")
        await settle(pilot, app)
        assert any("Export failed" in n for n in notifications(app))
        assert app.is_running


async def test_save_and_restore_workspace(purerat, tmp_path):
    path = tmp_path / "hunt.toml"
    app = make_app(purerat, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("space")  # first IOC off
        app.query_one("#exclusions").focus()
        await pilot.press("space")  # rsync-backup on
        app.query_one("#options").focus()
        await pilot.press("space")  # defender
        await settle(pilot, app)
        expected = plan_text(app)
        off = app.off
        await pilot.press("s")
        await pilot.pause()
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await settle(pilot, app)
    ws = load_workspace(path)
    assert ws.family == "win.pure_rat" and ws.off == off
    assert ws.exclusions[0].enabled and ws.options.flavour.value == "defender"

    again = make_app(purerat, tmp_path / "fresh", workspace=path)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot, again)
        assert again.off == off
        assert plan_text(again) == expected


async def test_open_workspace_key(purerat, tmp_path):
    path = tmp_path / "hunt.toml"
    first = make_app(purerat, tmp_path)
    async with first.run_test(size=SIZE) as pilot:
        await settle(pilot, first)
        await pilot.press("n")
        await settle(pilot, first)
        first._save_workspace(first.workspace(), path, False)
        await settle(pilot, first)
    app = make_app(purerat, tmp_path / "other")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert app.off == frozenset()
        await pilot.press("o")
        await pilot.pause()
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await settle(pilot, app)
        assert len(app.off) == 13 and app.result.queries == ()


async def test_last_workspace_comes_back_and_quit_saves_it(purerat, tmp_path):
    app = make_app(purerat, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("space")
        await settle(pilot, app)
        off = app.off
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0 and not app.is_running
    assert load_workspace(tmp_path / "last-workspace.toml").off == off
    again = make_app(purerat, tmp_path)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot, again)
        assert again.off == off


async def test_help_screen(purerat, tmp_path):
    app = make_app(purerat, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        ids = {row[2] for row in app.screen.rows}
        assert {"toggle", "all-on", "copy-all", "export", "quit"} <= ids
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_command_palette_runs_actions(purerat, tmp_path, clipboard):
    app = make_app(purerat, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"copy all query")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot, app)
        assert clipboard == [plan_text(app)]


async def test_keymap_from_config_and_clashes(purerat, tmp_path):
    config = Config(keys={"toggle": "x", "all-on": "y"})
    app = make_app(purerat, tmp_path, config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("x")
        await settle(pilot, app)
        assert len(app.off) == 1
        await pilot.press("space")  # no longer bound
        await settle(pilot, app)
        assert len(app.off) == 1
        clash = [n for n in notifications(app) if "same key twice" in n]
        assert clash and "'y'" in clash[0] and "all-on" in clash[0] and "copy-block" in clash[0]


async def test_refresh_without_key_explains(purerat, tmp_path):
    app = make_app(purerat, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("r")
        await pilot.pause()
        assert any("https://auth.abuse.ch/" in n for n in notifications(app))


async def test_tab_moves_between_panes(several, tmp_path):
    app = make_app(several, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        seen = []
        for _ in range(6):
            seen.append(app.focused.id)
            await pilot.press("tab")
        assert seen == ["families", "iocs", "exclusions", "targets", "options", "preview"]
        assert app.focused.id == "families"
        await pilot.press("shift+tab")
        assert app.focused.id == "preview"


async def test_hundred_thousand_iocs_open_and_toggle(tmp_path):
    """Completes, and stays correct, at ThreatFox's largest family size (timing: see
    scripts/bench_tui.py)."""
    from tests.synthetic import synthetic_dataset

    app = make_app(synthetic_dataset(100_000), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        table = app.query_one("#iocs")
        assert len(table.rows) == 100_000
        first = table.rows[0]
        await pilot.press("space")
        await settle(pilot, app)
        assert app.off == {first.key}
        assert f'"{first.value}"' not in plan_text(app)
        assert app.result.queries[0].iocs[0] != first.value
        await pilot.press("end", "space", "pagedown", "pageup")
        await settle(pilot, app)
        assert len(app.off) == 2 and table.cursor == table.rows.__len__() - 1 - table._page()
        preview = app.query_one("#preview")
        assert all(b.code.plain.count("\n") < 200 for b in preview.blocks)  # bounded preview


async def test_dialogs_keep_their_keys(purerat, tmp_path):
    """In a dialog, tab moves between its fields and letters are text, not workbench keys."""
    app = make_app(purerat, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)
        assert app.focused.id == "export-format"
        await pilot.press("tab")
        assert app.focused.id == "export-path"
        await pilot.press("end", "q", "c", "a")
        await pilot.pause()
        assert app.is_running and app.focused.value.endswith("qca")
        assert app.off == frozenset() and app.clipboard == ""


async def test_palette_survives_markup_in_family_names(tmp_path):
    from tui.core.dataset import DatasetBuilder, RawIoc

    builder = DatasetBuilder()
    for n, name in enumerate(["[/]", "[@click=app.quit]Fam[/]", "Plain"]):
        builder.add(RawIoc(value=f"d{n}.example", declared_type="domain", malware=f"win.f{n}",
                           malware_printable=name))
    app = make_app(builder.build(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"open family")
        await pilot.pause(0.5)
        await pilot.press("down", "enter")
        await settle(pilot, app)
        assert app.is_running and app.family is not None


async def test_toggles_survive_filters_that_hide_them(purerat, tmp_path):
    app = make_app(purerat, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        first = app.query_one("#iocs").rows[0]  # 192.0.2.45:56001, confidence 75
        await pilot.press("space")
        options = app.query_one("#options")
        for value in ("80", "0"):
            options.cursor = next(i for i, r in enumerate(options.rows)
                                  if r.key == "min_confidence")
            options.focus()
            await pilot.press("enter")
            await pilot.pause()
            app.screen.query_one(Input).value = value
            await pilot.press("enter")
            await settle(pilot, app)
        assert first.key in app.off and f'"{first.value}"' not in plan_text(app)
        assert "on 12 / shown 13 / total 13" in str(app.query_one("#iocs-title").render())
        options.cursor = next(i for i, r in enumerate(options.rows) if r.key == "max_age")
        for _ in range(len(__import__("tui.app.app", fromlist=["AGES"]).AGES)):
            await pilot.press("space")  # through 1d, 7d, ... back to any
            await settle(pilot, app)
        assert first.key in app.off and f'"{first.value}"' not in plan_text(app)


async def test_flavour_switch_moves_routes_to_targets_that_exist(purerat, tmp_path):
    app = make_app(purerat, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        targets = app.query_one("#targets")
        targets.focus()
        targets.cursor = next(i for i, r in enumerate(targets.rows)
                              if (r.target.name, r.ioc_type.value) == ("UrlClickEvents", "url"))
        await pilot.press("space", "space")  # off and on again: the routes are now explicit
        app.query_one("#options").focus()
        await pilot.press("space")  # defender
        await settle(pilot, app)
        assert not any("not hunted" in w for w in app.result.warnings)
        assert "RemoteUrl has_any (malicious_domains)" in plan_text(app)


async def test_text_filter_ignores_case(tmp_path):
    from tui.core.dataset import DatasetBuilder, RawIoc

    builder = DatasetBuilder()
    builder.add(RawIoc(value="https://evil.example/Login.php", declared_type="url",
                       malware="win.x", malware_printable="X"))
    app = make_app(builder.build(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("slash", *"login")
        assert len(app.query_one("#iocs").rows) == 1
