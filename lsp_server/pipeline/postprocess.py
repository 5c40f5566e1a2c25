"""Postprocess stage: trim, drop useless suggestions, and pick the range to replace."""

from __future__ import annotations


def finalize(text: str, line_after: str, doc_suffix: str, complete: bool) -> tuple[str, int] | None:
    """Clean `text`; return (insert text, characters after the cursor it replaces) or None.

    None means "show nothing": empty or whitespace-only output, or output that only
    repeats what already follows the cursor.
    """
    text = text.rstrip() if complete else text.rstrip("\n")
    if not text.strip():
        return None
    if doc_suffix.startswith(text) or (text.strip() and doc_suffix.lstrip().startswith(text.strip())
                                       and "\n" not in text and text.strip() == line_after.strip()):
        return None
    replace = 0
    rest = line_after.rstrip()
    first = text.split("\n", 1)[0]
    if rest and first.rstrip().endswith(rest):
        # The suggestion already contains the closing text after the cursor (`)`, `]:`):
        # replace to the end of the line instead of duplicating it.
        replace = len(rest)
    return text, replace
