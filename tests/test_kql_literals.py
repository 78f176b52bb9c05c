"""String literals, comments and timespans: property tests, checked by Kusto.Language itself."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.core.kql import comment_text, dynamic_list, parse_timespan, string_literal

# Any Unicode text, including controls, quotes, backslashes, line separators and lone
# surrogates (which JSON input can carry).
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
TRICKY = st.text(alphabet=st.sampled_from(list('\\"\'/\n\r\t\x00\x1b\x7f\x85\u2028\u2029'
                                               '\u00a0\u200b\u202eaZ9 ü€𝕏')), max_size=30)


def _json_safe(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(ANY_TEXT, TRICKY))
def test_every_string_round_trips_through_kusto(kusto, value):
    literal = string_literal(value)
    assert "\n" not in literal and "\r" not in literal
    if not _json_safe(literal):
        pytest.fail(f"literal is not encodable: {literal!r}")
    errors, parsed = kusto.literal(literal)
    assert errors == [], f"{literal!r} does not parse: {errors}"
    assert parsed == value


@settings(max_examples=200, deadline=None)
@given(st.lists(TRICKY, max_size=5))
def test_dynamic_lists_parse(kusto, values):
    errors = kusto.errors(f"print x = {dynamic_list(values)}")
    assert errors == []


def test_plain_values_stay_readable():
    assert string_literal("dev-tokyotechie.com") == '"dev-tokyotechie.com"'
    assert string_literal('a"b\\c') == '"a\\"b\\\\c"'
    assert string_literal("ü€𝕏") == '"ü€𝕏"'
    assert string_literal("a/b") == '"a/b"'  # never \/, which Kusto rejects
    assert string_literal("x\ny") == '"x\\ny"'
    assert string_literal("\u2028") == '"\\u2028"'


@given(ANY_TEXT)
def test_comment_text_never_breaks_the_line(value):
    text = comment_text(value)
    assert len(text.splitlines()) <= 1
    assert all(ch.isprintable() for ch in text)


def test_comment_text_keeps_printable_text():
    assert comment_text("PureRAT (win.pure_rat)") == "PureRAT (win.pure_rat)"
    assert comment_text("a\nb") == "a\\u000ab"


@pytest.mark.parametrize(("text", "expected"), [
    ("14d", "14d"), ("12H", "12h"), ("30m", "30m"), (" 90s ", "90s"), ("007d", "7d"),
])
def test_timespans(text, expected):
    assert parse_timespan(text) == expected


@pytest.mark.parametrize("text", ["0d", "14", "d", "1w", "14d; DnsEvents", "-1d", "1.5d", ""])
def test_bad_timespans(text):
    with pytest.raises(ValueError, match="timespan"):
        parse_timespan(text)
