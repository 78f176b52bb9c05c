"""The hunting pack as Markdown, in the seed document's shape, for any family and selection.

Sections as the seed has them: a description, the IOC summary (family, total, types), the IOC
table with defanged values, the KQL blocks, the table/data-connector notes and the
false-positive scenarios with the exclusions used. `tui.sources.files` reads the pack back.

Feed data is hostile, so nothing from it reaches the document raw: IOC values go into code
spans (where Markdown means nothing; `|` is escaped for the table), other text is
backslash-escaped (`md_text`, reversible: the importer undoes it), query blocks get a fence
longer than any backtick run inside them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from .. import __version__
from ..core.exclusions import Exclusion
from ..core.fang import defang
from ..core.model import TYPE_ORDER, Family, Ioc, IocType
from ..core.planner import Hunt, QueryPlan, Strategy
from ..core.targets import CATALOGUE, Flavour

_ESCAPED = set("\\`*[]<>|~&")


def md_text(value: str) -> str:
    """Escape text for Markdown so it shows as written: every character Markdown could act on
    gets a backslash, characters that are not printable become `\\uXXXX` (a line break would
    end a table row). `_` is escaped unless inside a word, where it means nothing; a space at
    either end is written `\\u0020` (table cells are trimmed)."""
    out = []
    last = len(value) - 1
    for index, ch in enumerate(value):
        if ch == " " and index in (0, last):
            out.append("\\u0020")
        elif ch in _ESCAPED:
            out.append("\\" + ch)
        elif ch == "_":
            inside = (0 < index < len(value) - 1 and value[index - 1].isalnum()
                      and value[index + 1].isalnum())
            out.append("_" if inside else "\\_")
        elif not ch.isprintable():
            code = ord(ch)
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


def _summary_text(value: str) -> str:
    """`md_text` that also escapes parentheses: the summary line writes the family id in
    parentheses, and the importer must not mistake a name's own for it."""
    return md_text(value).replace("(", "\\(").replace(")", "\\)")


def md_code(value: str) -> str:
    """An IOC value as a table-cell code span; text that is not printable falls back to
    `md_text` (code spans cannot escape)."""
    if not value.isprintable():
        return md_text(value)
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value[:1] in "` " or value[-1:] in "` " else ""
    body = value.replace("|", "\\|")  # the table's own escape, honoured inside code spans
    return f"{fence}{pad}{body}{pad}{fence}"


