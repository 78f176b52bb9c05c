"""The offline store: one SQLite file holding every family, IOC and rejected value fetched or
imported, and a log of where each came from and when.

Rules:
* One transaction per fetch or import: a failed or interrupted one changes nothing.
* An IOC row is identified by its ThreatFox id when it has one (so an IOC that ThreatFox moves
  to another family moves with it), else by (family, type, value); (family, type, value) is
  unique, which is also the Dataset's own deduplication key, so `load()` never yields twins.
* A family known only by name (the seed document, a plain list) joins the stored family whose
  id has that name or alias, in either order of arrival, as `DatasetBuilder` does in memory.
* Invalid values are kept in `rejected`, never dropped silently.
* A damaged or foreign file is reported in one sentence and never deleted or rewritten.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from ..core.fang import refang
from ..core.model import TYPE_ORDER, Dataset, Family, FamilySummary, Ioc, IocType, Rejected

APPLICATION_ID = 0x46784874  # "FxHt": marks the file as a foxhunt store
SCHEMA_VERSION = 1
_TIME = "%Y-%m-%d %H:%M:%S"  # UTC; sorts as text
_CHUNK = 500  # bound parameters per IN (...) query

_SCHEMA = """
CREATE TABLE families (
    key       TEXT PRIMARY KEY,          -- ThreatFox malware id, else the printable name
    name      TEXT NOT NULL,
    aliases   TEXT NOT NULL DEFAULT '[]',  -- JSON array
    malpedia  TEXT NOT NULL DEFAULT ''
);
CREATE TABLE fetches (                   -- the fetch/import log
    id        INTEGER PRIMARY KEY,
    source    TEXT NOT NULL,
    at        TEXT NOT NULL,             -- UTC
    new       INTEGER NOT NULL DEFAULT 0,
    updated   INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    rejected  INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE iocs (                      -- clustered by family: loading one is a range scan
    family       TEXT NOT NULL,          -- families.key, or '' when the source named none
    type         TEXT NOT NULL,
    value        TEXT NOT NULL,
    threatfox_id TEXT NOT NULL DEFAULT '',
    threat_type  TEXT NOT NULL DEFAULT '',
    confidence   INTEGER,
    first_seen   TEXT,
    last_seen    TEXT,
    tags         TEXT NOT NULL DEFAULT '[]',
    reference    TEXT NOT NULL DEFAULT '',
    reporter     TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL DEFAULT '',
    added_by     INTEGER NOT NULL REFERENCES fetches(id),
    changed_by   INTEGER NOT NULL REFERENCES fetches(id),
    PRIMARY KEY (family, type, value)
) WITHOUT ROWID;
-- Search scans (a substring LIKE cannot use an index); one index less makes imports faster.
CREATE INDEX iocs_threatfox_id ON iocs(threatfox_id) WHERE threatfox_id <> '';
CREATE TABLE rejected (
    id            INTEGER PRIMARY KEY,
    family        TEXT NOT NULL,
    declared_type TEXT NOT NULL,
    raw           TEXT NOT NULL,
    reason        TEXT NOT NULL,
    threatfox_id  TEXT NOT NULL DEFAULT '',
    source        TEXT NOT NULL DEFAULT '',
    added_by      INTEGER NOT NULL REFERENCES fetches(id),
    UNIQUE (family, declared_type, raw)
);
"""

# The IOC columns compared and written on upsert, in this order.
_COLS = ("family", "type", "value", "threatfox_id", "threat_type", "confidence", "first_seen",
         "last_seen", "tags", "reference", "reporter", "source")
_SELECT = "SELECT " + ", ".join(_COLS) + " FROM iocs"
_WHERE_KEY = " WHERE family = ? AND type = ? AND value = ?"
Row = tuple  # (family, type, value, threatfox_id, ..., source) as in _COLS


class StoreError(Exception):
    """The store cannot be used; the message is one sentence naming the file and what to do."""


@dataclass(frozen=True)
class ImportSummary:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def __str__(self) -> str:
        return (f"{self.new:,} new, {self.updated:,} updated, {self.unchanged:,} unchanged, "
                f"{self.rejected:,} rejected")


@dataclass(frozen=True)
class FetchRecord:
    source: str
    at: datetime
    summary: ImportSummary = field(default_factory=ImportSummary)


class Store:
    """The SQLite store at `path` (created with its folder when missing). Thread-safe: the
    TUI may call it from worker threads; calls are serialised."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        if self.path.is_dir():
            raise StoreError(f"the foxhunt store {self.path} is a folder, not a file; "
                             "move it aside")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder for the foxhunt store "
                             f"{self.path.parent}: {exc.strerror or exc}") from None
        try:
            self._db = sqlite3.connect(str(self.path), isolation_level=None,
                                       check_same_thread=False, timeout=10.0)
            self._open()
        except sqlite3.Error as exc:
            self.close()
            raise self._error(exc) from None

    def _open(self) -> None:
        db = self._conn
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app_id == 0 and version == 0 and tables == 0:
            db.execute("PRAGMA journal_mode = WAL")
            try:
                db.executescript(f"BEGIN IMMEDIATE; {_SCHEMA}"
                                 f"PRAGMA application_id = {APPLICATION_ID};"
                                 f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        elif app_id != APPLICATION_ID:
            raise StoreError(f"{self.path} is not a foxhunt store (another program's SQLite "
                             "database); move it aside or delete it yourself")
        elif version > SCHEMA_VERSION:
            raise StoreError(f"the foxhunt store {self.path} was written by a newer foxhunt "
                             f"(schema {version}); upgrade foxhunt")
        elif db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA synchronous = NORMAL")  # WAL: still atomic, far fewer fsyncs

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                with suppress(sqlite3.Error):
                    self._db.close()
                self._db = None

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError(f"the foxhunt store {self.path} is closed")
        return self._db

    def _error(self, exc: sqlite3.Error) -> StoreError:
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            return StoreError(f"the foxhunt store {self.path} is busy (another foxhunt is "
                              "writing to it); try again in a moment")
        if isinstance(exc, sqlite3.OperationalError) and "unable to open" in str(exc):
            return StoreError(f"cannot open the foxhunt store {self.path}; check that the "
                              "folder exists and is writable")
        return StoreError(f"the foxhunt store {self.path} is damaged or unreadable ({exc}); "
                          "move it aside (foxhunt never deletes it) and run 'foxhunt fetch' "
                          "or 'foxhunt import' to start a new one")

    @contextmanager
    def _guard(self) -> Iterator[sqlite3.Connection]:
        """Serialise access and turn SQLite failures into a StoreError sentence."""
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise self._error(exc) from None

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        db = self._conn
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if db.in_transaction:  # SQLite may already have rolled back (disk full...)
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # -- reading ---------------------------------------------------------------------------

    def is_empty(self) -> bool:
        with self._guard() as db:
            return not db.execute(
                "SELECT EXISTS(SELECT 1 FROM iocs) OR EXISTS(SELECT 1 FROM families) "
                "OR EXISTS(SELECT 1 FROM rejected)").fetchone()[0]

    def families(self) -> list[FamilySummary]:
        """Every stored family with its IOC counts by type and newest sighting, by name."""
        with self._guard() as db:
            fams = self._families(db)
            counts: dict[str, dict[IocType, int]] = {}
            seen: dict[str, str | None] = {}
            for key, type_, count, newest in db.execute(
                "SELECT family, type, count(*), max(coalesce(last_seen, first_seen)) "
                "FROM iocs GROUP BY family, type"
            ):
                ioc_type = _TYPES.get(type_)
                if ioc_type is not None:
                    counts.setdefault(key, {})[ioc_type] = count
                if newest and (seen.get(key) or "") < newest:
                    seen[key] = newest
        result = []
        for key, fam in fams.items():
            by_type = counts.get(key, {})
            ordered = {t: by_type[t] for t in TYPE_ORDER if t in by_type}
            result.append(FamilySummary(fam, ordered, sum(ordered.values()),
                                        _time(seen.get(key))))
        return sorted(result, key=lambda s: (s.family.name.casefold(), s.family.key))

    def load(self, family_key: str | None = None) -> Dataset:
        """The stored data as a Dataset: one family (by key) or, with None, everything."""
        with self._guard() as db:
            fams = self._families(db)
            if family_key is None:
                where, args = "", ()
            else:
                fams = {k: f for k, f in fams.items() if k == family_key}
                where, args = " WHERE family = ?", (family_key,)
            rows = db.execute(_SELECT + where, args).fetchall()  # key order: type, value
            rejected_rows = db.execute(
                "SELECT raw, reason, declared_type, family, source, threatfox_id FROM rejected"
                + where + " ORDER BY id", args).fetchall()
            labels = [r[0] for r in db.execute(
                "SELECT DISTINCT source FROM iocs" + where, args)]
        iocs = _IocReader().read(rows)
        rejected = [Rejected(*r) for r in rejected_rows]
        sources = list(dict.fromkeys(
            part for label in labels for part in label.split(", ") if part))
        return Dataset(fams, iocs, rejected, sources)

    def search(self, text: str, limit: int = 200) -> list[Ioc]:
        """IOCs whose value contains `text` (any case, defanged or not), whose ThreatFox id is
        `text`, or that carry `text` as a tag; exact value matches first."""
        needle = text.strip()
        if not needle or limit <= 0:
            return []
        refanged = refang(needle)
        wanted = list(dict.fromkeys([needle, refanged, refanged.lower()]))
        pattern, pattern2 = _like(needle), _like(refanged)
        with self._guard() as db:
            marks = ", ".join("?" * len(wanted))
            exact = db.execute(
                f"{_SELECT} WHERE value IN ({marks}) OR threatfox_id = ? LIMIT ?",
                (*wanted, needle, limit)).fetchall()
            rest = db.execute(
                f"{_SELECT} WHERE value LIKE ? ESCAPE '\\' OR value LIKE ? ESCAPE '\\' "
                "OR tags LIKE ? ESCAPE '\\' "
                "ORDER BY coalesce(last_seen, first_seen) DESC, value LIMIT ?",
                (pattern, pattern2, pattern, limit)).fetchall()
        unique = list(dict.fromkeys((*exact, *rest)))[:limit]
        return _IocReader().read(unique)

    def fetch_log(self, limit: int = 50) -> list[FetchRecord]:
        """The newest fetches and imports, newest first."""
        with self._guard() as db:
            rows = db.execute("SELECT source, at, new, updated, unchanged, rejected "
                              "FROM fetches ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [FetchRecord(s, _time(at) or datetime.now(UTC), ImportSummary(*counts))
                for s, at, *counts in rows]

    @staticmethod
    def _families(db: sqlite3.Connection) -> dict[str, Family]:
        fams = {}
        for key, name, aliases, malpedia in db.execute(
                "SELECT key, name, aliases, malpedia FROM families ORDER BY key"):
            fams[key] = Family(key, name, tuple(_json_list(aliases)), malpedia)
        return fams

    # -- writing ---------------------------------------------------------------------------

    def import_dataset(self, dataset: Dataset, source: str) -> ImportSummary:
        """Upsert everything in `dataset` in one transaction and log it as `source`."""
        with self._guard() as db, self._transaction():
            fetch = db.execute("INSERT INTO fetches (source, at) VALUES (?, ?)",
                               (source, datetime.now(UTC).strftime(_TIME))).lastrowid
            rename = self._merge_families(db, dataset.families, fetch)
            new, updated, unchanged = self._upsert_iocs(db, dataset.iocs, rename, fetch)
            db.executemany(
                "INSERT OR IGNORE INTO rejected (family, declared_type, raw, reason, "
                "threatfox_id, source, added_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                ((rename.get(r.family, r.family), r.declared_type, r.raw, r.reason,
                  r.threatfox_id, r.source, fetch) for r in dataset.rejected))
            summary = ImportSummary(new, updated, unchanged, len(dataset.rejected))
            db.execute("UPDATE fetches SET new = ?, updated = ?, unchanged = ?, rejected = ? "
                       "WHERE id = ?", (new, updated, unchanged, summary.rejected, fetch))
        return summary

    def _merge_families(self, db: sqlite3.Connection, incoming: dict[str, Family],
                        fetch: int) -> dict[str, str]:
        """Upsert families; returns incoming keys renamed to stored ones (name-only → id)."""
        stored = self._families(db)
        with_id = [f for f in stored.values() if f.key != f.name]
        rename: dict[str, str] = {}
        for fam in incoming.values():
            if fam.key == fam.name and fam.key not in stored:
                match = next((s for s in with_id if s.matches(fam.name)), None)
                if match is not None:
                    rename[fam.key] = match.key
        for fam in incoming.values():
            if fam.key in rename:
                continue
            old = stored.get(fam.key)
            merged = fam if old is None else Family(
                fam.key,
                old.name if old.name != old.key else fam.name,
                tuple(dict.fromkeys((*old.aliases, *fam.aliases))),
                old.malpedia or fam.malpedia,
            )
            if merged != old:
                db.execute("INSERT OR REPLACE INTO families (key, name, aliases, malpedia) "
                           "VALUES (?, ?, ?, ?)",
                           (merged.key, merged.name, json.dumps(list(merged.aliases)),
                            merged.malpedia))
            if fam.key != fam.name:  # an id family absorbs stored name-only twins
                for twin in stored.values():
                    if twin.key == twin.name and twin.key != fam.key and fam.matches(twin.name):
                        self._absorb(db, twin.key, fam.key, fetch)
        return rename

    def _absorb(self, db: sqlite3.Connection, old: str, new: str, fetch: int) -> None:
        """Move family `old`'s rows to `new`, merging rows both hold."""
        taken = {r[1:3]: r for r in db.execute(_SELECT + " WHERE family = ?", (new,))}
        for row in db.execute(_SELECT + " WHERE family = ?", (old,)).fetchall():
            twin = taken.get(row[1:3])
            if twin is None:
                db.execute("UPDATE iocs SET family = ?, changed_by = ?" + _WHERE_KEY,
                           (new, fetch, *row[:3]))
            else:
                merged = _merge_rows(twin, (new, *row[1:]))
                db.execute(f"UPDATE iocs SET {_ASSIGN}, changed_by = ?" + _WHERE_KEY,
                           (*merged, fetch, *twin[:3]))
                db.execute("DELETE FROM iocs" + _WHERE_KEY, row[:3])
        db.execute("UPDATE OR IGNORE rejected SET family = ? WHERE family = ?", (new, old))
        db.execute("DELETE FROM rejected WHERE family = ?", (old,))
        db.execute("DELETE FROM families WHERE key = ?", (old,))

    def _upsert_iocs(self, db: sqlite3.Connection, iocs: Iterable[Ioc], rename: dict[str, str],
                     fetch: int) -> tuple[int, int, int]:
        incoming: dict[tuple[str, str, str], Row] = {}
        make = _RowMaker().row
        for ioc in iocs:
            row = make(ioc, rename.get(ioc.family, ioc.family))
            key = (row[0], row[1], row[2])
            incoming[key] = _merge_rows(incoming[key], row) if key in incoming else row
        existing: dict[tuple[str, str, str], Row] = {}
        for family in {k[0] for k in incoming}:
            for r in db.execute(_SELECT + " WHERE family = ?", (family,)):
                existing[r[:3]] = r
        # Rows of other families carrying an incoming ThreatFox id: ThreatFox moved the IOC.
        by_id: dict[str, Row] = {}
        orphan_ids = [row[3] for key, row in incoming.items() if row[3] and key not in existing]
        for start in range(0, len(orphan_ids), _CHUNK):
            chunk = orphan_ids[start:start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            for r in db.execute(f"{_SELECT} WHERE threatfox_id IN ({marks})", chunk):
                by_id.setdefault(r[3], r)
        inserts: list[Row] = []
        updates: list[tuple] = []
        unchanged = relabelled = 0
        moved: set[tuple[str, str, str]] = set()
        for key, row in incoming.items():
            old = existing.get(key)
            if old is None and row[3] in by_id:
                candidate = by_id[row[3]]
                claimed = candidate[:3] in incoming or candidate[:3] in moved
                if candidate[1:3] == row[1:3] and not claimed:
                    old = candidate
                    moved.add(candidate[:3])
            if old is None:
                inserts.append(row)
                continue
            merged = _merge_rows(old, row, family=row[0])
            if merged == old:
                unchanged += 1
                continue
            updates.append((*merged, fetch, *old[:3]))
            # A new source label alone is provenance, not news: still written, counted unchanged.
            if merged[:-1] == old[:-1]:
                unchanged += 1
                relabelled += 1
        db.executemany(
            f"INSERT INTO iocs ({', '.join(_COLS)}, added_by, changed_by) "
            f"VALUES ({', '.join('?' * len(_COLS))}, ?, ?)",
            ((*row, fetch, fetch) for row in inserts))
        db.executemany(f"UPDATE iocs SET {_ASSIGN}, changed_by = ?" + _WHERE_KEY, updates)
        return len(inserts), len(updates) - relabelled, unchanged


_ASSIGN = ", ".join(f"{c} = ?" for c in _COLS)


class _RowMaker:
    """Iocs to rows, fast: tags and times that repeat are encoded once."""

    def __init__(self) -> None:
        self._tags: dict[tuple[str, ...], str] = {(): "[]"}
        self._times: dict[datetime | None, str | None] = {None: None}

    def row(self, ioc: Ioc, family: str) -> Row:
        tags = self._tags.get(ioc.tags)
        if tags is None:
            tags = self._tags[ioc.tags] = json.dumps(list(ioc.tags), ensure_ascii=False)
        first = self._times.get(ioc.first_seen, _MISSING)
        if first is _MISSING:
            first = self._times[ioc.first_seen] = _text(ioc.first_seen)
        last = self._times.get(ioc.last_seen, _MISSING)
        if last is _MISSING:
            last = self._times[ioc.last_seen] = _text(ioc.last_seen)
        return (family, ioc.type.value, ioc.value, ioc.threatfox_id, ioc.threat_type,
                ioc.confidence, first, last, tags, ioc.reference, ioc.reporter, ioc.source)


def _merge_rows(old: Row, new: Row, family: str | None = None) -> Row:
    """The same IOC again: the newer fetch wins where it says something, the sighting window
    widens, tags and source labels accumulate."""
    firsts = [t for t in (old[6], new[6]) if t]
    lasts = [t for t in (old[7], new[7]) if t]
    tags = old[8] if old[8] == new[8] else json.dumps(
        list(dict.fromkeys((*_json_list(old[8]), *_json_list(new[8])))), ensure_ascii=False)
    sources = old[11] if old[11] == new[11] else ", ".join(dict.fromkeys(
        p for p in (*old[11].split(", "), *new[11].split(", ")) if p))
    return (
        family if family is not None else old[0], old[1], old[2],
        new[3] or old[3],
        new[4] or old[4],
        new[5] if new[5] is not None else old[5],
        min(firsts) if firsts else None,
        max(lasts) if lasts else None,
        tags,
        new[9] or old[9],
        new[10] or old[10],
        sources,
    )


_TYPES = {t.value: t for t in IocType}


class _IocReader:
    """Rows to Iocs, fast: parsed tags and times are shared between rows that repeat them."""

    def __init__(self) -> None:
        self._tags: dict[str, tuple[str, ...]] = {"[]": ()}
        self._times: dict[str | None, datetime | None] = {None: None, "": None}

    def read(self, rows: Iterable[Row]) -> list[Ioc]:
        tags, times, types = self._tags, self._times, _TYPES
        result = []
        append = result.append
        for fam, type_, value, tf_id, threat, conf, first, last, tag_text, ref, rep, src in rows:
            first_dt = times.get(first, _MISSING)
            if first_dt is _MISSING:
                first_dt = times[first] = _time(first)
            last_dt = times.get(last, _MISSING)
            if last_dt is _MISSING:
                last_dt = times[last] = _time(last)
            tag_tuple = tags.get(tag_text)
            if tag_tuple is None:
                tag_tuple = tags[tag_text] = tuple(_json_list(tag_text))
            ioc_type = types.get(type_)
            if ioc_type is None:
                continue  # written by a newer foxhunt with more types: not ours to show
            append(Ioc(ioc_type, value, fam, threat, conf, first_dt, last_dt, tag_tuple, ref,
                       rep, tf_id, src))
        return result


_MISSING: Any = object()


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime(_TIME)


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        return None


def _json_list(text: str) -> list[str]:
    try:
        value = json.loads(text)
    except (ValueError, TypeError):
        return []
    return [str(v) for v in value] if isinstance(value, list) else []
