"""The data model shared by every layer: IOCs, families, rejected values, the loaded dataset."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class IocType(StrEnum):
    """The ThreatFox IOC types foxhunt can hunt (the values are ThreatFox's own names)."""

    DOMAIN = "domain"
    URL = "url"
    IP_PORT = "ip:port"
    MD5 = "md5_hash"
    SHA1 = "sha1_hash"
    SHA256 = "sha256_hash"

    @property
    def is_hash(self) -> bool:
        return self in (IocType.MD5, IocType.SHA1, IocType.SHA256)

    @classmethod
    def parse(cls, text: str) -> IocType:
        """Accept the ThreatFox name or a short alias (`md5`, `ip`, `ipport`...)."""
        key = text.strip().lower()
        found = _TYPE_ALIASES.get(key)
        if found is None:
            names = ", ".join(t.value for t in cls)
            raise ValueError(f"unknown IOC type {text!r} (choose from {names})")
        return found


_TYPE_ALIASES: dict[str, IocType] = {t.value: t for t in IocType} | {
    "md5": IocType.MD5,
    "sha1": IocType.SHA1,
    "sha256": IocType.SHA256,
    "ip": IocType.IP_PORT,
    "ipport": IocType.IP_PORT,
    "ip_port": IocType.IP_PORT,
    "domains": IocType.DOMAIN,
    "urls": IocType.URL,
}

#: Display order everywhere (tables, headers, JSON).
TYPE_ORDER: tuple[IocType, ...] = tuple(IocType)


@dataclass(frozen=True, slots=True)
class Family:
    """A malware family. `key` is ThreatFox's malware id (`win.pure_rat`) when known,
    otherwise the printable name; `name` is what people read (`PureRAT`)."""

    key: str
    name: str
    aliases: tuple[str, ...] = ()
    malpedia: str = ""

    def matches(self, text: str) -> bool:
        """True when `text` names this family by id, printable name or alias (any case)."""
        wanted = text.strip().casefold()
        return wanted in {self.key.casefold(), self.name.casefold()} | {
            a.casefold() for a in self.aliases
        }


@dataclass(frozen=True, slots=True)
class Ioc:
    """One valid, normalised indicator. `value` is exactly what a query uses."""

    type: IocType
    value: str
    family: str = ""  # Family.key
    threat_type: str = ""
    confidence: int | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    tags: tuple[str, ...] = ()
    reference: str = ""
    reporter: str = ""
    threatfox_id: str = ""
    source: str = ""

    @property
    def key(self) -> tuple[IocType, str]:
        return (self.type, self.value)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A value that failed validation: never hunted, never dropped silently."""

    raw: str
    reason: str
    declared_type: str = ""
    family: str = ""
    source: str = ""
    threatfox_id: str = ""

    def describe(self) -> str:
        shown = self.raw if len(self.raw) <= 80 else self.raw[:77] + "..."
        where = f" ({self.source})" if self.source else ""
        return f"skipped {shown!r}: {self.reason}{where}"


@dataclass
class Dataset:
    """Everything loaded from one or more sources, deduplicated."""

    families: dict[str, Family] = field(default_factory=dict)
    iocs: list[Ioc] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def family_iocs(self, family: Family | None) -> list[Ioc]:
        if family is None:
            return list(self.iocs)
        return [i for i in self.iocs if i.family == family.key]

    def family_rejected(self, family: Family | None) -> list[Rejected]:
        if family is None:
            return list(self.rejected)
        return [r for r in self.rejected if r.family == family.key]

    def find_family(self, text: str) -> Family | None:
        for fam in self.families.values():
            if fam.matches(text):
                return fam
        return None


def count_by_type(iocs: list[Ioc] | tuple[Ioc, ...]) -> dict[IocType, int]:
    counts: dict[IocType, int] = {}
    for ioc in iocs:
        counts[ioc.type] = counts.get(ioc.type, 0) + 1
    return {t: counts[t] for t in TYPE_ORDER if t in counts}


@dataclass(frozen=True)
class FamilySummary:
    """A family with its IOC counts: what family lists show (from a Dataset or the store)."""

    family: Family
    counts: dict[IocType, int]
    total: int
    last_seen: datetime | None


def summarise(dataset: Dataset) -> list[FamilySummary]:
    """One summary per family of `dataset`, biggest first (one pass over the IOCs)."""
    by_family: dict[str, list[Ioc]] = {}
    for ioc in dataset.iocs:
        by_family.setdefault(ioc.family, []).append(ioc)
    summaries = []
    for fam in dataset.families.values():
        iocs = by_family.get(fam.key, [])
        seen = [i.last_seen or i.first_seen for i in iocs if i.last_seen or i.first_seen]
        summaries.append(FamilySummary(fam, count_by_type(iocs), len(iocs),
                                       max(seen) if seen else None))
    return sorted(summaries, key=lambda f: (-f.total, f.family.name.casefold()))
