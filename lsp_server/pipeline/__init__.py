"""The completion pipeline: one orchestrator (`orchestrator.py`) calling small stage modules in order."""
