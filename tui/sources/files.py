"""Read IOC files; the format is detected from the content, never from the file name.

Formats: ThreatFox API answers (envelopes and the bare `ioc` object), the CSV export (14 or 15
columns, parsed by the `#` header's names), the JSON export, a `.zip` of an export, the seed's
Markdown rule document (and foxhunt's own Markdown pack), foxhunt's Sentinel watchlist CSV,
and plain text (one IOC per line).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..core.dataset import DatasetBuilder, RawIoc
from ..core.model import Dataset

# The export's columns when a file has no header line (older 14, current 15).
CSV_COLUMNS_15 = (
    "first_seen_utc", "ioc_id", "ioc_value", "ioc_type", "threat_type", "fk_malware",
    "malware_alias", "malware_printable", "last_seen_utc", "confidence_level", "is_compromised",
    "reference", "tags", "anonymous", "reporter",
)
CSV_COLUMNS_14 = tuple(c for c in CSV_COLUMNS_15 if c != "is_compromised")

_MD_TABLE = re.compile(r"^\s*\|\s*type\s*\|\s*value\s*\|", re.IGNORECASE | re.MULTILINE)
# The family id is the last unescaped "(...)" before "Total IOCs:" (a name's own parentheses
# are backslash-escaped by foxhunt's Markdown pack).
_MD_FAMILY = re.compile(
    r"Malware Family:\s*(?P<name>.+?)(?:\s*(?<!\\)\((?P<id>(?:[^()\\]|\\.)+?)(?<!\\)\))?"
    r"\s*(?=Total IOCs:|$)",
    re.IGNORECASE | re.MULTILINE,
)
# CommonMark backslash escapes (any ASCII punctuation) plus foxhunt's \uXXXX / \UXXXXXXXX for
# characters that cannot appear raw in a table row.
_MD_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|[!-/:-@\[-`{-~])")
_MD_LINES = re.compile(r"\r\n|\r|\n")  # Markdown's line ends only (not U+2028 and kin)
# foxhunt's watchlist CSV: its header names the IOC and type columns.
WATCHLIST_IOC_COLUMN = "Ioc"
WATCHLIST_TYPE_COLUMN = "IocType"
_PLAIN_FAMILY = re.compile(r"^#\s*family\s*:\s*(.+)$", re.IGNORECASE)
# A plain IOC list may start with a bracketed IPv6 ip:port, which is not JSON.
_PLAIN_IPV6 = re.compile(r"\[[0-9A-Fa-f:.]+\](?:\[?:\]?)\d+\s*(?:$|\n)")
# Feed fields can be long (a 10 kB URL); the csv module's default cap is 128 KiB a field.
csv.field_size_limit(64 * 1024 * 1024)


class SourceError(Exception):
    """A file cannot be read as IOCs; the message is one sentence saying which and why."""


def load_files(paths: Iterable[str | Path]) -> Dataset:
    builder = DatasetBuilder()
    for path in paths:
        read_path(Path(path), builder)
    return builder.build()


def read_path(path: Path, builder: DatasetBuilder) -> None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SourceError(f"{path} is a directory, not a file") from None
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    read_bytes(data, path.name, builder, where=str(path))


def read_bytes(data: bytes, label: str, builder: DatasetBuilder, where: str = "") -> None:
    """Detect the format of `data` and add its records to `builder`."""
    where = where or label
    builder.add_source(label)
    if data[:4] == b"PK\x03\x04":
        _read_zip(data, label, builder, where)
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{where} is not UTF-8 text (bad byte at offset {exc.start}); "
            "give a ThreatFox export, API answer, Markdown rule or IOC list"
        ) from None
    read_text(text, label, builder, where)


def read_text(text: str, label: str, builder: DatasetBuilder, where: str = "") -> None:
    where = where or label
    stripped = text.lstrip()
    if not stripped:
        raise SourceError(f"{where} is empty")
    if stripped[0] in "{[" and not _PLAIN_IPV6.match(stripped):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(
                f"{where} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from None
        except RecursionError:
            raise SourceError(f"{where} is JSON nested too deeply to be a ThreatFox "
                              "answer") from None
        builder.extend(_json_records(doc, label, builder, where))
    elif _looks_like_csv(text):
        try:
            builder.extend(_csv_records(text, label, where))
        except csv.Error as exc:
            raise SourceError(f"{where} is not a readable CSV export ({exc})") from None
    elif _looks_like_watchlist(text):
        builder.extend(_watchlist_records(text, label))
    elif _MD_TABLE.search(text):
        builder.extend(_markdown_records(text, label))
    else:
        builder.extend(_plain_records(text, label))


def _read_zip(data: bytes, label: str, builder: DatasetBuilder, where: str) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
        if not members:
            raise SourceError(f"{where} is an empty zip archive")
        wanted = [m for m in members if m.filename.lower().endswith((".csv", ".json", ".txt"))]
        for member in wanted or members[:1]:
            inner = archive.read(member)
            read_bytes(inner, label, builder, where=f"{where}!{member.filename}")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, OSError) as exc:
        raise SourceError(f"{where} is a damaged or unsupported zip archive ({exc})") from None


# -- JSON ------------------------------------------------------------------------------------


def _json_records(doc: object, label: str, builder: DatasetBuilder,
                  where: str) -> Iterator[RawIoc]:
    if isinstance(doc, dict) and "query_status" in doc:
        status = str(doc.get("query_status"))
        data = doc.get("data")
        if status == "no_result":
            return
        if status != "ok":
            detail = data if isinstance(data, str) else ""
            raise SourceError(
                f"{where} holds a ThreatFox error answer ({status}"
                + (f": {detail[:200]}" if detail else "") + "), not IOCs"
            )
        if isinstance(data, list):
            yield from (_api_record(r, label) for r in data)
        elif isinstance(data, dict) and "ioc" in data:
            yield _api_record(data, label)
        elif isinstance(data, dict):  # malware_list: families only
            for key, info in data.items():
                if isinstance(info, dict) and "malware_printable" in info:
                    builder.add_family(str(key), _opt(info.get("malware_printable")),
                                       info.get("malware_alias"))
        return
    if isinstance(doc, dict) and "ioc" in doc and "ioc_type" in doc:
        yield _api_record(doc, label)
        return
    if isinstance(doc, dict) and doc and all(isinstance(v, list) for v in doc.values()):
        for ioc_id, items in doc.items():
            for item in items:
                yield _export_json_record(str(ioc_id), item, label)
        return
    raise SourceError(
        f"{where} is JSON but not a ThreatFox API answer or JSON export"
    )


def _opt(value: object) -> str:
    return "" if value is None else str(value)


def _api_record(rec: object, label: str) -> RawIoc:
    if not isinstance(rec, dict):
        return RawIoc(value=str(rec)[:200], problem="record is not a JSON object", source=label)
    return RawIoc(
        value=_opt(rec.get("ioc")),
        declared_type=_opt(rec.get("ioc_type")),
        malware=_opt(rec.get("malware")),
        malware_printable=_opt(rec.get("malware_printable")),
        malware_alias=_alias(rec.get("malware_alias")),
        malware_malpedia=_opt(rec.get("malware_malpedia")),
        threat_type=_opt(rec.get("threat_type")),
        confidence=rec.get("confidence_level"),
        first_seen=rec.get("first_seen"),
        last_seen=rec.get("last_seen"),
        tags=_tags(rec.get("tags")),
        reference=_opt(rec.get("reference")),
        reporter=_opt(rec.get("reporter")),
        threatfox_id=rec.get("id"),
        source=label,
    )


def _export_json_record(ioc_id: str, rec: object, label: str) -> RawIoc:
    if not isinstance(rec, dict):
        return RawIoc(value=str(rec)[:200], problem="record is not a JSON object", source=label)
    return RawIoc(
        value=_opt(rec.get("ioc_value")),
        declared_type=_opt(rec.get("ioc_type")),
        malware=_opt(rec.get("malware")),
        malware_printable=_opt(rec.get("malware_printable")),
        malware_alias=_alias(rec.get("malware_alias")),
        threat_type=_opt(rec.get("threat_type")),
        confidence=rec.get("confidence_level"),
        first_seen=rec.get("first_seen_utc"),
        last_seen=rec.get("last_seen_utc"),
        tags=_tags(rec.get("tags")),
        reference=_opt(rec.get("reference")),
        reporter=_opt(rec.get("reporter")),
        threatfox_id=ioc_id,
        source=label,
    )


def _tags(value: object) -> str | list[str] | None:
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, (str, int))]
    return value if isinstance(value, str) else None


def _alias(value: object) -> str | None:
    return value if isinstance(value, str) else None


# -- CSV export -------------------------------------------------------------------------------


def _looks_like_csv(text: str) -> bool:
    for line in text.splitlines()[:50]:
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            if '"first_seen_utc"' in line or "first_seen_utc," in line:
                return True
            continue
        return (line.startswith('"') and '", "' in line) or line.startswith("first_seen_utc,")
    return False


def _csv_records(text: str, label: str, where: str) -> Iterator[RawIoc]:
    header: tuple[str, ...] | None = None
    rows: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            body = stripped.lstrip("#").strip()
            if "first_seen_utc" in body:
                header = tuple(next(csv.reader([body], skipinitialspace=True)))
            continue
        if header is None and stripped.startswith("first_seen_utc"):
            header = tuple(next(csv.reader([stripped], skipinitialspace=True)))
            continue
        rows.append(line)
    for number, row in enumerate(csv.reader(rows, skipinitialspace=True), 1):
        columns = header or _layout_for(len(row))
        if columns is None or len(row) != len(columns):
            yield RawIoc(
                value=", ".join(row)[:200],
                problem=f"CSV row {number} has {len(row)} columns, expected "
                f"{len(columns) if columns else '14 or 15'}",
                source=label,
            )
            continue
        rec = dict(zip(columns, row, strict=True))
        yield RawIoc(
            value=rec.get("ioc_value", ""),
            declared_type=rec.get("ioc_type"),
            malware=rec.get("fk_malware", ""),
            malware_printable=rec.get("malware_printable", ""),
            malware_alias=rec.get("malware_alias"),
            threat_type=rec.get("threat_type", ""),
            confidence=rec.get("confidence_level"),
            first_seen=rec.get("first_seen_utc"),
            last_seen=rec.get("last_seen_utc"),
            tags=rec.get("tags"),
            reference=rec.get("reference"),
            reporter=rec.get("reporter"),
            threatfox_id=rec.get("ioc_id"),
            source=label,
        )


def _layout_for(count: int) -> tuple[str, ...] | None:
    return {15: CSV_COLUMNS_15, 14: CSV_COLUMNS_14}.get(count)


# -- Markdown rule document (the seed) --------------------------------------------------------


def _md_unescape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        found = match.group(1)
        return chr(int(found[1:], 16)) if len(found) > 1 else found

    return _MD_ESCAPE.sub(one, text)


def _md_cell(cell: str) -> str:
    """A table cell's text: a code span's content as written (only the table's `\\|`
    undone), anything else with its backslash escapes undone."""
    cell = cell.strip()
    ticks = len(cell) - len(cell.lstrip("`"))
    if ticks and len(cell) > 2 * ticks and cell.endswith("`" * ticks) and (
            cell[-ticks - 1] != "`"):
        inner = cell[ticks:-ticks]
        if len(inner) > 1 and inner.startswith(" ") and inner.endswith(" ") and inner.strip():
            inner = inner[1:-1]
        return inner.replace("\\|", "|")
    return _md_unescape(cell)


def _md_cells(line: str) -> list[str]:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    cells = re.split(r"(?<!\\)\|", body)
    return [_md_cell(c) for c in cells]


def _markdown_records(text: str, label: str) -> Iterator[RawIoc]:
    family_id, family_name = "", ""
    # the summary line starts with the label; titles and prose may quote a family named
    # "Malware Family: X", so only a line that begins with it counts
    match = next((m for line in _MD_LINES.split(text)
                  for m in [_MD_FAMILY.match(line.lstrip())] if m), None)
    if match:
        family_name = _md_unescape(match.group("name").strip())
        family_id = _md_unescape((match.group("id") or "").strip())
    lines = _MD_LINES.split(text)
    start = next((n for n, line in enumerate(lines) if _MD_TABLE.match(line)), None)
    if start is None:
        return
    columns = [c.casefold() for c in _md_cells(lines[start])]
    for line in lines[start + 1 :]:
        if not line.strip().startswith("|"):
            break
        cells = _md_cells(line)
        if all(set(c) <= set("-: ") for c in cells):
            continue
        rec = dict(zip(columns, cells, strict=False))
        yield RawIoc(
            value=rec.get("value", ""),
            declared_type=rec.get("type"),
            # A multi-family pack names each row's family in the table itself.
            malware=rec.get("family id", family_id),
            malware_printable=rec.get("family", family_name),
            threat_type=rec.get("threat type", ""),
            confidence=rec.get("confidence"),
            first_seen=rec.get("first seen"),
            last_seen=rec.get("last seen"),
            tags=rec.get("tags"),
            threatfox_id=rec.get("threatfox id"),
            source=label,
        )


# -- foxhunt's Sentinel watchlist CSV ----------------------------------------------------------


def _looks_like_watchlist(text: str) -> bool:
    first = next((ln for ln in _MD_LINES.split(text) if ln.strip()), "")
    try:
        header = next(csv.reader([first]))
    except (csv.Error, StopIteration):
        return False
    return WATCHLIST_IOC_COLUMN in header and WATCHLIST_TYPE_COLUMN in header


def _watchlist_records(text: str, label: str) -> Iterator[RawIoc]:
    # io.StringIO splits rows at \r and \n only, and csv keeps quoted line breaks in a cell.
    for row in csv.DictReader(io.StringIO(text, newline="")):
        def get(name: str, row: dict = row) -> str:
            value = row.get(name)
            return value if isinstance(value, str) else ""

        def text(name: str, row: dict = row) -> str:  # undoes export.watchlist.text_cell
            return _md_unescape(get(name, row))

        yield RawIoc(
            value=get(WATCHLIST_IOC_COLUMN),
            declared_type=get(WATCHLIST_TYPE_COLUMN),
            malware=text("FamilyId"),
            malware_printable=text("Family"),
            malware_alias=text("FamilyAliases"),
            threat_type=text("ThreatType"),
            confidence=get("Confidence"),
            first_seen=get("FirstSeen"),
            last_seen=get("LastSeen"),
            tags=text("Tags"),
            reference=text("Reference"),
            threatfox_id=text("ThreatFoxId"),
            source=label,
        )


# -- plain text --------------------------------------------------------------------------------


def _plain_records(text: str, label: str) -> Iterator[RawIoc]:
    family = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            directive = _PLAIN_FAMILY.match(stripped)
            if directive:
                family = directive.group(1).strip()
            continue
        value = re.split(r"\s+#", stripped, maxsplit=1)[0].strip()
        yield RawIoc(value=value, malware_printable=family, source=label)
