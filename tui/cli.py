"""The `foxhunt` command: the TUI by default, and headless subcommands for scripts.

Exit codes: 0 success, 1 a data/file/network/config problem (one line on stderr), 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__, paths
from .core.atomic import write_atomic
from .core.config import Config, ConfigError, load_config
from .core.kql import comment_text, parse_timespan
from .core.model import TYPE_ORDER, Dataset, FamilySummary, IocType, Rejected, summarise
from .core.planner import Options, Strategy, parse_watchlist_alias, plan
from .core.session import SelectionError, build_hunt, select_family
from .core.targets import CATALOGUE, Flavour, IpMode, MatchMode, find_target
from .export import EXPORT_FORMATS, MULTI_FILE_FORMATS, ExportError, export_files, write_files
from .sources.files import SourceError, load_files
from .sources.loading import DEMO, FILES, STORE, load_session
from .sources.store import Store, StoreError


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


def _watchlist_alias(text: str) -> str:
    try:
        return parse_watchlist_alias(text)
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
    parser.add_argument("--workspace", type=Path, metavar="FILE",
                        help="open the workbench on this saved hunt")
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
    query.add_argument("--strategy", choices=[s.value for s in Strategy],
                       help="inline: IOC lists in the query (default); watchlist: read them "
                       "from a Sentinel watchlist (export it with --format watchlist-csv)")
    query.add_argument("--watchlist-alias", type=_watchlist_alias, metavar="NAME",
                       help="alias of that watchlist (letters, digits, _ and -)")
    query.add_argument("--format", choices=EXPORT_FORMATS, default="kql",
                       help="kql, json, sentinel-rule (one YAML per query), arm (ARM template), "
                       "markdown (hunting pack), watchlist-csv")
    output = query.add_mutually_exclusive_group()
    output.add_argument("--output", type=Path, metavar="FILE",
                        help="write to FILE (atomically) instead of stdout")
    output.add_argument("--output-dir", type=Path, metavar="DIR",
                        help="write the format's file(s) into DIR under their own names")

    families = sub.add_parser("families", parents=[common], help="list families and counts")
    families.add_argument("--format", choices=["table", "json"], default="table")

    # fetch / import write to the store (paths.store_file()); --source means nothing to them.
    config_only = argparse.ArgumentParser(add_help=False)
    config_only.add_argument("--config", type=Path, metavar="PATH", default=argparse.SUPPRESS,
                             help=f"config file (default: {paths.config_file()})")
    fetch = sub.add_parser(
        "fetch", parents=[config_only], help="fetch IOCs from ThreatFox into the local store",
        description="Fetch IOCs from ThreatFox into the local store "
        f"({paths.store_file()}). Needs an Auth-Key (free at https://auth.abuse.ch/) in "
        "THREATFOX_AUTH_KEY or the config file.")
    what = fetch.add_mutually_exclusive_group(required=True)
    what.add_argument("--family", metavar="NAME",
                      help="one family: ThreatFox id (win.pure_rat), name or alias")
    what.add_argument("--recent", type=_days, metavar="DAYS",
                      help="every IOC first seen in the last DAYS days (1-7)")
    what.add_argument("--export", choices=["recent", "full"],
                      help="a bulk CSV export (full: every IOC of the last 6 months)")
    fetch.add_argument("--limit", type=_limit, default=1000, metavar="N",
                       help="with --family: the newest N IOCs (1-1000, default 1000)")
    fetch.add_argument("--api-url", type=_url, metavar="URL",
                       help="ThreatFox API URL (default: env THREATFOX_API_URL, the config, "
                       "or https://threatfox-api.abuse.ch/api/v1/)")
    fetch.add_argument("--timeout", type=_seconds, metavar="SECONDS",
                       help="connect/read timeout (default: the config's, else 30)")
    importer = sub.add_parser(
        "import", parents=[config_only], help="import IOC files into the local store",
        description="Import IOC files into the local store: ThreatFox API answers, CSV/JSON "
        "exports (or .zip), the Markdown rule document, or plain lists.")
    importer.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    return parser


def _days(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 7:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days from 1 to 7")
    return int(text)


def _limit(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 1000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 1 to 1000")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0-3600)")
    return value


def _url(text: str) -> str:
    from .sources.threatfox import ThreatFoxError, check_url

    try:
        return check_url(text.strip(), "the API URL")
    except ThreatFoxError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "query":
            return _note_demo(args, cmd_query(args))
        if args.command == "families":
            return _note_demo(args, cmd_families(args))
        if args.command == "fetch":
            return cmd_fetch(args)
        if args.command == "import":
            return cmd_import(args)
        return cmd_tui(args)
    except (CliError, ConfigError, SourceError, SelectionError, StoreError) as exc:
        message = str(exc)
        if getattr(args, "origin", None) == DEMO:
            message += " (in the built-in demo data: nothing was fetched or imported yet)"
        _error(message)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug of ours: still one line, the traceback on request
        if os.environ.get("FOXHUNT_DEBUG"):
            raise
        _error(f"unexpected {type(exc).__name__}: {exc} (this is a foxhunt bug; run with "
               "FOXHUNT_DEBUG=1 for the details and report it)")
        return 1


def _error(message: str) -> None:
    print(f"foxhunt: error: {comment_text(message)}", file=sys.stderr)


def _warn(message: str) -> None:
    print(f"foxhunt: warning: {comment_text(message)}", file=sys.stderr)


def _config(args: argparse.Namespace) -> Config:
    if args.config is not None:
        return load_config(args.config, required=True)
    return load_config(paths.config_file(), required=False)


def _dataset(args: argparse.Namespace) -> Dataset:
    """--source files, else the store, else the demo data; `args.origin` says which."""
    dataset, args.origin = load_session(args.source, paths.store_file(),
                                        family=getattr(args, "family", None))
    return dataset


def _note_demo(args: argparse.Namespace, code: int) -> int:
    if code == 0 and getattr(args, "origin", None) == DEMO:
        print("foxhunt: note: this is the built-in demo data (invented values); run 'foxhunt "
              "fetch' or 'foxhunt import' to hunt with real IOCs", file=sys.stderr)
    return code


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
        strategy=Strategy(args.strategy) if args.strategy else base.strategy,
        watchlist_alias=args.watchlist_alias or base.watchlist_alias,
    )
    if options.strategy is Strategy.WATCHLIST:
        if options.flavour is not Flavour.SENTINEL:
            raise CliError("the watchlist strategy needs the sentinel flavour: Defender XDR "
                           "advanced hunting has no watchlists")
        if not options.watchlist_alias:
            raise CliError("the watchlist strategy needs --watchlist-alias NAME (the alias of "
                           "the Sentinel watchlist that holds the IOCs)")
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
    if args.format != "json":  # JSON carries its warnings itself
        for warning in result.all_warnings():
            _warn(warning)
    try:
        files = export_files(args.format, hunt, result, families=dataset.families)
    except ExportError as exc:
        raise CliError(str(exc)) from None
    if args.output_dir is not None:
        try:
            written = write_files(files, args.output_dir)
        except (OSError, ExportError) as exc:
            raise CliError(f"cannot write into {args.output_dir}: "
                           f"{getattr(exc, 'strerror', None) or exc}") from None
        for path in written:
            print(path)
        return 0
    if len(files) > 1 and args.output is not None:
        raise CliError(f"--format {args.format} writes {len(files)} files here (one per "
                       "rule); use --output-dir DIR instead of --output")
    if len(files) > 1 or args.format in MULTI_FILE_FORMATS:
        # several YAML documents on stdout: one stream, as `---` separates them
        text = "---\n".join(f.content for f in files)
    else:
        text = files[0].content
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
    rows, sources = _stored_family_rows(args)
    if rows is None:
        rows, sources = _family_rows(_dataset(args))
    if args.format == "json":
        print(json.dumps({"families": rows, "sources": sources, "origin": args.origin},
                         indent=2))
        return 0
    _print_family_table(rows)
    return 0


def _stored_family_rows(args: argparse.Namespace) -> tuple[list[dict] | None, list[str]]:
    """Family rows straight from the store's counts (no need to load 100,000 IOCs)."""
    store_path = paths.store_file()
    if args.source or not store_path.exists():
        return None, []
    with Store(store_path) as store:
        if store.is_empty():
            return None, []
        summaries = store.families()
        sources = list(dict.fromkeys(f.source for f in store.fetch_log(limit=1000)))
    args.origin = STORE
    return [_family_row(s) for s in summaries], sources


