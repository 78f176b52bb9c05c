"""Benchmark: the workbench at 1,000 vs 100,000 IOCs in one run (ratios, not absolute goals).

    .venv/bin/python scripts/bench_tui.py [--sizes 1000,100000] [--repeat 3]

Measures, headless under Textual's Pilot: open (app start -> IOC table filled), reopen (the
family opened again in the running app -> table filled), toggle (space
-> the new plan is in the preview), scroll (20 x pagedown -> repainted), filter (type a
needle). A stock DataTable loading the same rows is timed as the baseline we replaced
(--datatable N, default 10,000; 0 to skip).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.synthetic import synthetic_dataset  # noqa: E402
from tests.tui_helpers import make_app, settle  # noqa: E402


async def _until(pilot, condition, timeout: float = 120.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError
        await pilot.pause(0.005)


async def measure(size: int, tmp: Path) -> dict[str, float]:
    data = synthetic_dataset(size)
    app = make_app(data, tmp)
    out: dict[str, float] = {}
    start = time.perf_counter()
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.query_one("#iocs")
        await _until(pilot, lambda: len(table.rows) == size)
        await pilot.pause()
        out["open"] = time.perf_counter() - start
        await settle(pilot, app)
        table.set_rows([])
        start = time.perf_counter()
        app.open_family(data.families and next(iter(data.families)))
        await _until(pilot, lambda: len(table.rows) == size)
        await pilot.pause()
        out["reopen"] = time.perf_counter() - start
        await settle(pilot, app)
        version = app._version
        start = time.perf_counter()
        await pilot.press("space")
        await _until(pilot, lambda: app._result_version > version)
        out["toggle"] = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(20):
            await pilot.press("pagedown")
        await pilot.pause()
        out["scroll"] = time.perf_counter() - start
        start = time.perf_counter()
        await pilot.press("slash", *"c2-97")
        await pilot.pause()
        out["filter"] = time.perf_counter() - start
    return out


async def datatable_baseline(rows: int) -> float:
    from rich.text import Text
    from textual.app import App
    from textual.widgets import DataTable

    data = synthetic_dataset(rows)

    class Baseline(App[None]):
        def compose(self):
            yield DataTable()

    app = Baseline()
    start = time.perf_counter()
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.query_one(DataTable)
        table.add_columns("type", "value", "threat", "conf")
        table.add_rows([(Text(i.type.value), Text(i.value), Text(i.threat_type),
                         Text(str(i.confidence))) for i in data.iocs])
        await pilot.pause()
        await pilot.pause()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--datatable", type=int, default=10_000)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    import tempfile

    results: dict[int, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for size in sizes:
                got = asyncio.run(measure(size, Path(tmp) / str(size)))
                for key, value in got.items():
                    results.setdefault(size, {}).setdefault(key, []).append(value)
    keys = ["open", "reopen", "toggle", "scroll", "filter"]
    print(f"{'IOCs':>9}  " + "  ".join(f"{k + ' (s)':>11}" for k in keys))
    medians = {s: {k: statistics.median(v) for k, v in r.items()} for s, r in results.items()}
    for size in sizes:
        print(f"{size:>9,}  " + "  ".join(f"{medians[size][k]:>11.3f}" for k in keys))
    if len(sizes) > 1:
        base, big = sizes[0], sizes[-1]
        print(f"{'ratio':>9}  " + "  ".join(
            f"{medians[big][k] / medians[base][k]:>10.1f}x" for k in keys)
            + f"   ({big:,} vs {base:,} IOCs; median of {args.repeat})")
    if args.datatable:
        seconds = asyncio.run(datatable_baseline(args.datatable))
        print(f"baseline: stock DataTable with {args.datatable:,} rows opened in {seconds:.2f} s")


if __name__ == "__main__":
    main()
