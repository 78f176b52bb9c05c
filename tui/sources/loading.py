"""Where a session's data comes from, and how fetched data reaches the store.

`load_session`: files named by the user, else the store, else the demo data; the second value
says which, in words that can be shown as is: "files", "store" or "demo data". Both the CLI
and the TUI call it.

`fetch_to_store` / `refresh_family`: ask ThreatFox, then write the whole answer to the store in
one transaction. The network part finishes (or fails) before the store is touched, so a failed
fetch leaves the store exactly as it was.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..core.config import ThreatFoxSettings
from ..core.model import Dataset
from .demo import demo_dataset
from .files import load_files
from .store import ImportSummary, Store
from .threatfox import Progress, ThreatFoxClient, resolve_settings

FILES = "files"
STORE = "store"
DEMO = "demo data"


def load_session(sources: Sequence[Path], store_path: Path,
                 family: str | None = None) -> tuple[Dataset, str]:
    """The session's Dataset and its origin. With `family` (id, name or alias) and data from
    the store, only that family is read when the store knows it: a 100,000-IOC store need not
    be loaded whole to hunt one family. Raises SourceError or StoreError (one sentence)."""
    if sources:
        return load_files(sources), FILES
    if store_has_data(store_path):
        with Store(store_path) as store:
            key = None
            if family:
                match = next((s.family for s in store.families()
                              if s.family.matches(family)), None)
                key = match.key if match else None
            return store.load(key), STORE
    return demo_dataset(), DEMO


def store_has_data(store_path: Path) -> bool:
    """True when the store file exists and holds something (looking never creates it)."""
    if not store_path.exists():
        return False
    with Store(store_path) as store:
        return not store.is_empty()


@dataclass(frozen=True)
class FetchResult:
    label: str  # what was fetched, as logged in the store ("ThreatFox malwareinfo win.pure_rat")
    summary: ImportSummary
    dataset: Dataset  # what ThreatFox sent (its `rejected` are worth showing)


async def fetch_to_store(
    store_path: Path,
    settings: ThreatFoxSettings,
    *,
    family: str | None = None,
    days: int | None = None,
    export: Literal["recent", "full"] | None = None,
    limit: int = 1000,
    progress: Progress | None = None,
) -> FetchResult:
    """Fetch one family (`malwareinfo`), the last `days` days (`get_iocs`) or a bulk `export`
    and upsert it into the store. Raises ThreatFoxError or StoreError; never half-writes."""
    if sum(x is not None for x in (family, days, export)) != 1:
        raise ValueError("give exactly one of family, days, export")
    async with ThreatFoxClient(settings) as client:
        if family is not None:
            key = _known_family_key(store_path, family)
            if key is None:
                key = await client.resolve_family(family) or family.strip()
            dataset = await client.malwareinfo(key, limit, progress)
        elif days is not None:
            dataset = await client.get_iocs(days, progress)
        else:
            assert export is not None
            dataset = await client.export_csv(export, progress)
    label = dataset.sources[0] if dataset.sources else "ThreatFox"
    if not (dataset.iocs or dataset.rejected or dataset.families):
        return FetchResult(label, ImportSummary(), dataset)  # no_result: nothing to write
    summary = await asyncio.to_thread(_import, store_path, dataset, label)
    return FetchResult(label, summary, dataset)


async def refresh_family(store_path: Path, family: str, *, api_url: str | None = None,
                         auth_key: str | None = None, timeout: float | None = None,
                         progress: Progress | None = None) -> ImportSummary:
    """Refresh one family from ThreatFox into the store (for the TUI's async worker); settings
    not given come from the environment and defaults."""
    settings = resolve_settings(ThreatFoxSettings(), api_url=api_url, timeout=timeout)
    if auth_key:
        settings = ThreatFoxSettings(settings.api_url, auth_key, settings.timeout)
    result = await fetch_to_store(store_path, settings, family=family, progress=progress)
    return result.summary


def _known_family_key(store_path: Path, name: str) -> str | None:
    """The ThreatFox id for `name` without a network round trip: an id as given, or the id of a
    stored family with that name or alias."""
    text = name.strip()
    if "." in text or text == "unknown":
        return text
    if not store_path.exists():
        return None
    with Store(store_path) as store:
        for summary in store.families():
            fam = summary.family
            if fam.key != fam.name and fam.matches(text):
                return fam.key
    return None


def _import(store_path: Path, dataset: Dataset, label: str) -> ImportSummary:
    with Store(store_path) as store:
        return store.import_dataset(dataset, label)
