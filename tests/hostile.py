"""A dataset of hostile-but-valid IOC values and names, shared by several test modules."""

from __future__ import annotations

from tui.core.dataset import DatasetBuilder, RawIoc
from tui.core.model import Dataset

HOSTILE_FAMILY = 'Evil"Fam\n| take 1 // */ \x1b[31m'
HOSTILE_FAMILY_ID = "win.evil\r\nDnsEvents | take 1"

VALUES = [
    ("domain", "dev-tokyotechie.com"),
    ("domain", "bücher.example"),
    ("domain", "under_score.example"),
    ("domain", "readadobe-document[.]click"),
    ("url", 'https://evil.example/a"b'),
    ("url", "https://evil.example/back\\slash"),
    ("url", "https://evil.example/it's"),
    ("url", "https://evil.example/ü€𝕏?q=1,2#frag"),
    ("url", "https://evil.example/%22//\\/"),
    ("url", "hxxps://dev-tokyotechie[.]com/de-ch/"),
    ("url", "https://evil.example/\u00a0\u200b\u2028zero"),
    ("ip:port", "192.0.2.1:443"),
    ("ip:port", "198.51.100.7:56001"),
    ("ip:port", "[2001:db8::1]:8443"),
    ("ip:port", "2001:db8::2:80"),
    ("md5_hash", "524d14c6fb252add35ac647848a38684"),
    ("sha1_hash", "b776d54577f372e2a9c1f8c02a83d756c2492a51"),
    ("sha256_hash", "35ee1637499cf84260dc966c6433c617b0546c74d12fc20c1b136ce62e5efbc4"),
    ("sha256_hash", "C39FFF8489E81F81B3B8909C2572A409D09ED39F38562D8A37BC9586EDF82B94"),
    # invalid on purpose: reported, never hunted
    ("domain", "[/]"),
    ("url", "[@click=app.quit]x[/]"),
    ("ip:port", "127.0.0.1:80"),
    ("sha256_hash", "abc"),
]


def hostile_dataset() -> Dataset:
    builder = DatasetBuilder()
    builder.add_source("hostile\nsource.json")
    for declared, value in VALUES:
        builder.add(RawIoc(value=value, declared_type=declared, malware=HOSTILE_FAMILY_ID,
                           malware_printable=HOSTILE_FAMILY, malware_alias='a"lias,\\x',
                           confidence=90, source="hostile\nsource.json"))
    return builder.build()
