"""Where foxhunt keeps its files (platformdirs; honours XDG_CONFIG_HOME and XDG_DATA_HOME)."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_config_path, user_data_path

APP = "foxhunt"


def config_file() -> Path:
    return user_config_path(APP, appauthor=False) / "config.toml"


def data_dir() -> Path:
    return user_data_path(APP, appauthor=False)


def store_file() -> Path:
    return data_dir() / "foxhunt.sqlite3"


def last_workspace_file() -> Path:
    return data_dir() / "last-workspace.toml"
