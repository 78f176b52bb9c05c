"""Shared fixtures: test data paths and the Kusto.Language harness (one node process)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
KUSTO_DIR = Path(__file__).parent / "kusto"


@pytest.fixture
def data_dir() -> Path:
    return DATA


class Kusto:
    """Microsoft's Kusto.Language, driven through tests/kusto/harness.js over JSON lines."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None:
            pytest.fail("node is not installed: the KQL validation tier cannot run "
                        "(install Node.js 20+; the tier must never be skipped)")
        if not (KUSTO_DIR / "node_modules" / "@kusto" / "language-service-next").is_dir():
            npm = shutil.which("npm")
            if npm is None:
                pytest.fail("npm is not installed: cannot install @kusto/language-service-next")
            done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=KUSTO_DIR,
                                  capture_output=True, text=True, timeout=600)
            if done.returncode != 0:
                pytest.fail(f"npm ci in {KUSTO_DIR} failed:\n{done.stderr[-2000:]}")
        self.proc = subprocess.Popen(
            [node, str(KUSTO_DIR / "harness.js")], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, encoding="utf-8", bufsize=1,
        )
        self._next = 0
        self.checked = 0

    def _ask(self, request: dict) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._next += 1
        request = {"id": self._next, **request}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            pytest.fail("the Kusto harness process died")
        answer = json.loads(line)
        assert answer["id"] == self._next
        return answer

    def errors(self, query: str, schema: str = "sentinel") -> list[dict]:
        self.checked += 1
        return self._ask({"query": query, "schema": schema})["errors"]

    def assert_valid(self, query: str, schema: str = "sentinel") -> None:
        errors = self.errors(query, schema)
        if errors:
            shown = "\n".join(f"  {e['code']} at {e['start']}: {e['message']} "
                              f"[{e.get('snippet', '')}]" for e in errors[:8])
            pytest.fail(f"Kusto.Language rejects the query ({schema}):\n{shown}\n---\n{query}")

    def literal(self, literal: str) -> tuple[list[dict], str | None]:
        answer = self._ask({"literal": literal})
        return answer["errors"], answer.get("value")

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="session")
def kusto():
    harness = Kusto()
    yield harness
    harness.close()
