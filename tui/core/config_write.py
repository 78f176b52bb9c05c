"""Write the user's exclusions back into the config file.

tomli-w cannot keep comments, so the previous file is kept next to it as `<name>.bak` before
the new one replaces it atomically; a config we cannot parse is never overwritten.
"""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import tomli_w

from .atomic import write_atomic
from .exclusions import BUILTIN_EXCLUSIONS, Exclusion, exclusion_to_dict

_DEFAULTS = {e.id: e for e in BUILTIN_EXCLUSIONS}


def save_exclusions(path: Path, exclusions: tuple[Exclusion, ...]) -> Path | None:
    """Store every exclusion that differs from its built-in default; return the backup path."""
    backup: Path | None = None
    doc: dict[str, object] = {}
    if path.exists():
        original = path.read_bytes()
        try:
            doc = tomllib.loads(original.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"{path} is not valid TOML ({exc}); fix it before saving") from None
        backup = path.with_name(path.name + ".bak")
        # the backup may hold the Auth-Key too: it gets the config's own permissions
        write_atomic(backup, original, mode=stat.S_IMODE(path.stat().st_mode))
    doc["exclusions"] = [exclusion_to_dict(e) for e in exclusions if _changed(e)]
    write_atomic(path, tomli_w.dumps(doc), mode=None if path.exists() else 0o600)
    return backup


def _changed(excl: Exclusion) -> bool:
    default = _DEFAULTS.get(excl.id)
    if default is None:
        return True
    return (excl.enabled, excl.conditions, excl.name, excl.description) != (
        default.enabled, default.conditions, default.name, default.description)
