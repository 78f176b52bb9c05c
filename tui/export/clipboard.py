"""The system clipboard through pyperclip, time-boxed and never raising.

xclip/xsel/wl-copy can hang (no display, over SSH), and pyperclip's helpers call them with no
timeout, so the copy runs in a daemon thread that we stop waiting for after `timeout` seconds.
The terminal clipboard (OSC 52) is the app's job; this is the second path.
"""

from __future__ import annotations

import threading


def system_copy(text: str, timeout: float = 3.0) -> str | None:
    """Copy `text`; None on success, otherwise one sentence saying why it failed."""
    outcome: list[str | None] = []

    def run() -> None:
        try:
            import pyperclip

            pyperclip.copy(text)
        except Exception as exc:  # pyperclip raises more than PyperclipException
            outcome.append(_reason(exc))
        else:
            outcome.append(None)

    worker = threading.Thread(target=run, name="foxhunt-clipboard", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        return f"the system clipboard did not answer within {timeout:g} s"
    return outcome[0] if outcome else "the system clipboard failed"


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
