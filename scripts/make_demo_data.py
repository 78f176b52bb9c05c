#!/usr/bin/env python3
"""Regenerate the demo data shipped in tui/sources/demo/ (deterministic: same output each run).

    python scripts/make_demo_data.py            # writes tui/sources/demo/threatfox-demo.csv
    python scripts/make_demo_data.py --check    # exit 1 if the shipped file is out of date

The file is a ThreatFox CSV export (`/export/csv/recent/` shape: `#` header block, 15 quoted
columns joined by `", "`), so the demo goes through the same parser as real exports.

* PureRAT (`win.pure_rat`, alias PureHVNC) is the 13 records of tests/data/malwareinfo_purerat.json:
  the seed document's nine IOCs plus two ip:port and two sha256 rows, ids and times unchanged.
* Eight more families use real ThreatFox family ids and names with invented values only:
  IPs from the documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
  2001:db8::/32), `.example` domains, and hashes that are md5/sha1/sha256 of
  "foxhunt-demo-<family>-<n>". Two rows are invalid on purpose (port 0, a wildcard domain)
  so the "skipped values" display has something to show.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "data" / "malwareinfo_purerat.json"
OUTPUT = ROOT / "tui" / "sources" / "demo" / "threatfox-demo.csv"
SEED = 20260520

COLUMNS = ("first_seen_utc", "ioc_id", "ioc_value", "ioc_type", "threat_type", "fk_malware",
           "malware_alias", "malware_printable", "last_seen_utc", "confidence_level",
           "is_compromised", "reference", "tags", "anonymous", "reporter")


def _boxed(text: str) -> str:
    return f"# {text}".ljust(63) + "#"


HEADER = "\n".join([
    "#" * 64,
    _boxed("ThreatFox IOCs: foxhunt demo data - CSV format"),
    _boxed("Last updated: 2026-05-20 16:25:04 UTC"),
    _boxed("Invented values: documentation IPs, .example domains"),
    _boxed("PureRAT rows follow the seed document"),
    "#" * 64,
    "#",
    "# " + ",".join(f'"{c}"' for c in COLUMNS),
])

WORDS = ("update", "cdn", "static", "sync", "portal", "cloud", "secure", "files", "docs", "api",
         "login", "mail", "status", "assets", "media", "edge", "relay", "node", "verify", "panel")


@dataclass(frozen=True)
class Family:
    key: str
    name: str
    alias: str
    plan: dict[str, int]  # ioc_type -> rows
    ports: tuple[int, ...]
    tags: tuple[str, ...]
    threat: dict[str, str]  # ioc_type -> threat_type where it differs from DEFAULT_THREAT


FAMILIES = [
    Family("win.cobalt_strike", "Cobalt Strike", "Agentemis,BEACON,CobaltStrike,cobeacon",
           {"ip:port": 18, "domain": 10, "url": 8, "sha256_hash": 6, "md5_hash": 3},
           (443, 80, 8080, 8443, 50050), ("CobaltStrike", "C2", "beacon"),
           {"url": "botnet_cc"}),
    Family("win.remcos", "Remcos", "None",
           {"ip:port": 14, "domain": 8, "sha256_hash": 6, "md5_hash": 4, "sha1_hash": 3},
           (2404, 2405, 3980, 14645), ("Remcos", "RAT", "c2"), {}),
    Family("win.asyncrat", "AsyncRAT", "None",
           {"ip:port": 14, "domain": 9, "sha256_hash": 6, "md5_hash": 4, "url": 3},
           (6606, 7707, 8808, 4449), ("AsyncRAT", "RAT"), {"url": "payload_delivery"}),
    Family("win.valley_rat", "ValleyRAT", "Winos",
           {"ip:port": 10, "sha1_hash": 6, "sha256_hash": 6, "domain": 4},
           (6666, 8888, 9000, 18852), ("ValleyRAT", "Winos", "silverfox"), {}),
    Family("win.vidar", "Vidar", "None",
           {"url": 12, "ip:port": 8, "sha256_hash": 8, "md5_hash": 4, "domain": 4},
           (80, 443), ("Vidar", "stealer", "ClickFix"), {"url": "botnet_cc"}),
    Family("win.lumma", "Lumma Stealer", "LummaC2 Stealer",
           {"domain": 18, "url": 10, "sha256_hash": 8, "sha1_hash": 4, "ip:port": 4},
           (443,), ("Lumma", "LummaStealer", "stealer"), {"url": "botnet_cc"}),
    Family("js.clearfake", "ClearFake", "None",
           {"domain": 16, "url": 14},
           (443,), ("ClearFake", "fakeupdate", "windows"),
           {"domain": "payload_delivery", "url": "payload_delivery"}),
    Family("elf.mirai", "Mirai", "Katana",
           {"ip:port": 16, "url": 6, "sha256_hash": 5, "md5_hash": 3},
           (23, 2323, 48101, 1312), ("Mirai", "elf", "botnet"), {"url": "payload_delivery"}),
]

DEFAULT_THREAT = {"ip:port": "botnet_cc", "domain": "botnet_cc", "url": "payload_delivery",
                  "md5_hash": "payload", "sha1_hash": "payload", "sha256_hash": "payload"}
REPORTERS = ("abuse_ch", "demo_hunter", "fixture_hunter", "anonymous")
CONFIDENCE = (50, 75, 75, 80, 90, 100, 100)
IPV4_RANGES = ("192.0.2.", "198.51.100.", "203.0.113.")


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def purerat_rows() -> list[dict[str, str]]:
    doc = json.loads(FIXTURE.read_text(encoding="utf-8"))
    rows = []
    for rec in doc["data"]:
        anonymous = rec["reporter"] == "anonymous"
        rows.append({
            "first_seen_utc": rec["first_seen"].removesuffix(" UTC"),
            "ioc_id": rec["id"],
            "ioc_value": rec["ioc"],
            "ioc_type": rec["ioc_type"],
            "threat_type": rec["threat_type"],
            "fk_malware": rec["malware"],
            "malware_alias": rec["malware_alias"] or "None",
            "malware_printable": rec["malware_printable"],
            "last_seen_utc": (rec["last_seen"] or "").removesuffix(" UTC"),
            "confidence_level": str(rec["confidence_level"]),
            "is_compromised": "True" if rec.get("is_compromised") else "False",
            "reference": rec["reference"] or "None",
            "tags": ",".join(rec["tags"] or []) or "None",
            "anonymous": "1" if anonymous else "0",
            "reporter": rec["reporter"],
        })
    return rows


def _value(fam: Family, ioc_type: str, n: int, rng: random.Random, used: set[str]) -> str:
    short = fam.key.split(".")[-1].replace("_", "")
    for attempt in range(1000):
        k = n + attempt * 97
        if ioc_type == "ip:port":
            port = fam.ports[(k // 2) % len(fam.ports)]
            if fam.key == "elf.mirai" and k % 4 == 0:  # IPv6, both ThreatFox spellings
                host = f"2001:db8:{k % 7 + 1:x}::{k + 10:x}"
                value = f"[{host}]:{port}" if k % 8 == 0 else f"{host}:{port}"
            else:
                value = f"{IPV4_RANGES[k % 3]}{(k * 37 + len(short) * 11) % 254 + 1}:{port}"
        elif ioc_type == "domain":
            value = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}{k % 10}.{short}.example"
        elif ioc_type == "url":
            host = (f"{rng.choice(WORDS)}-{short}.example" if k % 3 else
                    f"{IPV4_RANGES[k % 3]}{(k * 53) % 254 + 1}")
            path = rng.choice(("gate.php", "bins/x86", "update.js", "dl/setup.exe", "api/v2",
                               "download?id=" + str(k), "wp-content/plugins/cache.php"))
            value = f"{'http' if k % 4 == 0 else 'https'}://{host}/{path}"
        else:
            algo = {"md5_hash": "md5", "sha1_hash": "sha1", "sha256_hash": "sha256"}[ioc_type]
            value = hashlib.new(algo, f"foxhunt-demo-{fam.key}-{k}".encode()).hexdigest()
        if value not in used:
            used.add(value)
            return value
    raise RuntimeError(f"no free value for {fam.key} {ioc_type}")


def generated_rows() -> list[dict[str, str]]:
    rng = random.Random(SEED)
    start = datetime(2026, 4, 19, 6, 0, 0)  # to 2026-05-19: before the PureRAT rows
    next_id = 1790000
    used: set[str] = set()
    rows = []
    for fam in FAMILIES:
        for ioc_type, count in fam.plan.items():
            for n in range(count):
                first = start + timedelta(minutes=rng.randrange(0, 30 * 24 * 60))
                last = first + timedelta(minutes=rng.randrange(1, 600)) if rng.random() < 0.4 \
                    else None
                reporter = rng.choice(REPORTERS)
                value = _value(fam, ioc_type, n, rng, used)
                reference = "None"
                if ioc_type.endswith("_hash") and rng.random() < 0.5:
                    reference = f"https://blog.example/analysis/{fam.key}/{n}"
                tags = sorted(rng.sample(fam.tags, k=min(len(fam.tags), 1 + n % 2)))
                rows.append({
                    "first_seen_utc": _time(first),
                    "ioc_id": "",  # numbered after sorting, so ids rise with time
                    "ioc_value": value,
                    "ioc_type": ioc_type,
                    "threat_type": fam.threat.get(ioc_type, DEFAULT_THREAT[ioc_type]),
                    "fk_malware": fam.key,
                    "malware_alias": fam.alias,
                    "malware_printable": fam.name,
                    "last_seen_utc": _time(last),
                    "confidence_level": str(rng.choice(CONFIDENCE)),
                    "is_compromised": "True" if ioc_type == "url" and n % 5 == 4 else "False",
                    "reference": reference,
                    "tags": ",".join(tags),
                    "anonymous": "1" if reporter == "anonymous" else "0",
                    "reporter": reporter,
                })
    # Two values ThreatFox-style feeds do carry and foxhunt must skip (and say so).
    rows.append({**rows[-1], "ioc_value": "203.0.113.9:0", "ioc_type": "ip:port",
                 "threat_type": "botnet_cc", "first_seen_utc": "2026-05-02 03:04:05"})
    lumma = next(r for r in rows if r["fk_malware"] == "win.lumma")
    rows.append({**lumma, "ioc_value": "*.cdn-sync.lumma.example", "ioc_type": "domain",
                 "threat_type": "botnet_cc", "first_seen_utc": "2026-05-03 04:05:06"})
    rows.sort(key=lambda r: (r["first_seen_utc"], r["ioc_value"]))
    for row in rows:
        row["ioc_id"] = str(next_id)
        next_id += 1
    return rows


def render() -> str:
    rows = purerat_rows() + generated_rows()
    rows.sort(key=lambda r: (r["first_seen_utc"], r["ioc_id"]), reverse=True)  # newest first
    lines = [HEADER]
    lines += [", ".join(_quote(row[c]) for c in COLUMNS) for row in rows]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the shipped file instead of writing it")
    args = parser.parse_args()
    text = render()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is out of date; run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {OUTPUT.relative_to(ROOT)}: {text.count(chr(10)) - 8} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
