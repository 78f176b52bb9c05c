"""What the workbench browses: families with counts, and one family's IOCs on demand.

Two implementations behind one small interface: data already in memory (files, demo data)
and the SQLite store (loads one family at a time, so a 100,000-IOC store opens quickly).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from ..core.model import Dataset, Family, IocType, count_by_type


@dataclass(frozen=True)
class FamilyInfo:
    family: Family
    counts: dict[IocType, int]
    total: int
    last_seen: datetime | None


class Catalog(Protocol):
    origin: str  # "files", "store" or "demo data"

    def families(self) -> list[FamilyInfo]: ...

    def family_data(self, key: str | None) -> Dataset: ...


class MemoryCatalog:
    def __init__(self, dataset: Dataset, origin: str) -> None:
        self.dataset = dataset
        self.origin = origin

    def families(self) -> list[FamilyInfo]:
        by_family: dict[str, list] = {}
        for ioc in self.dataset.iocs:
            by_family.setdefault(ioc.family, []).append(ioc)
        infos = []
        for fam in self.dataset.families.values():
            iocs = by_family.get(fam.key, [])
            seen = [i.last_seen or i.first_seen for i in iocs if i.last_seen or i.first_seen]
            infos.append(FamilyInfo(fam, count_by_type(iocs), len(iocs),
                                    max(seen) if seen else None))
        return sorted(infos, key=lambda f: (-f.total, f.family.name.casefold()))

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

    origin = "store"

    def __init__(self, path: Path) -> None:
        self.path = path

    def families(self) -> list[FamilyInfo]:
        from ..sources.store import Store

        with Store(self.path) as store:
            summaries = store.families()
        infos = [FamilyInfo(s.family, dict(s.counts), s.total, s.last_seen) for s in summaries]
        return sorted(infos, key=lambda f: (-f.total, f.family.name.casefold()))

    def family_data(self, key: str | None) -> Dataset:
        from ..sources.store import Store

        with Store(self.path) as store:
            return store.load(key)
