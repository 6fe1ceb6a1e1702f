"""Small reusable widgets of `alkd-tui`, each with its own DEFAULT_CSS."""
