"""alkd: active LLM-based knowledge distillation for session-based recommendation."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("alkd-tui")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
