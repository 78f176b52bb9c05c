"""Turn raw records from any source into a deduplicated, validated Dataset."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from .model import Dataset, Family, Ioc, IocType, Rejected
from .normalise import InvalidIoc, normalise


@dataclass(slots=True)
class RawIoc:
    """One IOC as a source gave it, before validation."""

    value: str
    declared_type: str | None = None  # ThreatFox ioc_type; None = infer
    malware: str = ""  # ThreatFox malware id (win.pure_rat)
    malware_printable: str = ""
    malware_alias: str | Iterable[str] | None = None
    malware_malpedia: str = ""
    threat_type: str = ""
    confidence: object = None
    first_seen: object = None
    last_seen: object = None
    tags: str | Iterable[str] | None = None
    reference: str | None = None
    reporter: str | None = None
    threatfox_id: object = None
    source: str = ""
    problem: str = ""  # set by a parser that could not read the record at all


_NULLS = {"", "none", "null", "n/a"}


def _text(value: object) -> str:
    if value is None:
        return ""
    text = value.strip() if isinstance(value, str) else str(value).strip()
    return "" if len(text) <= 4 and text.casefold() in _NULLS else text


def _split_list(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    return tuple(dict.fromkeys(t for t in (_text(i) for i in items) if t))


def parse_time(value: object) -> datetime | None:
    """ThreatFox times: `2026-05-20 09:41:07 UTC`, without zone in exports, or a bare date."""
    text = _text(value)
    if not text:
        return None
    text = text.removesuffix("UTC").strip().replace("T", " ").removesuffix("Z")
    if len(text) == 19:  # the usual shape; fromisoformat is ~20x faster than strptime
        try:
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        except ValueError:
            pass
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def parse_confidence(value: object) -> int | None:
    text = _text(value).removesuffix("%").strip()
    if not text:
        return None
    try:
        number = int(float(text))
    except (ValueError, OverflowError):  # "lots", "1e999", "nan"
        return None
    return number if 0 <= number <= 100 else None


class DatasetBuilder:
    """Accumulates records; `build()` returns the deduplicated Dataset."""

    def __init__(self) -> None:
        self._families: dict[str, Family] = {}
        self._iocs: dict[tuple[str, IocType, str], Ioc] = {}  # family, type, value
        self._rejected: list[Rejected] = []
        self._sources: list[str] = []

    def add_source(self, label: str) -> None:
        if label and label not in self._sources:
            self._sources.append(label)

    def add_family(self, malware: str, printable: str = "", aliases: object = None,
                   malpedia: str = "") -> str:
        """Register a family; returns its key (malware id, else the printable name)."""
        malware, printable = _text(malware), _text(printable)
        key = malware or printable
        if not key:
            return ""
        alias_list = _split_list(aliases)  # type: ignore[arg-type]
        known = self._families.get(key)
        if known is not None and set(alias_list) <= set(known.aliases) and (
            not malpedia or known.malpedia
        ) and (known.name != known.key or not printable):
            return key  # nothing new: the common case, every row of a big family
        if known is None:
            self._families[key] = Family(key, printable or malware, alias_list, _text(malpedia))
        else:
            merged = tuple(dict.fromkeys((*known.aliases, *alias_list)))
            self._families[key] = replace(
                known,
                name=known.name if known.name != known.key else (printable or known.name),
                aliases=merged,
                malpedia=known.malpedia or _text(malpedia),
            )
        return key

    def add(self, raw: RawIoc) -> None:
        family = self.add_family(raw.malware, raw.malware_printable, raw.malware_alias,
                                 raw.malware_malpedia)
        declared = _text(raw.declared_type) or None
        tf_id = _text(raw.threatfox_id)
        try:
            if raw.problem:
                raise InvalidIoc(raw.problem)
            ioc_type, value = normalise(str(raw.value or ""), declared)
        except InvalidIoc as exc:
            self._rejected.append(
                Rejected(str(raw.value or ""), str(exc), declared or "", family, raw.source, tf_id)
            )
            return
        ioc = Ioc(
            type=ioc_type,
            value=value,
            family=family,
            threat_type=_text(raw.threat_type),
            confidence=parse_confidence(raw.confidence),
            first_seen=parse_time(raw.first_seen),
            last_seen=parse_time(raw.last_seen),
            tags=_split_list(raw.tags),
            reference=_text(raw.reference),
            reporter=_text(raw.reporter),
            threatfox_id=tf_id,
            source=raw.source,
        )
        key = (family, ioc_type, value)
        known = self._iocs.get(key)
        self._iocs[key] = ioc if known is None else _merge(known, ioc)

    def extend(self, raws: Iterable[RawIoc]) -> None:
        for raw in raws:
            self.add(raw)

    def build(self) -> Dataset:
        families, iocs, rejected = self._link_families()
        return Dataset(families, iocs, rejected, list(self._sources))

    def _link_families(self) -> tuple[dict[str, Family], list[Ioc], list[Rejected]]:
        """A family known only by name (the seed document) joins the family with an id that
        has that printable name or alias, so PureRAT from Markdown and win.pure_rat merge."""
        families = dict(self._families)
        rename: dict[str, str] = {}
        with_id = [f for f in families.values() if f.key != f.name]
        for fam in list(families.values()):
            if fam.key == fam.name:
                for other in with_id:
                    if other.key != fam.key and (other.matches(fam.name)):
                        rename[fam.key] = other.key
                        del families[fam.key]
                        break
        if not rename:
            return families, list(self._iocs.values()), list(self._rejected)
        merged: dict[tuple[str, IocType, str], Ioc] = {}
        for ioc in self._iocs.values():
            if ioc.family in rename:
                ioc = replace(ioc, family=rename[ioc.family])
            key = (ioc.family, ioc.type, ioc.value)
            known = merged.get(key)
            merged[key] = ioc if known is None else _merge(known, ioc)
        rejected = [replace(r, family=rename.get(r.family, r.family)) for r in self._rejected]
        return families, list(merged.values()), rejected


def _merge(old: Ioc, new: Ioc) -> Ioc:
    """Same IOC seen twice: keep the first, fill gaps, widen the seen window."""
    firsts = [t for t in (old.first_seen, new.first_seen) if t]
    lasts = [t for t in (old.last_seen, new.last_seen) if t]
    confs = [c for c in (old.confidence, new.confidence) if c is not None]
    return replace(
        old,
        family=old.family or new.family,
        threat_type=old.threat_type or new.threat_type,
        confidence=max(confs) if confs else None,
        first_seen=min(firsts) if firsts else None,
        last_seen=max(lasts) if lasts else None,
        tags=tuple(dict.fromkeys((*old.tags, *new.tags))),
        reference=old.reference or new.reference,
        reporter=old.reporter or new.reporter,
        threatfox_id=old.threatfox_id or new.threatfox_id,
        source=old.source if new.source in old.source.split(", ") else
        f"{old.source}, {new.source}".strip(", "),
    )
