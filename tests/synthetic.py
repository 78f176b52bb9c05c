"""Large synthetic families (invented values in documentation ranges) for scale tests and
benchmarks. Iocs are built directly: validation is measured elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tui.core.model import Dataset, Family, Ioc, IocType

BIG = Family("win.synthetic_big", "SyntheticBig", ("BigAlias",))


def synthetic_dataset(count: int, family: Family = BIG) -> Dataset:
    start = datetime(2026, 6, 1, tzinfo=UTC)
    iocs = []
    for n in range(count):
        kind = n % 4
        if kind == 0:
            ioc_type, value = IocType.DOMAIN, f"host{n}.c2-{n % 977}.example"
        elif kind == 1:
            ioc_type, value = IocType.URL, f"https://dl-{n % 977}.example/p/{n}/x.php?id={n}"
        elif kind == 2:
            ioc_type = IocType.IP_PORT
            value = f"198.51.{(n >> 8) % 256}.{n % 256}:{1024 + n % 50000}"
        else:
            ioc_type, value = IocType.SHA256, f"{n:064x}"
        iocs.append(Ioc(ioc_type, value, family.key, "botnet_cc", 50 + n % 51,
                        start + timedelta(minutes=n), None, ("synthetic",), "", "bench",
                        str(2_000_000 + n), "synthetic"))
    return Dataset({family.key: family}, iocs, [], ["synthetic"])
