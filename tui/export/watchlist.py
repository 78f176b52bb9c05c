"""The IOCs as a Microsoft Sentinel watchlist CSV (the watchlist strategy's data).

Upload it as a watchlist with `Ioc` as the search key: `_GetWatchlist(alias)` then returns
each IOC in its `SearchKey` column and every column below inside `WatchlistItem`, which is
what the planner's watchlist queries read (`IocType` picks a list, `Ip` feeds IP lists). The
IOC column is not itself called SearchKey: `_GetWatchlist` adds a column of that name.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import datetime

from ..core.model import Family, Ioc, IocType
from ..core.normalise import split_ip_port
from ..core.planner import WATCHLIST_IP_COLUMN, WATCHLIST_TYPE_COLUMN

SEARCH_KEY_COLUMN = "Ioc"
WATCHLIST_COLUMNS: tuple[str, ...] = (
    SEARCH_KEY_COLUMN, WATCHLIST_TYPE_COLUMN, "ThreatType", "Family", "FamilyId",
    "FamilyAliases", "Confidence", "FirstSeen", "LastSeen", "ThreatFoxId", "Tags", "Reference",
    WATCHLIST_IP_COLUMN, "Port",
)


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def watchlist_csv(iocs: Sequence[Ioc], families: Mapping[str, Family]) -> str:
    """One row per IOC (the first family wins when two share a value), RFC 4180 quoting."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(WATCHLIST_COLUMNS)
    seen: set[tuple[IocType, str]] = set()
    for ioc in iocs:
        if ioc.key in seen:
            continue
        seen.add(ioc.key)
        family = families.get(ioc.family)
        ip, port = split_ip_port(ioc.value) if ioc.type is IocType.IP_PORT else ("", "")
        writer.writerow((
            ioc.value,
            ioc.type.value,
            ioc.threat_type,
            family.name if family else ioc.family,
            ioc.family,
            ", ".join(family.aliases) if family else "",
            "" if ioc.confidence is None else str(ioc.confidence),
            _time(ioc.first_seen),
            _time(ioc.last_seen),
            ioc.threatfox_id,
            ", ".join(ioc.tags),
            ioc.reference,
            ip,
            port,
        ))
    return buffer.getvalue()
