"""The foxhunt workbench: curate a family's IOCs, exclusions and targets; watch the KQL change.

The App owns the state (the Hunt and the view filters). Widgets only display it and post
messages; all slow work (loading, planning a 100,000-IOC hunt, clipboard, files, network) runs
in workers that post results back.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Footer, Input, Static

from ..core.config import Config
from ..core.exclusions import Exclusion
from ..core.kql import parse_timespan
from ..core.model import Dataset, Family, FamilySummary, Ioc, IocType, Rejected, count_by_type
from ..core.planner import Hunt, Options, QueryPlan, Strategy, parse_watchlist_alias, plan
from ..core.session import build_hunt
from ..core.targets import (
    CATALOGUE,
    DEFAULT_TARGETS,
    Flavour,
    IpMode,
    MatchMode,
    Route,
    default_routes,
)
from ..core.workspace import Workspace, WorkspaceError
from ..core.workspace import load as load_workspace
from ..core.workspace import save as save_workspace
from ..export.clipboard import system_copy
from ..sources.loading import DEMO
from .catalog import Catalog
from .screens.dialogs import ExclusionEditor, ExportDialog, HelpScreen, IocDetails, Prompt
from .text import safe_str, safe_text
from .widgets.line_table import LineTable
from .widgets.preview import Preview, PreviewBlock, build_blocks, warnings_text
from .widgets.tables import (
    SHORT_TYPE,
    TYPE_FILTERS,
    ExclusionRow,
    ExclusionTable,
    FamilyTable,
    IocTable,
    OptionRow,
    OptionTable,
    TargetRow,
    TargetTable,
)

CLIPBOARD_TIMEOUT = 3.0
AGES = (0, 1, 7, 30, 90, 180)
PANES = ("families", "iocs", "exclusions", "targets", "options", "preview")
FILTER_PANES = {"family-filter": "families", "ioc-filter": "iocs"}


# -- messages from workers ----------------------------------------------------------------------


class CatalogLoaded(Message):
    def __init__(self, catalog: Catalog, infos: list[FamilySummary]) -> None:
        super().__init__()
        self.catalog = catalog
        self.infos = infos


class FamilyLoaded(Message):
    def __init__(self, key: str | None, data: Dataset, workspace: Workspace | None) -> None:
        super().__init__()
        self.key = key
        self.data = data
        self.workspace = workspace


class PlanReady(Message):
    def __init__(self, version: int, result: QueryPlan, blocks: list[PreviewBlock]) -> None:
        super().__init__()
        self.version = version
        self.result = result
        self.blocks = blocks


class FoxhuntCommands(Provider):
    """Every action, and every family, in the command palette."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = self.app
        assert isinstance(app, FoxhuntApp)
        commands: list[tuple[str, str, Callable[[], object]]] = [
            (description, help_text, lambda a=action: app.run_action(a))
            for action, description, help_text in app.palette_actions()
        ]
        for info in app.family_infos:
            commands.append((f"Open family: {safe_str(info.family.name)}",
                             f"{info.total:,} IOCs",
                             lambda k=info.family.key: app.open_family(k)))
        return commands

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(Content(name), callback, text=name, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, _highlight(matcher, name), callback, text=name,
                          help=help_text)


def _highlight(matcher: Matcher, name: str) -> Content:
    """Like Matcher.highlight, but the name stays literal: Matcher.highlight parses it as
    markup, and family names come from the feed ("[/]" would crash the palette)."""
    content = Content(name)
    _, offsets = matcher.fuzzy_search.match(matcher.query, name)
    for offset in offsets:
        if not name[offset].isspace():
            content = content.stylize("bold underline", offset, offset + 1)
    return content


class FoxhuntApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "foxhunt"
    COMMANDS = App.COMMANDS | {FoxhuntCommands}
    BINDINGS = [
        Binding("tab", "next_pane", "Next pane", id="next-pane", show=False, priority=True),
        Binding("shift+tab", "prev_pane", "Previous pane", id="prev-pane", show=False,
                priority=True),
        Binding("a", "all_on", "All on", id="all-on"),
        Binding("n", "all_off", "None", id="all-off"),
        Binding("i", "invert", "Invert", id="invert"),
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("t", "cycle_type", "Type", id="cycle-type"),
        Binding("c", "copy_all", "Copy all", id="copy-all"),
        Binding("y", "copy_block", "Copy block", id="copy-block"),
        Binding("left_square_bracket", "prev_block", "Prev block", id="prev-block", show=False),
        Binding("right_square_bracket", "next_block", "Next block", id="next-block",
                show=False),
        Binding("e", "export", "Export", id="export"),
        Binding("s", "save_workspace", "Save", id="save-workspace"),
        Binding("o", "open_workspace", "Open", id="open-workspace"),
        Binding("plus", "add_exclusion", "Add exclusion", id="add-exclusion", show=False),
        Binding("r", "refresh", "Refresh", id="refresh"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(
        self,
        catalog_loader: Callable[[], Catalog],
        config: Config,
        *,
        workspace: Path | None = None,
        last_workspace: Path | None = None,
        store_path: Path | None = None,
        clock: Callable[[], datetime] | None = None,
        auth_key: str = "",
    ) -> None:
        super().__init__()
        self.catalog_loader = catalog_loader
        self.config = config
        self.workspace_path = workspace
        self.last_workspace = last_workspace
        self.store_path = store_path
        self.clock = clock or (lambda: datetime.now(UTC))
        self.auth_key = auth_key
        self.catalog: Catalog | None = None
        self.family_infos: list[FamilySummary] = []
        self.family_data: Dataset | None = None
        self.family: Family | None = None
        self.options: Options = config.options
        self.exclusions: tuple[Exclusion, ...] = config.exclusions
        self.routes = None if not config.targets else _routes(config.targets)
        self.min_confidence = config.min_confidence
        self.max_age_days = 0
        self.off: frozenset[tuple[IocType, str]] = frozenset()
        self.hunt = Hunt(None, ())
        self.type_filter = "all"
        self.text_filter = ""
        self.family_filter = ""
        self.view_rows: list[Ioc | Rejected] = []
        self._shown = 0
        self._type_totals: dict[IocType, int] = {}
        self._hunt_keys: frozenset[tuple[IocType, str]] | None = None
        self._started = False
        self.result: QueryPlan | None = None
        self._version = 0
        self._result_version = -1
        self._replan_timer = None
        self.last_export_dir = Path.cwd()

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("foxhunt · loading…", id="topbar", markup=False)
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Static("Families", classes="pane-title", id="families-title",
                             markup=False)
                yield Input(placeholder="filter families…", id="family-filter",
                            classes="filter")
                yield FamilyTable(id="families")
                yield Static("Exclusions (space on/off · enter edit · + add)",
                             classes="pane-title", id="exclusions-title", markup=False)
                yield ExclusionTable(id="exclusions")
                yield Static("Targets (space on/off per IOC type)", classes="pane-title",
                             id="targets-title", markup=False)
                yield TargetTable(id="targets")
                yield Static("Options (space/enter to change)", classes="pane-title",
                             id="options-title", markup=False)
                yield OptionTable(id="options")
            with Vertical(id="right"):
                yield Static("IOCs", classes="pane-title", id="iocs-title", markup=False)
                yield Input(placeholder="filter IOCs (value, tag, threat type)…",
                            id="ioc-filter", classes="filter")
                yield IocTable(self._is_on, id="iocs")
                yield Static("KQL preview ([ ] block · y copy block · c copy all)",
                             classes="pane-title", id="preview-title", markup=False)
                yield Preview(id="preview")
                yield Static("", id="warnings", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self._apply_keymap()
        self._refresh_side_tables()
        self._load_catalog()

    # -- keys ---------------------------------------------------------------------------------

    def _all_bindings(self) -> list[Binding]:
        return [*self.BINDINGS, *LineTable.BINDINGS]  # type: ignore[list-item]

    def _apply_keymap(self) -> None:
        keymap = dict(self.config.keys)
        known = {b.id for b in self._all_bindings() if isinstance(b, Binding) and b.id}
        unknown = sorted(set(keymap) - known)
        if unknown:
            self.notify(f"[keys] ignores unknown binding ids: {', '.join(unknown)}",
                        severity="warning", markup=False, timeout=10)
            keymap = {k: v for k, v in keymap.items() if k in known}
        clashes = key_clashes(self._all_bindings(), keymap)
        if clashes:
            self.notify("[keys] binds the same key twice: " + "; ".join(clashes)
                        + ". Fix the [keys] table in the config.",
                        severity="error", markup=False, timeout=15)
        self.set_keymap(keymap)

    def help_rows(self) -> list[tuple[str, str, str]]:
        keymap = dict(self.config.keys)
        rows = []
        for binding in self._all_bindings():
            if not isinstance(binding, Binding) or not binding.description:
                continue
            keys = keymap.get(binding.id or "", binding.key)
            rows.append((keys.replace("_", " "), binding.description, binding.id or ""))
        rows.append(("ctrl+p", "Command palette (every action)", ""))
        return rows

    def palette_actions(self) -> list[tuple[str, str, str]]:
        return [
            ("copy_all", "Copy all query blocks", "OSC 52 and the system clipboard"),
            ("copy_block", "Copy the query block in focus", "see the ▶ in the preview"),
            ("export", "Export the hunt to a file", "KQL and the other export formats"),
            ("save_workspace", "Save the workspace", "family, toggles, exclusions, options"),
            ("open_workspace", "Open a workspace", ""),
            ("all_on", "Switch all shown IOCs on", "within the current filter"),
            ("all_off", "Switch all shown IOCs off", "within the current filter"),
            ("invert", "Invert the shown IOCs", "within the current filter"),
            ("cycle_type", "Cycle the IOC type filter", ""),
            ("filter", "Filter the focused table", ""),
            ("add_exclusion", "Add a custom exclusion", ""),
            ("save_exclusions", "Save exclusions to the config file", ""),
            ("cycle_option('flavour')", "Switch flavour (Sentinel / Defender)", ""),
            ("cycle_option('match')", "Switch matching (has / exact)", ""),
            ("cycle_option('ip_mode')", "Switch ip:port mode (pair / IP only)", ""),
            ("refresh", "Refresh the family from ThreatFox", "needs an Auth-Key"),
            ("help", "Show the keys", ""),
            ("quit", "Quit", "saves the last workspace"),
        ]

    # -- panes --------------------------------------------------------------------------------

    def _pane(self, name: str):
        return self.query_one(f"#{name}")

    def action_next_pane(self) -> None:
        self._step_pane(1)

    def action_prev_pane(self) -> None:
        self._step_pane(-1)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While a dialog is open the workbench's keys are off: tab moves inside the dialog and
        a typed `q` or `c` is text, not a command."""
        return not (len(self.screen_stack) > 1 and action in _WORKBENCH_ACTIONS)

    def _focused_pane(self) -> str | None:
        """The pane the focused widget belongs to (a filter box belongs to its table)."""
        ident = self.focused.id if self.focused is not None else None
        return FILTER_PANES.get(ident, ident) if ident in (*PANES, *FILTER_PANES) else None

    def _step_pane(self, delta: int) -> None:
        current = self._focused_pane()
        index = PANES.index(current) if current is not None else -1
        self._pane(PANES[(index + delta) % len(PANES)]).focus()

    def on_descendant_focus(self) -> None:
        active = self._focused_pane()
        for name in PANES:
            title = self.query(f"#{name}-title")
            if title:
                title.first().set_class(name == active, "-active")

    # -- loading ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="load", exit_on_error=False,
          description="_load_catalog")
    def _load_catalog(self) -> None:
        try:
            catalog = self.catalog_loader()
            infos = catalog.families()
        except Exception as exc:  # one clear notification, the app stays usable
            self.call_from_thread(self.notify, f"Could not load IOCs: {safe_str(str(exc))}",
                                  severity="error", markup=False, timeout=15)
            return
        self.post_message(CatalogLoaded(catalog, infos))

    @on(CatalogLoaded)
    def _catalog_loaded(self, message: CatalogLoaded) -> None:
        self.catalog = message.catalog
        self.family_infos = message.infos
        self._show_families()
        self._update_topbar()
        if self._started:  # a reload after a refresh: the open hunt stays as it is
            return
        self._started = True
        workspace = self._initial_workspace()
        keys = {i.family.key for i in self.family_infos}
        if workspace is not None and workspace.family in keys:
            self.open_family(workspace.family, workspace)
        elif len(self.family_infos) == 1:
            self.open_family(self.family_infos[0].family.key)
        else:
            self._pane("families").focus()
        self._update_topbar()

    def _initial_workspace(self) -> Workspace | None:
        path = self.workspace_path
        explicit = path is not None
        if path is None and self.last_workspace is not None and self.last_workspace.exists():
            path = self.last_workspace
        if path is None:
            return None
        try:
            workspace = load_workspace(path)
        except WorkspaceError as exc:
            self.notify(safe_str(str(exc)), severity="error" if explicit else "warning",
                        markup=False, timeout=12)
            return None
        keys = {i.family.key for i in self.family_infos}
        if workspace.family not in keys and explicit:
            self.notify(f"The workspace's family {safe_str(str(workspace.family))} is not in "
                        "the loaded data; fetch or import it first.", severity="warning",
                        markup=False, timeout=12)
        return workspace

    def _show_families(self) -> None:
        table = self._pane("families")
        needle = self.family_filter.casefold()
        rows = [i for i in self.family_infos
                if not needle or needle in i.family.name.casefold()
                or needle in i.family.key.casefold()
                or any(needle in a.casefold() for a in i.family.aliases)]
        table.set_rows(rows)
        origin = self.catalog.origin if self.catalog else ""
        self._pane("families-title").update(Text(
            f"Families ({len(rows)}/{len(self.family_infos)}) · {origin}"))

    def open_family(self, key: str | None, workspace: Workspace | None = None) -> None:
        if self.catalog is None:
            return
        self._load_family(key, workspace)

    @work(thread=True, exclusive=True, group="family", exit_on_error=False,
          description="_load_family")
    def _load_family(self, key: str | None, workspace: Workspace | None) -> None:
        assert self.catalog is not None
        try:
            data = self.catalog.family_data(key)
        except Exception as exc:
            self.call_from_thread(self.notify, f"Could not load the family: {safe_str(str(exc))}",
                                  severity="error", markup=False, timeout=15)
            return
        self.post_message(FamilyLoaded(key, data, workspace))

    @on(FamilyLoaded)
    def _family_loaded(self, message: FamilyLoaded) -> None:
        data = message.data
        same_family = self.family is not None and self.family.key == message.key
        self.family_data = data
        self.family = data.families.get(message.key) if message.key else None
        if message.workspace is not None:
            self._apply_workspace_state(message.workspace)
        elif not same_family:
            self.off = frozenset()
        self._rebuild_hunt()
        self._pane("iocs").set_rows(self.view_rows, cursor=0)
        self._pane("iocs").fit_values(self.view_rows)
        self._pane("iocs").focus()
        self._update_topbar()

    def _apply_workspace_state(self, ws: Workspace) -> None:
        self.options = ws.options
        self.routes = ws.routes
        self.off = ws.off
        by_id = {e.id: e for e in ws.exclusions}
        merged = [by_id.pop(e.id, e) for e in self.config.exclusions]
        self.exclusions = (*merged, *by_id.values())
        self.min_confidence = ws.min_confidence
        self.max_age_days = ws.max_age_days
        self._refresh_side_tables()

    # -- the hunt -----------------------------------------------------------------------------

    def _is_on(self, ioc: Ioc) -> bool:
        return ioc.key not in self.off

    def _rebuild_hunt(self) -> None:
        """After the family, the hunt filters or the exclusions/targets/options changed."""
        data = self.family_data
        if data is None:
            return
        hunt = build_hunt(data, self.family, self.config, min_confidence=self.min_confidence,
                          options=self.options, max_age_days=self.max_age_days,
                          now=self.clock(), types=())
        # `off` keeps every toggle of this family, also of IOCs a filter hides for now, so
        # loosening the confidence or age filter brings them back still switched off.
        self._hunt_keys = None  # rebuilt by the next count update
        self._type_totals = count_by_type(hunt.iocs)
        self.hunt = replace(hunt, off=self.off, exclusions=self.exclusions, routes=self.routes)
        self._refilter()
        self._refresh_side_tables()
        self._hunt_changed()

    def _set_off(self, off: frozenset[tuple[IocType, str]]) -> None:
        """After IOC toggles: no rebuild, no refilter; the table repaints its visible rows."""
        self.off = off
        self.hunt = replace(self.hunt, off=off)
        self._pane("iocs").refresh_rows()
        self._hunt_changed()

    def _hunt_changed(self) -> None:
        self._version += 1
        self._update_counts()
        if self._replan_timer is not None:
            self._replan_timer.stop()
        self._replan_timer = self.set_timer(0.05, self._start_replan)

    def _start_replan(self) -> None:
        self._replan_timer = None
        self._replan(self.hunt, self._version)

    # An explicit description on every worker: without one Textual repr()s the arguments, and
    # the repr of a 100,000-IOC Hunt costs most of a second on the event loop.
    @work(thread=True, exclusive=True, group="plan", exit_on_error=False, description="_replan")
    def _replan(self, hunt: Hunt, version: int) -> None:
        result = plan(hunt, now=self.clock())
        self.post_message(PlanReady(version, result, build_blocks(result)))

    @on(PlanReady)
    def _plan_ready(self, message: PlanReady) -> None:
        if message.version != self._version:
            return
        self.result = message.result
        self._result_version = message.version
        self._pane("preview").show(message.blocks)
        self._pane("warnings").update(warnings_text(message.result))

    def current_plan(self) -> QueryPlan:
        """The plan of the hunt as it is now (computed here if the worker has not caught up)."""
        if self.result is not None and self._result_version == self._version:
            return self.result
        return plan(self.hunt, now=self.clock())

    # -- the IOC view -------------------------------------------------------------------------

    def _refilter(self) -> None:
        rows: list[Ioc | Rejected] = []
        wanted = self.type_filter
        needle = self.text_filter.casefold()
        if wanted != "invalid":
            for ioc in self.hunt.iocs:
                if wanted != "all" and ioc.type.value != wanted:
                    continue
                if needle and not _ioc_matches(ioc, needle):
                    continue
                rows.append(ioc)
        if wanted in ("all", "invalid"):
            rows.extend(r for r in self.hunt.rejected
                        if not needle or needle in r.raw.casefold()
                        or needle in r.reason.casefold())
        self.view_rows = rows
        self._shown = sum(1 for r in rows if isinstance(r, Ioc))
        self._pane("iocs").set_rows(rows)

    def _update_counts(self) -> None:
        """Count line: O(switched-off IOCs), not O(IOCs), so a toggle stays cheap."""
        total = len(self.hunt.iocs)
        if self.off and self._hunt_keys is None:
            self._hunt_keys = frozenset(i.key for i in self.hunt.iocs)
        off_by_type: dict[IocType, int] = {}
        for key in self.off:
            if key in self._hunt_keys:  # type: ignore[operator]
                off_by_type[key[0]] = off_by_type.get(key[0], 0) + 1
        off = sum(off_by_type.values())
        parts = [f"{SHORT_TYPE[t]} {n - off_by_type.get(t, 0)}/{n}"
                 for t, n in self._type_totals.items()]
        shown = self._shown
        family = self.family.name if self.family else "all families"
        text = Text()
        text.append_text(safe_text(family, "bold"))
        text.append(f" · on {total - off:,} / shown {shown:,} / total {total:,}")
        if parts:
            text.append(" · " + "  ".join(parts))
        invalid = len(self.hunt.rejected)
        if invalid:
            text.append(f" · {invalid} invalid", style="red")
        text.append(f" · type: {self.type_filter}")
        if self.text_filter:
            text.append(" · filter: ")
            text.append_text(safe_text(self.text_filter))
        all_iocs = len(self.family_data.iocs) if self.family_data else 0
        if all_iocs > total:
            text.append(f" · {all_iocs - total:,} below confidence/age", style="dim")
        self._pane("iocs-title").update(text)

    def _update_topbar(self) -> None:
        text = Text("foxhunt", style="bold")
        if self.family is not None:
            fam = self.family
            text.append(" · ")
            text.append_text(safe_text(fam.name if fam.key == fam.name
                                       else f"{fam.name} ({fam.key})"))
        if self.catalog is not None:
            origin = self.catalog.origin
            text.append(" · ")
            text.append(origin, style="bold yellow" if origin == DEMO else "")
        opts = self.options
        text.append(f" · {opts.flavour.value} · match {opts.match.value} · "
                    f"ip:port {opts.ip_mode.value} · lookback {opts.lookback}")
        self._pane("topbar").update(text)

    @on(LineTable.Toggled, "#iocs")
    def _toggle_ioc(self, message: LineTable.Toggled) -> None:
        row = self.view_rows[message.index] if message.index < len(self.view_rows) else None
        if isinstance(row, Rejected):
            self.notify("Invalid IOCs never reach a query: " + safe_str(row.reason),
                        severity="warning", markup=False)
            return
        if isinstance(row, Ioc):
            key = row.key
            self._set_off(self.off - {key} if key in self.off else self.off | {key})

    def _shown_keys(self) -> set[tuple[IocType, str]]:
        return {r.key for r in self.view_rows if isinstance(r, Ioc)}

    def action_all_on(self) -> None:
        self._set_off(frozenset(self.off - self._shown_keys()))

    def action_all_off(self) -> None:
        self._set_off(frozenset(self.off | self._shown_keys()))

    def action_invert(self) -> None:
        shown = self._shown_keys()
        self._set_off(frozenset((self.off - shown) | (shown - self.off)))

    def action_cycle_type(self) -> None:
        n = TYPE_FILTERS.index(self.type_filter)
        self.type_filter = TYPE_FILTERS[(n + 1) % len(TYPE_FILTERS)]
        self._refilter()
        self._update_counts()

    def action_filter(self) -> None:
        focused = self.focused
        in_families = focused is not None and focused.id in ("families", "family-filter")
        box = self.query_one("#family-filter" if in_families else "#ioc-filter", Input)
        box.add_class("-shown")
        box.focus()

    @on(Input.Changed, "#ioc-filter")
    def _ioc_filter_changed(self, event: Input.Changed) -> None:
        self.text_filter = event.value.strip()
        self._refilter()
        self._update_counts()

    @on(Input.Changed, "#family-filter")
    def _family_filter_changed(self, event: Input.Changed) -> None:
        self.family_filter = event.value.strip()
        self._show_families()

    @on(Input.Submitted, ".filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        target = "families" if event.input.id == "family-filter" else "iocs"
        if not event.value:
            event.input.remove_class("-shown")
        self._pane(target).focus()

    def key_escape(self) -> None:
        focused = self.focused
        if isinstance(focused, Input) and focused.has_class("filter"):
            focused.value = ""
            focused.remove_class("-shown")
            self._pane("families" if focused.id == "family-filter" else "iocs").focus()

    @on(LineTable.Opened, "#iocs")
    def _open_ioc(self, message: LineTable.Opened) -> None:
        if message.index < len(self.view_rows):
            self.push_screen(IocDetails(self.view_rows[message.index]))

    @on(LineTable.Opened, "#families")
    @on(LineTable.Toggled, "#families")
    def _open_family_row(self, message: LineTable.Opened) -> None:
        table = self._pane("families")
        if message.index < len(table.rows):
            self.open_family(table.rows[message.index].family.key)

    # -- exclusions, targets, options ---------------------------------------------------------

    def _effective_routes(self):
        return self.routes if self.routes is not None else default_routes(self.options.flavour)

    def _refresh_side_tables(self) -> None:
        routes = self._effective_routes()
        targets = [CATALOGUE[name] for name in CATALOGUE
                   if any(r[0] == name for r in routes) and CATALOGUE[name].available(
                       self.options.flavour)]
        rows = []
        for excl in self.exclusions:
            marks = [f"{t.name} {'✓' if excl.fields <= t.fields.keys() else '✗'}"
                     for t in targets]
            rows.append(ExclusionRow(excl, "  ".join(marks) or "no target selected"))
        self._pane("exclusions").set_rows(rows)
        flavour = self.options.flavour
        self._pane("targets").set_rows([
            TargetRow(t, ioc_type, (t.name, ioc_type) in routes, t.requirement(flavour))
            for t in CATALOGUE.values() if t.available(flavour) for ioc_type in t.probes
        ])
        opts = self.options
        self._pane("options").set_rows([
            OptionRow("flavour", "Flavour", opts.flavour.value,
                      "sentinel: TimeGenerated · defender: Timestamp (advanced hunting)"),
            OptionRow("match", "Matching", opts.match.value,
                      "has: has_any, finds subdomains/longer URLs · exact: in~"),
            OptionRow("ip_mode", "ip:port mode", opts.ip_mode.value,
                      "pair: IP and port together · ip: IP only"),
            OptionRow("lookback", "Lookback", opts.lookback, "enter to edit (e.g. 14d, 12h)"),
            OptionRow("min_confidence", "Min confidence", str(self.min_confidence),
                      "enter to edit (0-100)"),
            OptionRow("max_age", "Max age", f"{self.max_age_days}d" if self.max_age_days
                      else "any", "first seen within; space cycles"),
            OptionRow("strategy", "IOC lists", opts.strategy.value,
                      "inline: in the query · watchlist: _GetWatchlist (Sentinel)"),
            OptionRow("watchlist_alias", "Watchlist", opts.watchlist_alias or "-",
                      "enter to set the watchlist alias"),
        ])

    @on(LineTable.Toggled, "#exclusions")
    def _toggle_exclusion(self, message: LineTable.Toggled) -> None:
        excl = self.exclusions[message.index]
        self._replace_exclusion(excl.id, excl.with_enabled(not excl.enabled))

    def _replace_exclusion(self, old_id: str | None, new: Exclusion) -> None:
        if old_id is None:
            self.exclusions = (*self.exclusions, new)
        else:
            self.exclusions = tuple(new if e.id == old_id else e for e in self.exclusions)
        self.hunt = replace(self.hunt, exclusions=self.exclusions)
        self._refresh_side_tables()
        self._hunt_changed()

    @on(LineTable.Opened, "#exclusions")
    def _edit_exclusion(self, message: LineTable.Opened) -> None:
        self._open_exclusion_editor(self.exclusions[message.index])

    def action_add_exclusion(self) -> None:
        self._open_exclusion_editor(None)

    def _open_exclusion_editor(self, excl: Exclusion | None) -> None:
        taken = {e.id for e in self.exclusions}

        def done(result: tuple[str, Exclusion] | None) -> None:
            if result is None:
                return
            how, new = result
            self._replace_exclusion(excl.id if excl else None, new)
            if how == "save":
                self.action_save_exclusions()

        self.push_screen(ExclusionEditor(excl, taken), done)

    def action_save_exclusions(self) -> None:
        self._save_exclusions(self.exclusions)

    @work(thread=True, group="files", exit_on_error=False, description="_save_exclusions")
    def _save_exclusions(self, exclusions: tuple[Exclusion, ...]) -> None:
        from ..core.config_write import save_exclusions

        path = self.config.path or _default_config_path()
        try:
            backup = save_exclusions(path, exclusions)
        except Exception as exc:
            self.call_from_thread(self.notify, f"Could not save exclusions: {safe_str(str(exc))}",
                                  severity="error", markup=False, timeout=12)
            return
        note = f" (previous file kept as {backup.name})" if backup else ""
        self.call_from_thread(self.notify, f"Exclusions saved to {path}{note}", markup=False)

    @on(LineTable.Toggled, "#targets")
    @on(LineTable.Opened, "#targets")
    def _toggle_target(self, message: LineTable.Toggled) -> None:
        row: TargetRow = self._pane("targets").rows[message.index]
        routes = set(self._effective_routes())
        route = (row.target.name, row.ioc_type)
        routes.symmetric_difference_update({route})
        self.routes = frozenset(routes)
        self.hunt = replace(self.hunt, routes=self.routes)
        cursor = self._pane("targets").cursor
        self._refresh_side_tables()
        self._pane("targets").cursor = cursor
        self._hunt_changed()

    @on(LineTable.Toggled, "#options")
    @on(LineTable.Opened, "#options")
    def _change_option(self, message: LineTable.Toggled) -> None:
        row: OptionRow = self._pane("options").rows[message.index]
        if row.key in ("flavour", "match", "ip_mode", "max_age", "strategy"):
            self.action_cycle_option(row.key)
        elif row.key == "watchlist_alias":
            self.push_screen(Prompt("Watchlist alias (letters, digits, _ and -)",
                                    self.options.watchlist_alias), self._set_watchlist_alias)
        elif row.key == "lookback":
            self.push_screen(Prompt("Lookback (a KQL timespan: 14d, 12h, 30m)",
                                    self.options.lookback), self._set_lookback)
        elif row.key == "min_confidence":
            self.push_screen(Prompt("Minimum ThreatFox confidence (0-100)",
                                    str(self.min_confidence)), self._set_min_confidence)

    def action_cycle_option(self, key: str) -> None:
        opts = self.options
        if key == "flavour":
            flavour = _next(list(Flavour), opts.flavour)
            self.options = replace(opts, flavour=flavour)
            if self.routes is not None:
                self.routes = remap_routes(self.routes, flavour)
        elif key == "match":
            self.options = replace(opts, match=_next(list(MatchMode), opts.match))
        elif key == "ip_mode":
            self.options = replace(opts, ip_mode=_next(list(IpMode), opts.ip_mode))
        elif key == "strategy":
            self.options = replace(opts, strategy=_next(list(Strategy), opts.strategy))
        elif key == "max_age":
            self.max_age_days = _next(list(AGES), self.max_age_days)
            self._after_option(rebuild=True)
            return
        self._after_option(rebuild=False)

    def _after_option(self, rebuild: bool) -> None:
        cursor = self._pane("options").cursor
        if rebuild:
            self._rebuild_hunt()
        else:
            self.hunt = replace(self.hunt, options=self.options, routes=self.routes)
            self._refresh_side_tables()
            self._hunt_changed()
        self._pane("options").cursor = cursor
        self._update_topbar()

    def _set_lookback(self, value: str | None) -> None:
        if value is None:
            return
        try:
            lookback = parse_timespan(value)
        except ValueError as exc:
            self.notify(safe_str(str(exc)), severity="error", markup=False)
            return
        self.options = replace(self.options, lookback=lookback)
        self._after_option(rebuild=False)

    def _set_watchlist_alias(self, value: str | None) -> None:
        if value is None:
            return
        try:
            alias = parse_watchlist_alias(value) if value.strip() else ""
        except ValueError as exc:
            self.notify(safe_str(str(exc)), severity="error", markup=False)
            return
        self.options = replace(self.options, watchlist_alias=alias)
        self._after_option(rebuild=False)

    def _set_min_confidence(self, value: str | None) -> None:
        if value is None:
            return
        if not value.strip().isdigit() or not 0 <= int(value) <= 100:
            self.notify(f"{safe_str(value)!r} is not a confidence from 0 to 100",
                        severity="error", markup=False)
            return
        self.min_confidence = int(value)
        self._after_option(rebuild=True)

    # -- preview, copy, export ----------------------------------------------------------------

    def action_prev_block(self) -> None:
        self._pane("preview").step(-1)

    def action_next_block(self) -> None:
        self._pane("preview").step(1)

    def action_copy_all(self) -> None:
        self._copy(None)

    def action_copy_block(self) -> None:
        self._copy(self._pane("preview").current)

    @work(thread=True, group="copy", exit_on_error=False, description="_copy")
    def _copy(self, block: int | None) -> None:
        result = self.current_plan()
        if not result.queries:
            self.call_from_thread(self.notify, "Nothing to copy: no query is built.",
                                  severity="warning", markup=False)
            return
        if block is None:
            text, what = result.text, f"{len(result.queries)} block(s)"
        else:
            query = result.queries[min(block, len(result.queries) - 1)]
            text, what = query.kql + "\n", f"the {query.target} block"
        self.call_from_thread(self.copy_to_clipboard, text)  # OSC 52: works over SSH
        failure = system_copy(text, CLIPBOARD_TIMEOUT)
        size = f"{len(text):,} characters"
        if failure is None:
            self.call_from_thread(self.notify, f"Copied {what} ({size}) to the clipboard.",
                                  markup=False)
        else:
            self.call_from_thread(
                self.notify,
                f"Sent {what} ({size}) to the terminal clipboard (OSC 52). The system "
                f"clipboard failed: {safe_str(failure)}. If nothing was copied, press e to "
                "save the query to a file.", severity="warning", markup=False, timeout=12)

    def export_formats(self) -> list[tuple[str, str]]:
        from ..export import EXPORT_FORMATS, FORMAT_DESCRIPTIONS

        return [(fmt, FORMAT_DESCRIPTIONS[fmt]) for fmt in EXPORT_FORMATS]

    def action_export(self) -> None:
        if not self.hunt.iocs:
            self.notify("Nothing to export yet: open a family first.", severity="warning",
                        markup=False)
            return
        default = str(self.last_export_dir) + os.sep

        def done(choice: tuple[str, str] | None) -> None:
            if choice is not None:
                self._export(choice[0], Path(choice[1]).expanduser())

        self.push_screen(ExportDialog(self.export_formats(), default), done)

    @work(thread=True, group="files", exit_on_error=False, description="_export")
    def _export(self, fmt: str, path: Path) -> None:
        """A folder (or a path without an extension) gets the format's own file names; a file
        path gets the one file a single-file format makes."""
        from ..core.atomic import write_atomic
        from ..export import export_files, write_files

        try:
            files = export_files(fmt, self.hunt, self.current_plan(), now=self.clock())
            if path.is_dir() or not path.suffix or len(files) > 1:
                written = write_files(files, path)
                folder = path
            else:
                write_atomic(path, files[0].content)
                written, folder = [path], path.parent
        except Exception as exc:  # a clear sentence, the hunt stays as it is
            self.call_from_thread(self.notify, f"Export failed: {safe_str(str(exc))}",
                                  severity="error", markup=False, timeout=12)
            return
        self.last_export_dir = folder
        shown = ", ".join(str(p) for p in written[:3]) + (" …" if len(written) > 3 else "")
        self.call_from_thread(self.notify, f"Exported {fmt}: {shown}", markup=False,
                              timeout=8)

    # -- workspaces ---------------------------------------------------------------------------

    def workspace(self) -> Workspace:
        return Workspace(
            family=self.family.key if self.family else None,
            options=self.options,
            routes=self.routes,
            off=self.off,
            exclusions=self.exclusions,
            min_confidence=self.min_confidence,
            max_age_days=self.max_age_days,
        )

    def action_save_workspace(self) -> None:
        name = _slug(self.family.key if self.family else "hunt")
        default = str(self.workspace_path or Path.cwd() / f"{name}.foxhunt.toml")

        def done(value: str | None) -> None:
            if value:
                self.workspace_path = Path(value).expanduser()
                self._save_workspace(self.workspace(), self.workspace_path, notify=True)

        self.push_screen(Prompt("Save the workspace to", default), done)

    @work(thread=True, group="files", exit_on_error=False, description="_save_workspace")
    def _save_workspace(self, ws: Workspace, path: Path, notify: bool) -> None:
        try:
            save_workspace(ws, path)
            if self.last_workspace is not None and path != self.last_workspace:
                save_workspace(ws, self.last_workspace)
        except WorkspaceError as exc:
            self.call_from_thread(self.notify, safe_str(str(exc)), severity="error",
                                  markup=False, timeout=12)
            return
        if notify:
            self.call_from_thread(self.notify, f"Workspace saved to {path}", markup=False)

    def action_open_workspace(self) -> None:
        default = str(self.workspace_path or Path.cwd())

        def done(value: str | None) -> None:
            if value:
                self._open_workspace(Path(value).expanduser())

        self.push_screen(Prompt("Open the workspace", default), done)

    def _open_workspace(self, path: Path) -> None:
        try:
            ws = load_workspace(path)
        except WorkspaceError as exc:
            self.notify(safe_str(str(exc)), severity="error", markup=False, timeout=12)
            return
        keys = {i.family.key for i in self.family_infos}
        if ws.family is not None and ws.family not in keys:
            self.notify(f"The workspace's family {safe_str(ws.family)} is not loaded.",
                        severity="error", markup=False)
            return
        self.workspace_path = path
        self.open_family(ws.family, ws)

    # -- refresh from ThreatFox ---------------------------------------------------------------

    def action_refresh(self) -> None:
        if not self.auth_key:
            self.notify("Refreshing needs a ThreatFox Auth-Key: get one free at "
                        "https://auth.abuse.ch/ and set THREATFOX_AUTH_KEY (or "
                        "[threatfox] auth_key in the config).", severity="warning",
                        markup=False, timeout=12)
            return
        if self.family is None:
            self.notify("Open a family first; r refreshes it from ThreatFox.",
                        severity="warning", markup=False)
            return
        if self.store_path is None:
            self.notify("Refreshing writes to the local store; start foxhunt without "
                        "--source to use it.", severity="warning", markup=False)
            return
        self.notify(f"Fetching {safe_str(self.family.name)} from ThreatFox…", markup=False)
        self._refresh(self.family.key)

    @work(exclusive=True, group="fetch", exit_on_error=False, description="_refresh")
    async def _refresh(self, key: str) -> None:
        from ..sources.loading import fetch_to_store
        from ..sources.threatfox import resolve_settings

        assert self.store_path is not None
        # the same precedence as `foxhunt fetch`: environment over config over defaults
        settings = resolve_settings(self.config.threatfox)
        try:
            result = await fetch_to_store(self.store_path, settings, family=key,
                                          progress=self._fetch_progress)
        except Exception as exc:  # network/API/store: the table keeps its data
            self.notify(f"Refresh failed: {safe_str(str(exc))}", severity="error",
                        markup=False, timeout=15)
            return
        s = result.summary
        self.notify(f"ThreatFox: {s.new} new, {s.updated} updated, {s.unchanged} unchanged, "
                    f"{s.rejected} invalid", markup=False, timeout=8)
        # a family known only by name (an imported document) now has ThreatFox's id
        name = self.family.name if self.family else key
        new_key = next((f.key for f in result.dataset.families.values() if f.matches(name)), key)
        self._load_catalog()
        self.open_family(new_key, self.workspace())

    def _fetch_progress(self, done: int, total: int | None) -> None:
        shown = f"{done:,} of {total:,} bytes" if total else f"{done:,} bytes"
        self.query_one("#iocs-title", Static).update(Text(f"fetching from ThreatFox: {shown}"))

    # -- help, quit ---------------------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_rows()))

    async def action_quit(self) -> None:
        if self.last_workspace is not None and self.family_data is not None:
            worker = self._save_workspace(self.workspace(), self.last_workspace, False)
            await worker.wait()
        self.exit()


def remap_routes(routes: frozenset[Route], flavour: Flavour) -> frozenset[Route]:
    """Routes into targets the new flavour lacks move to its default target for that IOC
    type (a domain route to DnsEvents becomes DeviceNetworkEvents in Defender)."""
    kept = {r for r in routes if CATALOGUE[r[0]].available(flavour)}
    moved = {(DEFAULT_TARGETS[flavour][t], t) for name, t in routes
             if not CATALOGUE[name].available(flavour)}
    return frozenset(kept | moved)


def key_clashes(bindings: Iterable[Binding], keymap: dict[str, str]) -> list[str]:
    """Keys bound to more than one binding id once the user's keymap is applied."""
    owners: dict[str, set[str]] = {}
    for binding in bindings:
        if not isinstance(binding, Binding):
            continue
        ident = binding.id or binding.action
        keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
        for key in keys.split(","):
            owners.setdefault(key.strip(), set()).add(ident)
    return [f"{key!r} → {', '.join(sorted(ids))}" for key, ids in sorted(owners.items())
            if len(ids) > 1]


def _ioc_matches(ioc: Ioc, needle: str) -> bool:
    return (needle in ioc.value.casefold() or needle in ioc.threat_type.casefold()
            or any(needle in t.casefold() for t in ioc.tags))


def _next(values: list, current):
    return values[(values.index(current) + 1) % len(values)]


def _routes(names: Iterable[str]):
    from ..core.targets import routes_for

    return routes_for(list(names))


def _slug(text: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in text)
    return cleaned.strip("._") or "foxhunt"


def _default_config_path() -> Path:
    from .. import paths

    return paths.config_file()


def auth_key_from(config: Config) -> str:
    return os.environ.get("THREATFOX_AUTH_KEY", "") or config.threatfox.auth_key


_WORKBENCH_ACTIONS = frozenset(b.action for b in FoxhuntApp.BINDINGS if isinstance(b, Binding))
