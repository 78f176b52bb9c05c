"""KQL syntax highlighting for the preview: Pygments' Kusto lexer, taught `let`, `has_any`,
`in~`, `!in~` and friends (the stock lexer emits Error tokens for `~`)."""

from __future__ import annotations

from pygments.lexer import inherit, words
from pygments.lexers.kusto import KustoLexer
from pygments.token import Keyword, Operator, Token
from textual.content import Content, Span
from textual.highlight import HighlightTheme


class KqlLexer(KustoLexer):
    name = "KQL (foxhunt)"
    aliases = ["kql-foxhunt"]
    tokens = {
        "root": [
            (r"!?in~|!?has~|=~|!~", Operator),
            (words(("let", "not", "in", "has_any", "has_all", "has_cs", "hasprefix",
                    "hassuffix", "endswith", "contains_cs", "startswith_cs", "endswith_cs",
                    "ago", "dynamic", "desc", "asc", "iff", "strcat", "tostring",
                    "parse_url", "coalesce", "ipv4_is_in_any_range", "ipv6_is_in_any_range"),
                   prefix=r"\b", suffix=r"\b"), Keyword),
            inherit,
        ]
    }


_LEXER = KqlLexer(stripnl=False, ensurenl=False)


def highlight_kql(code: str, theme: type[HighlightTheme] = HighlightTheme) -> Content:
    """Highlighted Content; the code is plain text, so feed values inside it stay literal."""
    spans: list[Span] = []
    start = 0
    styles = theme.STYLES
    for token_type, token in _LEXER.get_tokens(code):
        end = start + len(token)
        kind = token_type
        while kind is not None:
            style = styles.get(kind)
            if style:
                spans.append(Span(start, end, style))
                break
            kind = kind.parent if kind is not Token else None
        start = end
    return Content(code, spans=spans)
