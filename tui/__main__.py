"""`python -m tui` runs the same entry point as the `foxhunt` command."""

from .cli import run

run()