def _fence(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def markdown_pack(hunt: Hunt, result: QueryPlan, now: datetime | None = None,
                  families: Mapping[str, Family] | None = None) -> str:
    now = now or datetime.now(UTC)
    families = dict(families or {})
    if hunt.family is not None:
        families.setdefault(hunt.family.key, hunt.family)
    iocs = hunt.active()
    opts = hunt.options
    fam = hunt.family
    name = fam.name if fam else "all loaded families"
    by_type: dict[IocType, int] = {}
    for ioc in iocs:
        by_type[ioc.type] = by_type.get(ioc.type, 0) + 1
    types = [t for t in TYPE_ORDER if t in by_type]
    lines: list[str] = [f"# ThreatFox: {md_text(name)} IOCs", ""]
    lines += [_description(hunt, result, iocs, by_type, now), ""]

    lines += ["## IOC Summary", ""]
    if fam is not None:
        ident = f" ({_summary_text(fam.key)})" if fam.key != fam.name else ""
        family_text = f"Malware Family: {_summary_text(fam.name)}{ident}"
    else:
        keys = sorted({i.family for i in iocs})
        family_text = "Malware Families: " + ", ".join(
            md_text(families[k].name if k in families else k) for k in keys)
    lines += [f"{family_text} Total IOCs: {len(iocs)} IOC Types: "
              + ", ".join(t.value for t in types), ""]
    lines += [*_ioc_table(iocs, families, several=fam is None), ""]

    lines += ["## Hunting queries", ""]
    for query in result.queries:
        target = CATALOGUE[query.target]
        fence = _fence(query.kql)
        title = target.purpose[:1].upper() + target.purpose[1:]
        lines += [f"### {md_text(title)} ({query.target})", "",
                  f"{fence}kql", query.kql, fence, ""]

    table = "Sentinel Table" if opts.flavour is Flavour.SENTINEL else "Defender XDR Table"
    lines += ["## Sentinel tables and data connectors", "", _row([table, "Notes"]),
              "|---|---|"]
    for query in result.queries:
        requirement = CATALOGUE[query.target].requirement(opts.flavour)
        lines.append(_row([query.target, f"Requires {md_text(requirement)}; ensure it is "
                                         "enabled"]))
    if opts.strategy is Strategy.WATCHLIST and any(
            "_GetWatchlist(" in q.kql for q in result.queries):
        lines += ["", f"The queries read the IOCs from the Sentinel watchlist "
                  f"{md_text(opts.watchlist_alias)}: upload foxhunt's watchlist-csv export to "
                  "it with Ioc as the search key."]
    lines.append("")

    lines += ["## False-positive scenarios", ""]
    if not hunt.exclusions:
        lines += ["No false-positive exclusion is defined for this hunt.", ""]
    for excl in hunt.exclusions:
        lines += _scenario(excl, result)

    warnings = result.all_warnings()
    if warnings:
        lines += ["## Notes", "", *(f"- {md_text(w)}" for w in warnings), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _description(hunt: Hunt, result: QueryPlan, iocs: Sequence[Ioc],
                 by_type: Mapping[IocType, int], now: datetime) -> str:
    fam = hunt.family
    name = md_text(fam.name) if fam else "all loaded families"
    extra = []
    if fam is not None and fam.key != fam.name:
        extra.append(md_text(fam.key))
    if fam is not None and fam.aliases:
        extra.append("aliases " + ", ".join(md_text(a) for a in fam.aliases))
    ident = f" ({'; '.join(extra)})" if extra else ""
    counts = ", ".join(f"{by_type[t]:,} {t.value}" for t in TYPE_ORDER if t in by_type)
    threats: dict[str, int] = {}
    for ioc in iocs:
        key = ioc.threat_type or "unknown"
        threats[key] = threats.get(key, 0) + 1
    threat_text = ", ".join(f"{md_text(k)} ({n:,})" for k, n in sorted(threats.items()))
    opts = hunt.options
    where = ", ".join(q.target for q in result.queries) or "no table"
    product = ("Microsoft Sentinel" if opts.flavour is Flavour.SENTINEL
               else "Microsoft Defender XDR advanced hunting")
    match = ("has_any: a domain also finds its subdomains and a URL finds longer URLs"
             if opts.match.value == "has" else "exact, case-insensitive values")
    sources = ", ".join(md_text(s) for s in hunt.sources) or "the loaded data"
    return (
        f"The ThreatFox: {name} IOCs hunting pack looks for activity matching {len(iocs):,} "
        f"indicators of compromise that ThreatFox attributes to {name}{ident}: {counts}. "
        f"Threat types: {threat_text or 'none given'}. It hunts {product} ({where}) over the "
        f"last {opts.lookback}, matching {match}. SOC teams can run the queries below as they "
        f"are and review each hit with the false-positive scenarios at the end. Generated "
        f"{now.astimezone(UTC):%Y-%m-%d %H:%M} UTC by foxhunt {__version__} from {sources}."
    )


def _ioc_table(iocs: Sequence[Ioc], families: Mapping[str, Family], several: bool) -> list[str]:
    header = ["Type", "Value", "Threat Type", "First Seen", "Confidence", "Last Seen", "Tags",
              "ThreatFox ID"]
    if several:
        header += ["Family", "Family ID"]
    lines = [_row(header), "|" + "---|" * len(header)]
    for ioc in iocs:
        cells = [
            ioc.type.value,
            md_code(defang(ioc.value)),
            md_text(ioc.threat_type),
            _day(ioc.first_seen),
            "" if ioc.confidence is None else f"{ioc.confidence}%",
            _day(ioc.last_seen),
            md_text(", ".join(ioc.tags)),
            md_text(ioc.threatfox_id),
        ]
        if several:
            family = families.get(ioc.family)
            cells += [md_text(family.name if family else ioc.family), md_text(ioc.family)]
        lines.append(_row(cells))
    return lines


def _scenario(excl: Exclusion, result: QueryPlan) -> list[str]:
    conditions = " and ".join(
        f"{c.field.value} {c.op.value} {', '.join(c.values)}" for c in excl.conditions
    )
    if not excl.enabled:
        status = (f"not enabled in this hunt (enable it with --exclude {excl.id} or in the "
                  "config).")
    else:
        applied = [q.target for q in result.queries
                   if excl.fields <= CATALOGUE[q.target].fields.keys()]
        skipped = [q.target for q in result.queries if q.target not in applied]
        status = "applied in " + (", ".join(applied) if applied else "no query")
        if skipped:
            status += "; not applicable in " + ", ".join(skipped) + " (no such columns)"
        status += "."
    return [
        f"### Scenario: {md_text(excl.name)}",
        "",
        f"Description: {md_text(excl.description or excl.name)}",
        "",
        f"Filter/Exclusion: {md_text(conditions)} ({md_text(excl.id)}: {md_text(status)})",
        "",
    ]
