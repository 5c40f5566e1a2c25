"""One error hierarchy for Tacit; converted to LSP errors only at the protocol boundary."""


class TacitError(Exception):
    """Base class of every error Tacit raises on purpose."""


class ModelError(TacitError):
    """A model file is missing, corrupt, unverified or not a GGUF."""


class EngineError(TacitError):
    """An engine could not load or failed while generating."""


class OptionsError(TacitError):
    """User options could not be understood."""
