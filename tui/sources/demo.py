"""The demo dataset shipped inside the package: used when nothing was fetched or imported yet.

It is a ThreatFox CSV export (tui/sources/demo/threatfox-demo.csv, made by
scripts/make_demo_data.py) read by the ordinary file parser. PureRAT's IOCs are the seed
document's; every other value is invented (documentation IP ranges, `.example` domains).
"""

from __future__ import annotations

from importlib import resources

from ..core.dataset import DatasetBuilder
from ..core.model import Dataset
from .files import read_bytes

DEMO_FILE = "threatfox-demo.csv"
DEMO_LABEL = "foxhunt demo data (invented values)"


def demo_bytes() -> bytes:
    return (resources.files(__package__) / "demo" / DEMO_FILE).read_bytes()


def demo_dataset() -> Dataset:
    """A fresh Dataset of the demo families (a new object each call: callers may change it)."""
    builder = DatasetBuilder()
    read_bytes(demo_bytes(), DEMO_LABEL, builder)
    return builder.build()
