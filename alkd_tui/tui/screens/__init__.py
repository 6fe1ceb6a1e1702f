"""The areas of `alkd-tui`, one module each (plus the help screen)."""
