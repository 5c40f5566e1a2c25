"""Tacit: a local, private, Copilot-style inline completion language server."""

__version__ = "0.1.0"
