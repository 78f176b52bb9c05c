"""Exports: file formats (KQL, JSON, Sentinel rules, ARM, Markdown, watchlist CSV), clipboard.

May import core and PyYAML, never textual. The TUI's export dialog and the CLI use
`EXPORT_FORMATS`, `export_files` (pure) and `write_files` (atomic writes).
"""

from .formats import (
    EXPORT_FORMATS,
    FORMAT_DESCRIPTIONS,
    MULTI_FILE_FORMATS,
    ExportError,
    ExportFile,
    export_files,
    write_files,
)

__all__ = [
    "EXPORT_FORMATS",
    "FORMAT_DESCRIPTIONS",
    "MULTI_FILE_FORMATS",
    "ExportError",
    "ExportFile",
    "export_files",
    "write_files",
]
