"""The core stays pure: no terminal, network or clipboard libraries, checked two ways."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).parent.parent / "tui" / "core"
FORBIDDEN = {"textual", "httpx", "pyperclip", "rich", "platformdirs"}


def test_core_source_imports_nothing_forbidden():
    offenders = []
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
            version_only = [a.name for a in getattr(node, "names", [])] == ["__version__"]
            if isinstance(node, ast.ImportFrom) and node.level >= 2 and not version_only:
                offenders.append(f"{path.name}: relative import outside core ({node.module})")
    assert offenders == []


def test_importing_core_loads_no_forbidden_module():
    code = (
        "import sys, pkgutil, importlib, tui.core\n"
        "for m in pkgutil.iter_modules(tui.core.__path__):\n"
        "    importlib.import_module('tui.core.' + m.name)\n"
        f"bad = sorted(n for n in sys.modules if n.split('.')[0] in {sorted(FORBIDDEN)!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
