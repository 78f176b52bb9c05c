"""Hostile feed data on screen: rendered literally, escapes visible, clicks harmless."""

from __future__ import annotations

from tests.tui_helpers import make_app, settle
from tui.app.text import safe_text
from tui.core.dataset import DatasetBuilder, RawIoc

HOSTILE_TAGS = ["\x1b[31mred\x1b[0m", "[/]", "[@click=app.quit]x[/]", "[bold red]loud[/]"]
LONG_URL = "https://evil.example/" + "a" * 8_000  # 8 kB: longer URLs are rejected
LONG_TAG = "t" * 10_240


def _dataset():
    builder = DatasetBuilder()
    family = "[@click=app.quit]Fam[/] \x1b]52;c;aGk=\x07"
    rows = [
        ("domain", "evil.example"),
        ("url", LONG_URL),
        ("url", "https://evil.example/[@click=app.bell]y"),
        ("domain", "[@click=app.quit]x[/]"),  # invalid: shown with its reason
    ]
    for declared, value in rows:
        builder.add(RawIoc(value=value, declared_type=declared, malware="win.hostile",
                           malware_printable=family, malware_alias="[/]",
                           threat_type="[red]botnet_cc[/]", tags=[*HOSTILE_TAGS, LONG_TAG]))
    return builder.build()


def _screen_text(app) -> str:
    table = app.query_one("#iocs")
    return "\n".join(table.render_line(y).text for y in range(table.size.height))


async def test_hostile_values_render_literally(tmp_path):
    app = make_app(_dataset(), tmp_path)
    async with app.run_test(size=(300, 40)) as pilot:
        await settle(pilot, app)
        shown = _screen_text(app)
        assert "[/]" in shown and "[@click=app.quit]x[/]" in shown
        assert "\\x1b[31mred" in shown and "\x1b" not in shown
        title = str(app.query_one("#topbar").render())
        assert "[@click=app.quit]Fam[/]" in title and "\\x1b]52;c;aGk=\\x07" in title
        assert "\x1b" not in title and "\x07" not in title


async def test_clicking_hostile_cells_runs_no_action(tmp_path):
    app = make_app(_dataset(), tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        table = app.query_one("#iocs")
        for row in range(1, len(table.rows) + 1):
            for x in range(0, 75, 5):
                await pilot.click("#iocs", offset=(x, row))
        await pilot.click("#topbar", offset=(30, 0))
        await pilot.click("#families", offset=(3, 1))
        await settle(pilot, app)
        assert app.is_running and app.return_code is None
        assert table.cursor == len(table.rows) - 1  # the clicks moved the cursor, nothing else


async def test_ten_kilobyte_value_is_cut_on_screen_and_whole_in_details(tmp_path):
    from tui.app.screens.dialogs import IocDetails

    app = make_app(_dataset(), tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        table = app.query_one("#iocs")
        table.cursor = next(i for i, r in enumerate(table.rows) if getattr(r, "value", "")
                            == LONG_URL)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, IocDetails)
        assert app.screen.row.value == LONG_URL
        assert f'"{LONG_URL}"' in app.result.text  # the query uses the whole value


def test_safe_text_escapes_every_control_character():
    text = safe_text("a\x00b\x1bc\u202ed\u2028e\x7f")
    assert text.plain == "a\\x00b\\x1bc\\u202ed\\u2028e\\x7f"
    assert text.spans  # escapes are styled, so they stand out
    assert safe_text("[bold]x[/]").plain == "[bold]x[/]"
