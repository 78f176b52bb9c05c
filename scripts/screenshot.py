"""Write docs/screenshot.svg: the main screen on the demo data, exported by the app itself.

    .venv/bin/python scripts/screenshot.py [--out docs/screenshot.svg]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.tui_helpers import make_app, settle  # noqa: E402
from tui.sources.demo import demo_dataset  # noqa: E402
from tui.sources.loading import DEMO  # noqa: E402


async def shoot(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(demo_dataset(), Path(tmp), origin=DEMO)
        async with app.run_test(size=(150, 42)) as pilot:
            await settle(pilot, app)
            rows = app.query_one("#families").rows
            app.query_one("#families").cursor = next(
                i for i, r in enumerate(rows) if r.family.name == "PureRAT")
            await pilot.press("enter")
            await settle(pilot, app)
            await pilot.press("down", "down", "space")  # one IOC switched off
            app.query_one("#exclusions").focus()
            await pilot.press("space")  # rsync-backup on
            app.query_one("#iocs").focus()
            await settle(pilot, app)
            out.parent.mkdir(parents=True, exist_ok=True)
            app.save_screenshot(filename=out.name, path=str(out.parent))
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.svg")
    asyncio.run(shoot(parser.parse_args().out))


if __name__ == "__main__":
    main()
