"""Prefilter stage: decide cheaply whether a suggestion is worth computing at all."""

from __future__ import annotations

from .request import CompletionRequest

IDENT = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def skip_reason(req: CompletionRequest, enabled: bool, disabled_languages: list[str],
                max_file_chars: int) -> str | None:
    """Why no suggestion should be made here, or None to go on."""
    if not enabled:
        return "disabled"
    if req.language_id in disabled_languages:
        return f"disabled for {req.language_id}"
    if len(req.text) > max_file_chars:
        return f"file larger than {max_file_chars} characters"
    line = req.line_text
    after = line[req.character:]
    if not req.invoked and after[:1] in IDENT and after[:1] != "":
        return "cursor in the middle of a word"
    return None
