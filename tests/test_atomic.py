"""Atomic writes keep permissions and symlinks; saving exclusions never widens access to a
config that may hold the Auth-Key."""

from __future__ import annotations

import os
import stat

from tui.core.atomic import write_atomic
from tui.core.config import load_config
from tui.core.config_write import save_exclusions
from tui.core.exclusions import BUILTIN_EXCLUSIONS


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_file_and_replaced_file_modes(tmp_path):
    fresh = tmp_path / "a" / "new.txt"
    write_atomic(fresh, "one")
    assert fresh.read_text() == "one" and _mode(fresh) == 0o644
    private = tmp_path / "private.txt"
    private.write_text("old")
    private.chmod(0o600)
    write_atomic(private, "new")
    assert private.read_text() == "new" and _mode(private) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_symlink_keeps_pointing_at_the_new_content(tmp_path):
    real = tmp_path / "dotfiles" / "config.toml"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_saving_exclusions_keeps_a_private_config_private(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[threatfox]\nauth_key = "tfk-secret"\n')
    os.chmod(config, 0o600)
    backup = save_exclusions(config, (BUILTIN_EXCLUSIONS[0].with_enabled(True),))
    assert backup is not None and _mode(backup) == 0o600 and _mode(config) == 0o600
    loaded = load_config(config, required=True)
    assert loaded.threatfox.auth_key == "tfk-secret" and loaded.exclusions[0].enabled


def test_a_new_config_is_private(tmp_path):
    config = tmp_path / "new" / "config.toml"
    assert save_exclusions(config, (BUILTIN_EXCLUSIONS[1].with_enabled(True),)) is None
    assert _mode(config) == 0o600
