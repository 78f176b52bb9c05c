"""The `foxhunt` command: the TUI by default, and headless subcommands for scripts.

Exit codes: 0 success, 1 a data/file/network/config problem (one line on stderr), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__, paths
from .core.atomic import write_atomic
from .core.config import Config, ConfigError, load_config
from .core.kql import comment_text, parse_timespan
from .core.model import TYPE_ORDER, Dataset, IocType, count_by_type
from .core.planner import Options, plan
from .core.session import SelectionError, build_hunt, select_family
from .core.targets import CATALOGUE, Flavour, IpMode, MatchMode, find_target
from .sources.files import SourceError, load_files


class CliError(Exception):
    """A problem the user can fix; printed as one line, exit code 1."""


def _comma_list(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def _types(text: str) -> list[IocType]:
    try:
        return [IocType.parse(p) for p in _comma_list(text)]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _targets(text: str) -> list[str]:
    try:
        return [find_target(p).name for p in _comma_list(text)]
    except KeyError as exc:
        raise argparse.ArgumentTypeError(str(exc.args[0])) from None


def _lookback(text: str) -> str:
    try:
        return parse_timespan(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _confidence(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not a confidence from 0 to 100")
    return value


def build_parser() -> argparse.ArgumentParser:
    # SUPPRESS: an option given before the subcommand is not reset by the subcommand's parser.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, metavar="PATH", default=argparse.SUPPRESS,
                        help=f"config file (default: {paths.config_file()})")
    common.add_argument("--source", action="append", type=Path, default=argparse.SUPPRESS,
                        metavar="PATH",
                        help="read IOCs from this file (repeatable): ThreatFox API answer, "
                        "CSV/JSON export (or .zip), Markdown rule, or plain list")

    parser = argparse.ArgumentParser(
        prog="foxhunt", parents=[common],
        description="ThreatFox IOCs to Microsoft Sentinel / Defender XDR KQL hunts.",
    )
    parser.set_defaults(config=None, source=[])
    parser.add_argument("--version", action="version", version=f"foxhunt {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    query = sub.add_parser("query", parents=[common], help="print the KQL hunts",
                           description="Print the KQL hunting queries for the selected IOCs.")
    query.add_argument("--family", metavar="NAME",
                       help="ThreatFox id (win.pure_rat), name (PureRAT) or alias; "
                       "default: every IOC loaded")
    query.add_argument("--type", type=_types, metavar="T,...",
                       help="IOC types: " + ", ".join(t.value for t in IocType))
    query.add_argument("--min-confidence", type=_confidence, metavar="N")
    query.add_argument("--target", type=_targets, metavar="T,...",
                       help="tables/parsers: " + ", ".join(CATALOGUE))
    query.add_argument("--exclude", type=_comma_list, default=[], metavar="ID,...",
                       help="apply these false-positive exclusions (besides those enabled "
                       "in the config)")
    query.add_argument("--lookback", type=_lookback, metavar="SPAN", help="e.g. 14d, 12h")
    query.add_argument("--flavour", choices=[f.value for f in Flavour])
    query.add_argument("--match", choices=[m.value for m in MatchMode])
    query.add_argument("--ip-mode", choices=[m.value for m in IpMode],
                       help="pair: IP and port together (default); ip: IP only")
    query.add_argument("--format", choices=["kql", "json"], default="kql")
    query.add_argument("--output", type=Path, metavar="FILE",
                       help="write to FILE (atomically) instead of stdout")

    families = sub.add_parser("families", parents=[common], help="list families and counts")
    families.add_argument("--format", choices=["table", "json"], default="table")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "query":
            return cmd_query(args)
        if args.command == "families":
            return cmd_families(args)
        return cmd_tui(args)
    except (CliError, ConfigError, SourceError, SelectionError) as exc:
        _error(str(exc))
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def _error(message: str) -> None:
    print(f"foxhunt: error: {comment_text(message)}", file=sys.stderr)


def _warn(message: str) -> None:
    print(f"foxhunt: warning: {comment_text(message)}", file=sys.stderr)


def _config(args: argparse.Namespace) -> Config:
    if args.config is not None:
        return load_config(args.config, required=True)
    return load_config(paths.config_file(), required=False)


def _dataset(args: argparse.Namespace) -> Dataset:
    if not args.source:
        raise CliError("no IOC source given; pass --source FILE (a ThreatFox export, API "
                       "answer, Markdown rule or IOC list)")
    return load_files(args.source)


def cmd_query(args: argparse.Namespace) -> int:
    config = _config(args)
    dataset = _dataset(args)
    family = select_family(dataset, args.family)
    base = config.options
    options = Options(
        lookback=args.lookback or base.lookback,
        flavour=Flavour(args.flavour) if args.flavour else base.flavour,
        match=MatchMode(args.match) if args.match else base.match,
        ip_mode=IpMode(args.ip_mode) if args.ip_mode else base.ip_mode,
    )
    hunt = build_hunt(
        dataset, family, config,
        types=args.type, min_confidence=args.min_confidence, targets=args.target,
        enable=args.exclude, options=options,
    )
    if not hunt.iocs:
        what = f"family {family.name}" if family else "the sources"
        raise CliError(f"no valid IOC in {what} matches the selection (types, confidence); "
                       "nothing to hunt")
    result = plan(hunt)
    if not result.queries:
        raise CliError("no query can be built: " + "; ".join(result.warnings))
    if args.format == "json":
        text = json.dumps(result.to_json(), indent=2) + "\n"
    else:
        text = result.text
        for warning in result.all_warnings():
            _warn(warning)
    _emit(text, args.output)
    return 0


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        write_atomic(output, text)
    except OSError as exc:
        raise CliError(f"cannot write {output}: {exc.strerror or exc}") from None


def cmd_families(args: argparse.Namespace) -> int:
    _config(args)
    dataset = _dataset(args)
    rows = []
    for fam in sorted(dataset.families.values(), key=lambda f: f.name.casefold()):
        iocs = dataset.family_iocs(fam)
        seen = [i.last_seen or i.first_seen for i in iocs if i.last_seen or i.first_seen]
        rows.append({
            "id": fam.key, "name": fam.name, "aliases": list(fam.aliases),
            "iocs": len(iocs),
            "by_type": {t.value: n for t, n in count_by_type(iocs).items()},
            "last_seen": max(seen).strftime("%Y-%m-%d %H:%M:%S") if seen else None,
        })
    if args.format == "json":
        print(json.dumps({"families": rows, "sources": dataset.sources}, indent=2))
        return 0
    header = ["FAMILY", "ID", "ALIASES", "IOCS", *(t.value for t in TYPE_ORDER), "LAST SEEN"]
    table = [header] + [
        [r["name"], r["id"], ",".join(r["aliases"]), str(r["iocs"]),
         *(str(r["by_type"].get(t.value, 0)) for t in TYPE_ORDER),
         (r["last_seen"] or "-")[:10]]
        for r in rows
    ]
    table = [[comment_text(c) for c in row] for row in table]
    widths = [min(max(len(row[i]) for row in table), 32) for i in range(len(header))]
    for row in table:
        print("  ".join(c[:32].ljust(w) if i < 3 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip())
    return 0


def cmd_tui(args: argparse.Namespace) -> int:
    raise CliError("the full-screen workbench is not built yet; use 'foxhunt query'")


def run() -> None:
    sys.exit(main())
