"""Building and driving the real FoxhuntApp under Pilot."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from tui.app.app import FoxhuntApp
from tui.app.catalog import MemoryCatalog
from tui.core.config import Config
from tui.core.model import Dataset
from tui.sources.files import load_files
from tui.sources.loading import FILES

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def fixture_dataset(*names: str) -> Dataset:
    return load_files([DATA / n for n in names])


def make_app(dataset: Dataset, tmp_path: Path, config: Config | None = None,
             origin: str = FILES, **kwargs) -> FoxhuntApp:
    kwargs.setdefault("last_workspace", tmp_path / "last-workspace.toml")
    return FoxhuntApp(lambda: MemoryCatalog(dataset, origin), config or Config(),
                      clock=lambda: NOW, **kwargs)


async def settle(pilot, app: FoxhuntApp, rounds: int = 3) -> None:
    """Let workers finish and messages land; then wait until the preview shows the hunt."""
    for _ in range(rounds):
        await pilot.pause()
        await app.workers.wait_for_complete()
    for _ in range(200):
        if app._replan_timer is None and app._result_version == app._version:
            break
        await asyncio.sleep(0.02)
        await app.workers.wait_for_complete()
        await pilot.pause()
    await pilot.pause()


def plan_text(app: FoxhuntApp) -> str:
    assert app.result is not None
    return app.result.text


def notifications(app: FoxhuntApp) -> list[str]:
    return [n.message for n in app._notifications]


def values_of(rows: Iterable) -> list[str]:
    return [getattr(r, "value", getattr(r, "raw", "")) for r in rows]
