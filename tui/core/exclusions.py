"""False-positive exclusions: the model, the seed's five built-ins, and validation.

An exclusion is a named set of conditions that must all hold; the planner compiles each enabled
one to `| where not(...)` per target through the target catalogue's field map.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from enum import StrEnum


class Field(StrEnum):
    """Semantic fields an exclusion can test; each target maps them onto its own columns."""

    ACCOUNT = "account"
    PROCESS_NAME = "process_name"
    PROCESS_COMMAND_LINE = "process_command_line"
    SOURCE_IP = "source_ip"
    DESTINATION_IP = "destination_ip"
    DOMAIN = "domain"
    URL = "url"
    DEVICE = "device"
    FILE_PATH = "file_path"


class Op(StrEnum):
    IN = "in"  # exact, case-insensitive
    HAS = "has"  # whole term(s), case-insensitive
    STARTSWITH = "startswith"
    ENDSWITH = "endswith"
    CIDR = "cidr"  # IPv4/IPv6 networks


@dataclass(frozen=True, slots=True)
class Condition:
    field: Field
    op: Op
    values: tuple[str, ...]

    def describe(self) -> str:
        shown = ", ".join(self.values[:4]) + (" ..." if len(self.values) > 4 else "")
        return f"{self.field.value} {self.op.value} [{shown}]"


@dataclass(frozen=True, slots=True)
class Exclusion:
    id: str
    name: str
    conditions: tuple[Condition, ...]
    description: str = ""
    enabled: bool = False
    builtin: bool = False

    @property
    def fields(self) -> frozenset[Field]:
        return frozenset(c.field for c in self.conditions)

    def with_enabled(self, enabled: bool) -> Exclusion:
        return replace(self, enabled=enabled)


class ExclusionError(ValueError):
    """An exclusion definition is unusable; the message names the key at fault."""


def make_condition(field: str, op: str, values: object) -> Condition:
    """Build a validated condition from config-like input."""
    try:
        fld = Field(str(field).strip().lower())
    except ValueError:
        names = ", ".join(f.value for f in Field)
        raise ExclusionError(f"unknown field {field!r} (choose from {names})") from None
    try:
        operator = Op(str(op).strip().lower())
    except ValueError:
        names = ", ".join(o.value for o in Op)
        raise ExclusionError(f"unknown op {op!r} (choose from {names})") from None
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)) or not values:
        raise ExclusionError("values must be a non-empty list of strings")
    cleaned: list[str] = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise ExclusionError(f"value {value!r} must be a non-empty string")
        cleaned.append(value.strip())
    if operator is Op.CIDR:
        if fld not in (Field.SOURCE_IP, Field.DESTINATION_IP):
            raise ExclusionError(f"op cidr works on source_ip or destination_ip, not {fld.value}")
        for value in cleaned:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise ExclusionError(f"{value!r} is not an IP network like 10.0.0.0/8") from None
    return Condition(fld, operator, tuple(dict.fromkeys(cleaned)))


def _c(field: Field, op: Op, *values: str) -> Condition:
    return Condition(field, op, values)


# The seed document's five false-positive scenarios. The user names (backup_user,
# security_analyst) are the seed's own examples; IPs, domains and repositories are placeholders
# from documentation ranges that every site must replace (see config.example.toml), which is
# also why every built-in starts disabled.
BUILTIN_EXCLUSIONS: tuple[Exclusion, ...] = (
    Exclusion(
        id="rsync-backup",
        name="Scheduled backup job using rsync",
        description="rsync in the command line, run by the backup service account.",
        conditions=(
            _c(Field.PROCESS_COMMAND_LINE, Op.HAS, "rsync"),
            _c(Field.ACCOUNT, Op.IN, "backup_user"),
        ),
        builtin=True,
    ),
    Exclusion(
        id="curl-internal-api",
        name="Admin using curl against the internal API",
        description="curl run against the internal API server's address.",
        conditions=(
            _c(Field.PROCESS_COMMAND_LINE, Op.HAS, "curl"),
            _c(Field.DESTINATION_IP, Op.IN, "10.0.0.10"),
        ),
        builtin=True,
    ),
    Exclusion(
        id="package-manager-repo",
        name="System update from an approved repository",
        description="yum/apt/dnf fetching from an approved internal or third-party repository.",
        conditions=(
            _c(Field.PROCESS_NAME, Op.IN, "yum", "apt", "apt-get", "dnf"),
            _c(Field.URL, Op.STARTSWITH, "https://repo.internal.example/"),
        ),
        builtin=True,
    ),
    Exclusion(
        id="grep-log-analysis",
        name="Log analysis with grep by the security analyst",
        description="grep run by security_analyst over files in the log directories.",
        conditions=(
            _c(Field.PROCESS_NAME, Op.IN, "grep", "egrep", "zgrep"),
            _c(Field.ACCOUNT, Op.IN, "security_analyst"),
            _c(Field.PROCESS_COMMAND_LINE, Op.HAS, "/var/log"),
        ),
        builtin=True,
    ),
    Exclusion(
        id="mysqldump-backup",
        name="Database backup with mysqldump to the backup server",
        description="mysqldump run by the backup user towards the known backup server.",
        conditions=(
            _c(Field.PROCESS_NAME, Op.IN, "mysqldump"),
            _c(Field.ACCOUNT, Op.IN, "backup_user"),
            _c(Field.DESTINATION_IP, Op.IN, "10.0.0.20"),
        ),
        builtin=True,
    ),
)


def merge_exclusions(overrides: list[Exclusion]) -> tuple[Exclusion, ...]:
    """Built-ins first (replaced in place by a config entry with the same id), then the rest."""
    by_id = {e.id: e for e in overrides}
    merged = [by_id.pop(b.id, b) for b in BUILTIN_EXCLUSIONS]
    builtin_ids = {b.id for b in BUILTIN_EXCLUSIONS}
    merged = [replace(e, builtin=e.id in builtin_ids) for e in merged]
    merged.extend(e for e in overrides if e.id in by_id)
    return tuple(merged)


def exclusion_to_dict(excl: Exclusion) -> dict[str, object]:
    """The `[[exclusions]]` TOML shape of an exclusion (for config and workspace files)."""
    return {
        "id": excl.id,
        "name": excl.name,
        "description": excl.description,
        "enabled": excl.enabled,
        "conditions": [
            {"field": c.field.value, "op": c.op.value, "values": list(c.values)}
            for c in excl.conditions
        ],
    }
