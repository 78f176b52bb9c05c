"""Config parsing: the example file, defaults, overrides of built-ins, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.core import config as config_module
from tui.core.config import ConfigError, load_config, parse_config
from tui.core.exclusions import BUILTIN_EXCLUSIONS, Op
from tui.core.model import IocType
from tui.core.targets import Flavour, IpMode, MatchMode

EXAMPLE = Path(__file__).parent.parent / "config.example.toml"


def test_example_config_parses_and_documents_every_key():
    text = EXAMPLE.read_text()
    config = parse_config(text, EXAMPLE)
    assert config.options.lookback == "14d"
    keys = (config_module._QUERY_KEYS | config_module._THREATFOX_KEYS
            | config_module._EXCLUSION_KEYS | config_module._CONDITION_KEYS)
    for key in keys:
        assert f"{key} =" in text or f"# {key}" in text or f".{key}]" in text, key
    ids = [e.id for e in config.exclusions]
    assert ids[:5] == [b.id for b in BUILTIN_EXCLUSIONS] and "corp-proxy" in ids
    mysql = next(e for e in config.exclusions if e.id == "mysqldump-backup")
    assert mysql.builtin and mysql.conditions[2].op is Op.CIDR


def test_missing_optional_file_gives_defaults(tmp_path):
    config = load_config(tmp_path / "none.toml", required=False)
    assert config.options.flavour is Flavour.SENTINEL
    assert [e.id for e in config.exclusions] == [b.id for b in BUILTIN_EXCLUSIONS]
    assert not any(e.enabled for e in config.exclusions)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "none.toml", required=True)


def test_every_query_key(tmp_path):
    text = """
[query]
lookback = "7d"
flavour = "defender"
match = "exact"
ip_mode = "ip"
min_confidence = 75
types = ["domain", "sha256"]
targets = ["devicenetworkevents"]
[threatfox]
api_url = "http://127.0.0.1:9/api/v1/"
auth_key = "k"
timeout = 5
[keys]
toggle-ioc = "t"
"""
    config = parse_config(text, tmp_path / "c.toml")
    assert config.options.flavour is Flavour.DEFENDER
    assert config.options.match is MatchMode.EXACT and config.options.ip_mode is IpMode.IP
    assert config.min_confidence == 75
    assert config.types == (IocType.DOMAIN, IocType.SHA256)
    assert config.targets == ("DeviceNetworkEvents",)
    assert config.threatfox.timeout == 5.0 and config.keys == {"toggle-ioc": "t"}


@pytest.mark.parametrize(("text", "line", "key"), [
    ('[query]\nlookbak = "7d"\n', 2, "query.lookbak"),
    ('[query]\nflavour = "splunk"\n', 2, "query.flavour"),
    ("[query]\nmin_confidence = 101\n", 2, "query.min_confidence"),
    ('[query]\ntypes = ["ipv4"]\n', 2, "query.types"),
    ("[threatfox]\ntimeout = -1\n", 2, "threatfox.timeout"),
    ('[bogus]\nx = 1\n', 0, "bogus"),
    ('[[exclusions]]\nid = "a b"\n', 2, "exclusions[0].id"),
    ('[[exclusions]]\nid = "a"\nenabled = "yes"\n[[exclusions.conditions]]\nfield = "account"\n'
     'values = ["x"]\n', 3, "exclusions[0].enabled"),
    ('[[exclusions]]\nid = "a"\n', 1, "exclusions[0].conditions"),
    ('[[exclusions]]\nid = "a"\n[[exclusions.conditions]]\nfield = "account"\nop = "cidr"\n'
     'values = ["10.0.0.0/8"]\n', 1, "exclusions[0].conditions[0]"),
    ('[[exclusions]]\nid = "a"\n[[exclusions.conditions]]\nfield = "source_ip"\nop = "cidr"\n'
     'values = ["10.0.0.0/33"]\n', 1, "exclusions[0].conditions[0]"),
])
def test_errors_name_file_line_and_key(tmp_path, text, line, key):
    path = tmp_path / "c.toml"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, path)
    message = str(caught.value)
    assert f"key '{key}'" in message
    assert message.startswith(f"{path}, line {line}:" if line else f"{path}:")
    assert "\n" not in message


def test_not_toml(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_config("[query\nx=", tmp_path / "c.toml")


def test_builtin_override_keeps_position_and_flag(tmp_path):
    text = ('[[exclusions]]\nid = "rsync-backup"\nenabled = true\n[[exclusions.conditions]]\n'
            'field = "account"\nop = "in"\nvalues = ["svc_rsync"]\n')
    config = parse_config(text, tmp_path / "c.toml")
    first = config.exclusions[0]
    assert first.id == "rsync-backup" and first.enabled and first.builtin
    assert first.conditions[0].values == ("svc_rsync",)
