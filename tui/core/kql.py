"""KQL text primitives: the one string-literal escaper, lists, comments, timespans.

Kusto string literals accept only a fixed set of escapes (`\\\\`, `\\"`, `\\'`, `\\n`, `\\t`,
`\\r`, `\\uXXXX`...); anything else after a backslash (`\\/`, `\\q`) is a syntax error, and a raw
line break ends the literal. So every value goes through `string_literal`, which escapes the
backslash, the double quote and every non-printable character, and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f-\x9f\u00ad\u2028\u2029\ud800-\udfff]')
_SIMPLE = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape_char(ch: str) -> str:
    simple = _SIMPLE.get(ch)
    if simple is not None:
        return simple
    code = ord(ch)
    if code > 0xFFFF:  # as a UTF-16 surrogate pair: Kusto's own decoder ignores \U escapes
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def _escape_slow(value: str) -> str:
    return "".join(
        ch if ch.isprintable() and ch not in '\\"' else _escape_char(ch) for ch in value
    )


_LITERALS: dict[str, str] = {}  # memo: a 100,000-IOC hunt re-plans on every toggle
_LITERALS_MAX = 400_000


def string_literal(value: str) -> str:
    """Quote `value` as a KQL double-quoted string literal that round-trips exactly."""
    literal = _LITERALS.get(value)
    if literal is None:
        if _NEEDS_ESCAPE.search(value) is None and value.isprintable():
            literal = f'"{value}"'
        else:
            literal = f'"{_escape_slow(value)}"'
        if len(_LITERALS) >= _LITERALS_MAX:
            _LITERALS.clear()
        _LITERALS[value] = literal
    return literal


def dynamic_list(values: Iterable[str]) -> str:
    """`dynamic([...])` of string literals (elements of dynamic() must be literals)."""
    return "dynamic([" + ", ".join(string_literal(v) for v in values) + "])"


def literal_list(literals: Sequence[str]) -> str:
    """`dynamic([...])` from already-quoted literals (lets callers cache the quoting)."""
    return "dynamic([" + ", ".join(literals) + "])"


def comment_text(value: str) -> str:
    """Make text safe inside a `//` comment: no line breaks or control characters survive."""
    if value.isprintable():
        return value
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in value)


_TIMESPAN = re.compile(r"(\d{1,5})(d|h|m|s)")
_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_timespan(text: str) -> str:
    """Validate a lookback such as `14d`, `12h`, `30m`; it is spliced into KQL as is."""
    value = str(text).strip().lower()
    match = _TIMESPAN.fullmatch(value)
    if not match or int(match.group(1)) == 0:
        raise ValueError(
            f"lookback {text!r} is not a positive KQL timespan like 14d, 12h or 30m"
        )
    return f"{int(match.group(1))}{match.group(2)}"


def timespan_seconds(text: str) -> int:
    match = _TIMESPAN.fullmatch(parse_timespan(text))
    assert match is not None
    return int(match.group(1)) * _SECONDS[match.group(2)]
