"""`r` in the workbench: refresh the open family from a real ThreatFox-like server on
loopback into a real SQLite store; failures leave the table and the store as they were."""

from __future__ import annotations

import pytest

from tests.threatfox_server import KEY, FakeThreatFox
from tests.tui_helpers import DATA, NOW, notifications, plan_text, settle
from tui.app.app import FoxhuntApp
from tui.app.catalog import StoreCatalog
from tui.core.config import Config, ThreatFoxSettings
from tui.sources.files import load_files
from tui.sources.store import Store


@pytest.fixture
def server():
    fake = FakeThreatFox()
    yield fake
    fake.close()


@pytest.fixture
def store_path(tmp_path):
    path = tmp_path / "store.sqlite3"
    with Store(path) as store:
        store.import_dataset(load_files([DATA / "seed-threatfox-purerat-rule.txt"]), "seed")
    return path


def _app(store_path, tmp_path, server, key=KEY) -> FoxhuntApp:
    config = Config(threatfox=ThreatFoxSettings(api_url=server.api_url, timeout=5))
    return FoxhuntApp(lambda: StoreCatalog(store_path), config, store_path=store_path,
                      auth_key=key, clock=lambda: NOW,
                      last_workspace=tmp_path / "last.toml")


async def test_refresh_fetches_into_the_store_and_keeps_toggles(store_path, tmp_path, server,
                                                                 monkeypatch):
    monkeypatch.delenv("THREATFOX_API_URL", raising=False)
    monkeypatch.setenv("THREATFOX_AUTH_KEY", KEY)
    app = _app(store_path, tmp_path, server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        assert app.family.name == "PureRAT" and len(app.hunt.iocs) == 9
        await pilot.press("space")  # dev-tokyotechie.com off
        await settle(pilot, app)
        off = app.off
        # an older session's workspace on disk must not replace the hunt on screen
        from tui.core.workspace import Workspace, save

        save(Workspace(family="PureRAT"), tmp_path / "last.toml")
        await pilot.press("r")
        for _ in range(50):
            await settle(pilot, app)
            if len(app.hunt.iocs) == 13:
                break
        assert app.family.key == "win.pure_rat" and len(app.hunt.iocs) == 13
        assert app.off == off
        assert '"192.0.2.45:56001"' in plan_text(app)
        assert any("new" in n and "ThreatFox" in n for n in notifications(app))
    assert [r.headers.get("Auth-Key") for r in server.requests] == [KEY] * len(server.requests)
    with Store(store_path) as store:
        assert len(store.load("win.pure_rat").iocs) == 13


async def test_refresh_failure_keeps_table_and_store(store_path, tmp_path, server, monkeypatch):
    monkeypatch.delenv("THREATFOX_API_URL", raising=False)
    monkeypatch.setenv("THREATFOX_AUTH_KEY", "tfk-Wrong-key-000000000000000")
    before = store_path.read_bytes()
    app = _app(store_path, tmp_path, server, key="tfk-Wrong-key-000000000000000")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        rows = list(app.query_one("#iocs").rows)
        await pilot.press("r")
        for _ in range(20):
            await settle(pilot, app)
            if any("Refresh failed" in n for n in notifications(app)):
                break
        failure = next(n for n in notifications(app) if "Refresh failed" in n)
        assert "auth.abuse.ch" in failure and "tfk-Wrong" not in failure
        assert list(app.query_one("#iocs").rows) == rows and app.is_running
    assert store_path.read_bytes() == before
