"""The pure core: no terminal, network or clipboard imports (a test enforces it)."""
