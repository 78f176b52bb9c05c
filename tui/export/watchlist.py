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


def text_cell(value: str) -> str:
    """A free-text cell made safe and reversible: backslashes doubled, characters that are not
    printable written `\\uXXXX` (an ESC in a family name must not reach a terminal that shows
    the file), and a leading `= + - @` backslash-escaped so no spreadsheet runs it as a formula.
    `tui.sources.files` undoes exactly this when it reads the watchlist back."""
    text = value.replace("\\", "\\\\")
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else _escape(ch) for ch in text)
    if text[:1] in ("=", "+", "-", "@"):
        text = "\\" + text
    return text


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


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
            ioc.value,  # validated: no control characters; the search key stays exact
            ioc.type.value,
            text_cell(ioc.threat_type),
            text_cell(family.name if family else ioc.family),
            text_cell(ioc.family),
            text_cell(", ".join(family.aliases) if family else ""),
            "" if ioc.confidence is None else str(ioc.confidence),
            _time(ioc.first_seen),
            _time(ioc.last_seen),
            text_cell(ioc.threatfox_id),
            text_cell(", ".join(ioc.tags)),
            text_cell(ioc.reference),
            ip,
            port,
        ))
    return buffer.getvalue()
