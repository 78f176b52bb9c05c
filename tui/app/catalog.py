"""What the workbench browses: families with counts, and one family's IOCs on demand.

Two implementations behind one small interface: data already in memory (files, demo data)
and the SQLite store (loads one family at a time, so a 100,000-IOC store opens quickly).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ..core.model import Dataset, FamilySummary, summarise
from ..sources.loading import STORE


class Catalog(Protocol):
    origin: str  # tui.sources.loading: FILES, STORE or DEMO

    def families(self) -> list[FamilySummary]: ...

    def family_data(self, key: str | None) -> Dataset: ...


class MemoryCatalog:
    def __init__(self, dataset: Dataset, origin: str) -> None:
        self.dataset = dataset
        self.origin = origin

    def families(self) -> list[FamilySummary]:
        return summarise(self.dataset)

    def family_data(self, key: str | None) -> Dataset:
        fam = self.dataset.families.get(key) if key else None
        return Dataset(
            families={fam.key: fam} if fam else dict(self.dataset.families),
            iocs=self.dataset.family_iocs(fam),
            rejected=[r for r in self.dataset.rejected
                      if fam is None or r.family in (fam.key, "")],
            sources=list(self.dataset.sources),
        )


class StoreCatalog:
    """Reads the SQLite store (tui.sources.store) lazily, one family at a time."""

    origin = STORE

    def __init__(self, path: Path) -> None:
        self.path = path

    def families(self) -> list[FamilySummary]:
        from ..sources.store import Store

        with Store(self.path) as store:
            summaries = store.families()
        return sorted(summaries, key=lambda f: (-f.total, f.family.name.casefold()))

    def family_data(self, key: str | None) -> Dataset:
        from ..sources.store import Store

        with Store(self.path) as store:
            return store.load(key)
