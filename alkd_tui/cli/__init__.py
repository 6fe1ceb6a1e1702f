"""The `alkd` command line (Typer): a thin face over `alkd_tui.pipeline`."""
