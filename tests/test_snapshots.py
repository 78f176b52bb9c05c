"""Snapshots of the main screen (pytest-textual-snapshot); update with --snapshot-update."""

from __future__ import annotations

import pytest

from tests.tui_helpers import fixture_dataset, make_app, settle


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_main_screen(snap_compare, tmp_path, size):
    app = make_app(fixture_dataset("malwareinfo_purerat.json"), tmp_path)

    async def run_before(pilot) -> None:
        await settle(pilot, app)
        app.query_one("#exclusions").focus()
        await pilot.press("space")  # one exclusion on, so the preview shows it
        app.query_one("#iocs").focus()
        await pilot.press("down", "space")
        await settle(pilot, app)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
