"""Refanging, defanging, classification and validation of IOC values."""

from __future__ import annotations

import ioc_fanger
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.core.fang import defang, refang
from tui.core.model import IocType
from tui.core.normalise import InvalidIoc, normalise

REFANG_CASES = [
    ("hxxp://evil[.]com/a", "http://evil.com/a"),
    ("hXXps://evil[.]com", "https://evil.com"),
    ("HXXPS://EVIL[.]com/Path", "https://EVIL.com/Path"),  # ioc-fanger leaves HXXP
    ("fxp://files[.]example", "ftp://files.example"),  # ioc-fanger does not know fxp
    ("evil(.)com", "evil.com"),
    ("evil{.}com", "evil.com"),
    ("evil[dot]com", "evil.com"),
    ("evil[DOT]com", "evil.com"),
    ("evil [.] com", "evil.com"),
    ("1.2.3[.]4[:]80", "1.2.3.4:80"),
    ("http[://]evil.com", "http://evil.com"),
    ("hxxps[:]//evil[.]com[/]path", "https://evil.com/path"),  # ioc-fanger leaves [/]
    ("user[at]evil.com", "user@evil.com"),
    ("http://evil.com/a\\.b", "http://evil.com/a\\.b"),  # ioc-fanger rewrites \. in paths
    ("https://x.com/a?b=[1]", "https://x.com/a?b=[1]"),
    ("hxxp://evil[.]example/a[.]b(dot)c(at)d", "http://evil.example/a[.]b(dot)c(at)d"),
    ("hxxp://1.2.3[.]4[:]8080/x", "http://1.2.3.4:8080/x"),
    ("evil.com", "evil.com"),
]


@pytest.mark.parametrize(("raw", "expected"), REFANG_CASES)
def test_refang(raw, expected):
    assert refang(raw) == expected


HOST = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z0-9]{1,8}){1,3}\.[a-z]{2,6}",
                     fullmatch=True)
PATH = st.from_regex(r"(/[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,12}){0,4}(\?[a-z0-9=&]{0,10})?",
                     fullmatch=True)


@given(HOST)
def test_domain_defang_round_trip(host):
    assert refang(defang(host)) == host
    assert "." not in defang(host).replace("[.]", "")


@given(st.sampled_from(["http", "https", "ftp"]), HOST, PATH)
def test_url_defang_round_trip(scheme, host, path):
    url = f"{scheme}://{host}{path}"
    assert refang(defang(url)) == url


@given(HOST, st.sampled_from(["hxxp", "hXXp", "hxxps"]), st.sampled_from(["[.]", "(.)", "{.}"]))
def test_agrees_with_ioc_fanger_where_it_is_right(host, scheme, dot):
    """ioc-fanger as an oracle for the common forms it handles correctly."""
    defanged = f"{scheme}://{host.replace('.', dot)}/x"
    assert refang(defanged) == ioc_fanger.fang(defanged)


@pytest.mark.parametrize(("raw", "declared", "expected"), [
    ("Dev-TokyoTechie.COM.", "domain", (IocType.DOMAIN, "dev-tokyotechie.com")),
    ("bücher.example", "domain", (IocType.DOMAIN, "xn--bcher-kva.example")),
    ("HTTPS://Evil.Example/Case/Kept", "url", (IocType.URL, "https://evil.example/Case/Kept")),
    ("hxxps://dev-tokyotechie[.]com/de-ch/", "url",
     (IocType.URL, "https://dev-tokyotechie.com/de-ch/")),
    ("192.0.2.45:56001", "ip:port", (IocType.IP_PORT, "192.0.2.45:56001")),
    ("[2001:DB8::1]:443", "ip:port", (IocType.IP_PORT, "[2001:db8::1]:443")),
    ("2a02:cf40:1::5:40669", "ip:port", (IocType.IP_PORT, "[2a02:cf40:1::5]:40669")),
    ("ABCDEF0123456789ABCDEF0123456789", "md5_hash",
     (IocType.MD5, "abcdef0123456789abcdef0123456789")),
    ("b776d54577f372e2a9c1f8c02a83d756c2492a51", None, (IocType.SHA1,
                                                          "b776d54577f372e2a9c1f8c02a83d756c2492a51")),
    ("a" * 64, None, (IocType.SHA256, "a" * 64)),
    ("evil[.]com", None, (IocType.DOMAIN, "evil.com")),
    ("hxxp://evil[.]com/x", None, (IocType.URL, "http://evil.com/x")),
    ("198.51.100.1[:]8080", None, (IocType.IP_PORT, "198.51.100.1:8080")),
])
def test_normalise(raw, declared, expected):
    assert normalise(raw, declared) == expected


@pytest.mark.parametrize(("raw", "declared", "reason"), [
    ("", "domain", "empty"),
    ("localhost", "domain", "two labels"),
    ("192.0.2.1", "domain", "IP address, not a domain"),
    ("-bad.example", "domain", "invalid domain label"),
    ("*.evil.com", "domain", "wildcard"),
    ("evil.123", "domain", "numeric"),
    ("evil.com/path", "url", "without a scheme"),
    ("https://", "url", "without a host"),
    ("https://evil.com:99999/", "url", "not a valid URL"),
    ("https://ev il.com/", "url", "whitespace"),
    ("192.0.2.1", "ip:port", "without a port"),
    ("192.0.2.1:0", "ip:port", "between 1 and 65535"),
    ("192.0.2.1:70000", "ip:port", "between 1 and 65535"),
    ("300.1.1.1:80", "ip:port", "not an IP address"),
    ("127.0.0.1:80", "ip:port", "loopback"),
    ("0.0.0.0:80", "ip:port", "unspecified"),
    ("[fe80::1]:80", "ip:port", "link-local"),
    ("abc", "sha256_hash", "64 hex characters"),
    ("z" * 32, "md5_hash", "hexadecimal"),
    ("a" * 40, "sha256_hash", "got 40"),
    ("x@y.com", "envelope_from", "not supported"),
    ("ab\x00c.com", "domain", "control characters"),
    ("192.0.2.1", None, "without a port"),
    ("goo\u200bgle.com", "domain", "IDNA would silently change"),
    ("micro\u00adsoft.com", "domain", "IDNA would silently change"),
    ("GOOGLE\uff0ecom", "domain", "IDNA would silently change"),
])
def test_invalid(raw, declared, reason):
    with pytest.raises(InvalidIoc, match=reason):
        normalise(raw, declared)