def _family_rows(dataset: Dataset) -> tuple[list[dict], list[str]]:
    return [_family_row(s) for s in summarise(dataset)], dataset.sources


def _family_row(summary: FamilySummary) -> dict[str, object]:
    return {
        "id": summary.family.key, "name": summary.family.name,
        "aliases": list(summary.family.aliases), "iocs": summary.total,
        "by_type": {t.value: n for t, n in summary.counts.items()},
        "last_seen": (summary.last_seen.strftime("%Y-%m-%d %H:%M:%S")
                      if summary.last_seen else None),
    }


def _print_family_table(rows: list[dict]) -> None:
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


def cmd_fetch(args: argparse.Namespace) -> int:
    """Fetch into the store; the store changes only when the whole answer arrived."""
    from .sources.loading import fetch_to_store
    from .sources.threatfox import ProgressPrinter, ThreatFoxError, resolve_settings

    config = _config(args)
    settings = resolve_settings(config.threatfox, api_url=args.api_url, timeout=args.timeout)
    what = (f"family {args.family}" if args.family else
            f"the last {args.recent} days" if args.recent else f"the {args.export} export")
    printer = (ProgressPrinter(sys.stderr, f"fetching {comment_text(what)}")
               if sys.stderr.isatty() else None)
    try:
        result = asyncio.run(fetch_to_store(
            paths.store_file(), settings, family=args.family, days=args.recent,
            export=args.export, limit=args.limit, progress=printer))
    except ThreatFoxError as exc:
        raise CliError(str(exc)) from None
    finally:
        if printer is not None:
            printer.finish()
    _report_rejected(result.dataset.rejected)
    if not (result.dataset.iocs or result.dataset.rejected):
        print(f"ThreatFox has no IOCs for {comment_text(what)} (it keeps 6 months); "
              "the store is unchanged")
        return 0
    print(f"{comment_text(result.label)}: {len(result.dataset.iocs):,} IOCs, "
          f"{result.summary} -> {paths.store_file()}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Read every file first; only then write them all in one transaction."""
    _config(args)
    dataset = load_files(args.paths)
    label = "import " + ", ".join(p.name for p in args.paths)
    with Store(paths.store_file()) as store:
        summary = store.import_dataset(dataset, label)
    _report_rejected(dataset.rejected)
    print(f"{comment_text(label)}: {len(dataset.iocs):,} IOCs, {summary} -> "
          f"{paths.store_file()}")
    return 0


def _report_rejected(rejected: Sequence[Rejected], shown: int = 5) -> None:
    for item in rejected[:shown]:
        _warn(item.describe())
    if len(rejected) > shown:
        _warn(f"{len(rejected) - shown:,} more values skipped as invalid (kept in the store; "
              "the workbench lists them)")


def cmd_tui(args: argparse.Namespace) -> int:
    """The workbench. Everything that can fail on the user's files fails here, before the
    screen opens: bad config, unreadable sources or workspace end in one line and exit 1."""
    from .app.app import FoxhuntApp, auth_key_from
    from .app.catalog import Catalog, MemoryCatalog
    from .core.workspace import WorkspaceError
    from .core.workspace import load as load_workspace

    config = _config(args)
    if args.workspace is not None:
        try:
            load_workspace(args.workspace)
        except WorkspaceError as exc:
            raise CliError(str(exc)) from None
    store_path = paths.store_file()
    if args.source:
        catalog: Catalog = MemoryCatalog(load_files(args.source), FILES)

        def loader() -> Catalog:
            return catalog
    else:
        def loader() -> Catalog:
            return _store_or_demo(store_path)

    app = FoxhuntApp(
        loader, config, workspace=args.workspace, last_workspace=paths.last_workspace_file(),
        store_path=None if args.source else store_path, auth_key=auth_key_from(config),
    )
    app.run()
    return 0


def _store_or_demo(store_path: Path):  # -> Catalog, imported lazily
    """The store when it has data, else the demo data that ships with foxhunt."""
    from .app.catalog import MemoryCatalog, StoreCatalog
    from .sources.demo import demo_dataset
    from .sources.loading import store_has_data

    if store_has_data(store_path):
        return StoreCatalog(store_path)
    return MemoryCatalog(demo_dataset(), DEMO)


def run() -> None:
    sys.exit(main())
