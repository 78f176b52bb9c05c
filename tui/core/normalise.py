"""Classify, validate and canonicalise IOC values.

`normalise(raw, declared)` returns `(IocType, canonical value)` or raises `InvalidIoc` with a
reason a person can act on. The canonical value is what every query uses:
domains lower-case, IDNA-encoded, without trailing dot; URLs with lower-case scheme and host
(path untouched); ip:port as `a.b.c.d:port` or `[v6]:port`; hashes lower-case hex.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urlsplit

from .fang import refang
from .model import IocType

MAX_URL_LENGTH = 8192

_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
_HEX = re.compile(r"[0-9a-fA-F]+")
_HASH_BY_LENGTH = {32: IocType.MD5, 40: IocType.SHA1, 64: IocType.SHA256}
_HASH_LENGTH = {t: n for n, t in _HASH_BY_LENGTH.items()}
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")


class InvalidIoc(ValueError):
    """The value cannot be hunted; the message says why."""


def normalise(raw: str, declared: str | None = None) -> tuple[IocType, str]:
    """Validate `raw` as the `declared` ThreatFox type (inferred when None)."""
    text = refang(raw)
    if not text:
        raise InvalidIoc("empty value")
    if _has_control(text):
        raise InvalidIoc("contains control characters")
    if declared is None or not declared.strip():
        ioc_type = infer_type(text)
    else:
        try:
            ioc_type = IocType(declared.strip().lower())
        except ValueError:
            raise InvalidIoc(f"IOC type {declared!r} is not supported by foxhunt") from None
    return ioc_type, _CANONICAL[ioc_type](text)


def infer_type(text: str) -> IocType:
    """Guess the type of a refanged value from a plain list."""
    if _HEX.fullmatch(text) and len(text) in _HASH_BY_LENGTH:
        return _HASH_BY_LENGTH[len(text)]
    if "://" in text:
        return IocType.URL
    if _is_ip(text):
        raise InvalidIoc("an IP address without a port; write it as ip:port")
    if text.startswith("[") or (":" in text and _is_ip(text.rpartition(":")[0])):
        return IocType.IP_PORT
    if "/" in text:
        raise InvalidIoc("looks like a URL without a scheme; add http:// or https://")
    return IocType.DOMAIN


def canonical_domain(text: str) -> str:
    host = text.strip().rstrip(".").lower()
    if not host:
        raise InvalidIoc("empty domain")
    if _SPACE.search(host):
        raise InvalidIoc("domain contains whitespace")
    if host.startswith("*."):
        raise InvalidIoc("wildcard domains are not supported; list the base domain")
    if not host.isascii():
        try:
            encoded = host.encode("idna").decode("ascii")
            back = encoded.encode("ascii").decode("idna")
        except UnicodeError:
            raise InvalidIoc("not a valid internationalised domain name") from None
        if back != host:
            # IDNA mapping drops invisible characters and folds look-alikes (goo\u200bgle.com
            # would become google.com): hunting the mapped name would hunt someone else.
            raise InvalidIoc("contains characters that IDNA would silently change "
                             f"(it would become {encoded!r})")
        host = encoded
    if _is_ip(host) or _is_ip(host.strip("[]")):
        raise InvalidIoc("an IP address, not a domain")
    if len(host) > 253:
        raise InvalidIoc("domain longer than 253 characters")
    labels = host.split(".")
    if len(labels) < 2:
        raise InvalidIoc("a domain needs at least two labels (name.tld)")
    for label in labels:
        if not _LABEL.fullmatch(label):
            raise InvalidIoc(f"invalid domain label {label!r}")
    if labels[-1].isdigit():
        raise InvalidIoc("the top-level domain cannot be numeric")
    return host


def canonical_url(text: str) -> str:
    text = text.strip()
    if len(text) > MAX_URL_LENGTH:
        raise InvalidIoc(f"URL longer than {MAX_URL_LENGTH:,} characters")
    if _SPACE.search(text):
        raise InvalidIoc("URL contains whitespace")
    scheme, sep, _ = text.partition("://")
    if not sep or not _SCHEME.fullmatch(scheme.lower()):
        raise InvalidIoc("URL without a scheme; add http:// or https://")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidIoc(f"not a valid URL ({exc})") from None
    host = parts.hostname
    if not host:
        raise InvalidIoc("URL without a host")
    if not _is_ip(host):
        canonical_domain(host)
    if port == 0:
        raise InvalidIoc("URL port 0 is not valid")
    netloc = parts.netloc
    at = netloc.rfind("@")
    netloc = netloc[: at + 1] + netloc[at + 1 :].lower()
    rest = text[len(scheme) + 3 + len(parts.netloc) :]
    return f"{scheme.lower()}://{netloc}{rest}"


def canonical_ip_port(text: str) -> str:
    text = text.strip()
    if text.startswith("["):
        match = re.fullmatch(r"\[([^\]]+)\]:(\d{1,5})", text)
        if not match:
            raise InvalidIoc("expected [IPv6]:port")
        host, port_text = match.groups()
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep:
            raise InvalidIoc("an IP address without a port; write it as ip:port")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise InvalidIoc(f"port {port_text!r} is not between 1 and 65535")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise InvalidIoc(f"{host!r} is not an IP address") from None
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        raise InvalidIoc("scoped IPv6 addresses (with %zone) are not supported")
    for flag, what in (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_multicast, "multicast"),
        (ip.is_link_local, "link-local"),
    ):
        if flag:
            raise InvalidIoc(f"{what} address {ip} cannot be a remote indicator")
    port = int(port_text)
    if ip.version == 6:
        return f"[{ip.compressed}]:{port}"
    return f"{ip}:{port}"


@lru_cache(maxsize=262_144)  # re-planning a big hunt splits the same values again
def split_ip_port(value: str) -> tuple[str, int]:
    """Split a canonical ip:port value into the bare IP and the port."""
    host, _, port = value.rpartition(":")
    return host.strip("[]"), int(port)


def _hash(ioc_type: IocType) -> Callable[[str], str]:
    want = _HASH_LENGTH[ioc_type]

    def check(text: str) -> str:
        text = text.strip()
        if not _HEX.fullmatch(text):
            raise InvalidIoc(f"{ioc_type.value} must be hexadecimal")
        if len(text) != want:
            raise InvalidIoc(
                f"{ioc_type.value} must be {want} hex characters, got {len(text)}"
            )
        return text.lower()

    return check


_CANONICAL = {
    IocType.DOMAIN: canonical_domain,
    IocType.URL: canonical_url,
    IocType.IP_PORT: canonical_ip_port,
    IocType.MD5: _hash(IocType.MD5),
    IocType.SHA1: _hash(IocType.SHA1),
    IocType.SHA256: _hash(IocType.SHA256),
}


def _is_ip(text: str) -> bool:
    if not text or not (text[-1].isdigit() or ":" in text):
        return False  # cheap test first: ip_address() raising costs more than the rest
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"\s")


def _has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None
