"""Feed data on screen: always literal `rich.text.Text`, never markup; control characters,
ANSI escapes and invisible format characters are shown as visible escapes, never sent raw."""

from __future__ import annotations

from rich.text import Text

ESCAPE_STYLE = "reverse"


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def safe_text(value: str, style: str = "", limit: int | None = None) -> Text:
    """`value` as literal Text; non-printable characters become styled `\\xNN` escapes.
    With `limit`, the text is cut to that many characters with an ellipsis."""
    if limit is not None and len(value) > limit:
        value = value[: max(limit - 1, 0)] + "…"
    if value.isprintable():
        return Text(value, style=style, end="", no_wrap=True)
    text = Text(style=style, end="", no_wrap=True)
    plain = []
    for ch in value:
        if ch.isprintable():
            plain.append(ch)
            continue
        if plain:
            text.append("".join(plain))
            plain = []
        text.append(_escape(ch), style=ESCAPE_STYLE)
    if plain:
        text.append("".join(plain))
    return text


def safe_str(value: str) -> str:
    """A plain string with every non-printable character escaped (for notify(markup=False))."""
    if value.isprintable():
        return value
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in value)
