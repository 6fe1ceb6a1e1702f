"""The pipeline's steps as plain functions over the store, shared by the CLI and the TUI."""
