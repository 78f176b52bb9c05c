"""The real `foxhunt` command in a real terminal (tmux): keys in, screen and clipboard out.

tmux with `set-clipboard on` keeps what an application sends with OSC 52 in its paste buffer,
so this observes the terminal-clipboard path end to end, as over SSH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


class Tmux:
    def __init__(self, tmp_path: Path) -> None:
        binary = shutil.which("tmux")
        if binary is None:
            pytest.fail("tmux is not installed: the terminal tests need it (apt install tmux)")
        self.binary = binary
        self.socket = f"foxhunt-test-{os.getpid()}-{time.monotonic_ns()}"
        self.env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"),
                    "XDG_CONFIG_HOME": str(tmp_path / "config"), "TERM": "xterm-256color"}
        self.env.pop("THREATFOX_AUTH_KEY", None)
        self.env.pop("TMUX", None)

    def run(self, *args: str, check: bool = True) -> str:
        done = subprocess.run([self.binary, "-L", self.socket, *args], capture_output=True,
                              text=True, env=self.env, timeout=30, check=check)
        return done.stdout

    def start(self, command: list[str]) -> None:
        self.run("-f", "/dev/null", "new-session", "-d", "-x", "160", "-y", "50",
                 " ".join(_quote(c) for c in command))
        self.run("set-option", "-g", "set-clipboard", "on")

    def screen(self) -> str:
        return self.run("capture-pane", "-p")

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        pytest.fail(f"{text!r} never appeared on screen:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.run("send-keys", key)
            time.sleep(0.15)

    def buffer(self) -> str:
        return self.run("show-buffer", check=False)

    def close(self) -> None:
        self.run("kill-server", check=False)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@pytest.fixture
def tmux(tmp_path):
    session = Tmux(tmp_path)
    yield session
    session.close()


def test_pick_toggle_copy_quit_in_a_real_terminal(tmux, tmp_path):
    tmux.start([sys.executable, "-m", "tui",
                "--source", str(DATA / "malwareinfo_purerat.json"),
                "--source", str(DATA / "threatfox_recent_export_snippet.csv")])
    tmux.wait_for("Families (7/7)")
    tmux.keys("/", "p", "u", "r", "e", "Enter", "Enter")
    tmux.wait_for("PureRAT · on 13 / shown 13 / total 13")
    tmux.wait_for("block 1/4 · DnsEvents")
    tmux.keys("Space")
    tmux.wait_for("on 12 / shown 13")
    tmux.keys("c")
    deadline = time.monotonic() + 15
    while "order by TimeGenerated desc" not in tmux.buffer() and time.monotonic() < deadline:
        time.sleep(0.2)
    copied = tmux.buffer()
    assert copied.count("order by TimeGenerated desc") == 4
    assert "// Hunt for DNS queries matching PureRAT IOCs" in copied
    assert '"192.0.2.45:56001"' not in copied  # the first row, switched off
    assert '"198.51.100.23:56003"' in copied
    tmux.keys("q")
    deadline = time.monotonic() + 15
    while tmux.run("list-sessions", check=False).strip() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (tmp_path / "data" / "foxhunt" / "last-workspace.toml").exists()
