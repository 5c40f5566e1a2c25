"""Engines: one interface (`Engine.generate`), an embedded llama.cpp engine, a remote one and a fake."""

from .base import Engine, EngineStats, GenOptions

__all__ = ["Engine", "EngineStats", "GenOptions"]
