#!/usr/bin/env python3
"""Benchmark the store with a generated ThreatFox CSV export (default 100,000 IOCs).

    python scripts/bench_store.py [--rows N] [--families K] [--keep DIR]

The big family has N IOCs, plus N/10 more in small families. Times: parsing the export (the
core's parser), the first import (all new), a re-import (all unchanged), `load(family)` for the
big family and a small one, `families()`, `search()`.
Each load is timed on a freshly opened Store, as the CLI and the TUI open it.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui.sources.files import load_files
from tui.sources.store import Store

HEADER = ('# "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type","fk_malware",'
          '"malware_alias","malware_printable","last_seen_utc","confidence_level",'
          '"is_compromised","reference","tags","anonymous","reporter"\n')


def export(rows: int, families: int) -> bytes:
    """`rows` IOCs of the family `win.big`, then rows/10 more spread over K small families."""
    lines = ["#" * 64 + "\n", "# ThreatFox IOCs: bench - CSV format\n", "#\n", HEADER]
    for n in range(rows + rows // 10):
        key = "win.big" if n < rows else f"win.small_{n % families}"
        kind = n % 6
        if kind == 0:
            value, ioc_type = f"h{n}.bench.example", "domain"
        elif kind == 1:
            value, ioc_type = f"https://h{n}.bench.example/gate.php?id={n}", "url"
        elif kind == 2:
            value, ioc_type = f"198.51.{n // 50000}.{n % 250 + 1}:{1024 + n % 50000}", "ip:port"
        else:
            algo = ("md5", "sha1", "sha256")[kind - 3]
            value, ioc_type = hashlib.new(algo, f"b{n}".encode()).hexdigest(), f"{algo}_hash"
        last = f"2026-05-{1 + n % 28:02d} 12:00:{n % 60:02d}" if n % 3 == 0 else ""
        lines.append(
            f'"2026-05-{1 + n % 28:02d} {n % 24:02d}:{n % 60:02d}:{(n * 7) % 60:02d}", '
            f'"{1_900_000 + n}", "{value}", "{ioc_type}", "botnet_cc", "{key}", "None", '
            f'"{key.split(".")[1]}", "{last}", "{(50, 75, 100)[n % 3]}", "False", "None", '
            f'"{("c2", "c2,RAT", "exe")[n % 3]}", "0", "bench_bot"\n')
    return "".join(lines).encode()


def timed(label: str, action: Callable[[], object], runs: int = 1) -> object:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    shown = (f"{statistics.median(times) * 1000:8.0f} ms (median of {runs}, best "
             f"{min(times) * 1000:.0f})" if runs > 1 else f"{times[0] * 1000:8.0f} ms")
    print(f"{label:<44}{shown}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="IOCs of the big family")
    parser.add_argument("--families", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="write the files here instead of a temp dir")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="foxhunt-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, db_path = folder / "export.csv", folder / "bench.sqlite3"
    db_path.unlink(missing_ok=True)
    csv_path.write_bytes(export(args.rows, args.families))
    total = args.rows + args.rows // 10
    print(f"{total:,} rows, {csv_path.stat().st_size / 2**20:.1f} MiB CSV in {folder}")

    dataset = timed("parse the export (core parser)", lambda: load_files([csv_path]))
    big = sum(1 for i in dataset.iocs if i.family == "win.big")
    with Store(db_path) as store:
        print("  ", timed("import: all new, one transaction",
                          lambda: store.import_dataset(dataset, "bench")))
        print("  ", timed("re-import: all unchanged", lambda: store.import_dataset(dataset,
                                                                                    "bench")))

    def load(key: str) -> int:
        with Store(db_path) as store:
            return len(store.load(key).iocs)

    def families() -> int:
        with Store(db_path) as store:
            return len(store.families())

    def search(text: str) -> int:
        with Store(db_path) as store:
            return len(store.search(text))

    loaded = timed(f"load('win.big'): {big:,} IOCs", lambda: load("win.big"), runs=5)
    assert loaded == big, (loaded, big)
    timed("load('win.small_9'): one small family", lambda: load("win.small_9"), runs=5)
    timed("families()", families, runs=5)
    timed("search('h4242') substring", lambda: search("h4242"), runs=5)
    print(f"store file: {db_path.stat().st_size / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
