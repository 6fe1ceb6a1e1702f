"""`alkd-tui`: the Textual face of alkd, a thin layer over `alkd_tui.pipeline`."""
