"""From loaded data and the user's choices to a Hunt (shared by the CLI and the TUI)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from .config import Config
from .model import Dataset, Family, IocType
from .planner import Hunt, Options
from .targets import routes_for


class SelectionError(Exception):
    """The user's selection matches nothing; the message says what to do."""


def select_family(dataset: Dataset, name: str | None) -> Family | None:
    """The family named by id, printable name or alias; None means every loaded IOC."""
    if not name:
        return None
    found = dataset.find_family(name)
    if found is not None:
        return found
    names = sorted({f.name for f in dataset.families.values()} | set(dataset.families))
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else (
        f"; loaded: {', '.join(names[:8])}" + (" ..." if len(names) > 8 else "")
        if names else "; the sources name no family"
    )
    raise SelectionError(f"unknown family {name!r}{hint}")


def build_hunt(
    dataset: Dataset,
    family: Family | None,
    config: Config,
    *,
    types: Iterable[IocType] | None = None,
    min_confidence: int | None = None,
    targets: Iterable[str] | None = None,
    enable: Iterable[str] = (),
    options: Options | None = None,
    max_age_days: int = 0,
    now: datetime | None = None,
) -> Hunt:
    """The hunt for `family` with config defaults, overridden by explicit choices.
    `max_age_days` (0: any age) keeps IOCs first seen within that many days of `now`."""
    wanted = tuple(types) if types is not None else config.types
    floor = config.min_confidence if min_confidence is None else min_confidence
    oldest = (now or datetime.now(UTC)) - timedelta(days=max_age_days) if max_age_days else None
    iocs = [
        i for i in dataset.family_iocs(family)
        if (not wanted or i.type in wanted)
        and (i.confidence is None or i.confidence >= floor)
        and (oldest is None or i.first_seen is None or i.first_seen >= oldest)
    ]
    rejected = [
        r for r in dataset.rejected
        if family is None or r.family in (family.key, "")
    ]
    enable_ids = set(enable)
    known = {e.id for e in config.exclusions}
    unknown = sorted(enable_ids - known)
    if unknown:
        raise SelectionError(
            f"unknown exclusion {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    exclusions = tuple(
        e.with_enabled(True) if e.id in enable_ids else e for e in config.exclusions
    )
    target_names = list(targets) if targets is not None else list(config.targets)
    return Hunt(
        family=family,
        iocs=tuple(iocs),
        rejected=tuple(rejected),
        exclusions=exclusions,
        routes=routes_for(target_names) if target_names else None,
        options=options or config.options,
        sources=tuple(dataset.sources),
    )

