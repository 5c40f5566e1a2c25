"""Recent edits: what the developer changed lately, as compact line diffs with file and time.

The edit a developer is in the middle of (a rename, a new parameter threaded through calls)
is the best predictor of the next one, so the prompt shows the latest few.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from context.secrets import redact


@dataclass
class Edit:
    """One region of a file before and after the developer changed it."""

    path: str
    line: int  # 0-based first line of the region
    before: str
    after: str
    at: float
    column: int = 0  # where `before` and `after` start in their first line (a long line is clipped)
    breaks: int = 0  # line breaks in the whole region after the edit (before clipping)


EDIT_CONTEXT = 200  # characters shown either side of a change in a longer line (minified code, data)
EDIT_CHARS = 1_200  # at most this much of a region (a long paste) on either side of the diff


def clip(region: str, column: int, changed_to: int) -> str:
    """`region` from `column`, to `EDIT_CONTEXT` characters after the change (which ends at `changed_to`).

    A keystroke on a 600 KB minified line made a 1.2 MB diff that every prompt built afterwards
    redacted and tokenized (half a second) before the budget dropped it."""
    return region[column: min(changed_to + EDIT_CONTEXT, column + EDIT_CHARS)]


class RecentEdits:
    """The last `limit` edit regions of a workspace; consecutive keystrokes on one line coalesce."""

    def __init__(self, limit: int = 16, coalesce_s: float = 60.0) -> None:
        self.edits: deque[Edit] = deque(maxlen=limit)
        self.coalesce_s = coalesce_s

    def record(self, path: str, old_text: str, new_text: str, start: int, end: int, inserted: str,
               now: float | None = None) -> None:
        """Record replacing [start, end) of `old_text` by `inserted` (giving `new_text`)."""
        now = time.time() if now is None else now
        line = old_text.count("\n", 0, start)
        line_start = old_text.rfind("\n", 0, start) + 1
        old_end = old_text.find("\n", end)
        before = old_text[line_start: old_end if old_end >= 0 else len(old_text)]
        new_end = new_text.find("\n", start + len(inserted))
        after = new_text[line_start: new_end if new_end >= 0 else len(new_text)]
        column, changed_to = start - line_start, start + len(inserted) - line_start
        last = self.edits[-1] if self.edits else None
        if (last is not None and last.path == path and last.line == line and now - last.at < self.coalesce_s
                and last.breaks == before.count("\n")
                and last.column <= column and changed_to - last.column <= EDIT_CHARS - EDIT_CONTEXT):
            # the same region, still being typed
            last.after, last.at, last.breaks = clip(after, last.column, changed_to), now, after.count("\n")
            return
        shown = max(0, column - EDIT_CONTEXT)
        self.edits.append(Edit(path, line, clip(before, shown, end - line_start), clip(after, shown, changed_to),
                               now, shown, after.count("\n")))

    def recent(self, count: int = 3, exclude_path_line: tuple[str, int] | None = None) -> list[Edit]:
        """The latest `count` real edits (before != after), newest last."""
        out = [e for e in self.edits if e.before != e.after and (e.path, e.line) != exclude_path_line]
        return out[-count:]


def render(edit: Edit) -> str:
    """An edit as a small unified-diff-like text."""
    minus = "\n".join(f"-{ln}" for ln in edit.before.split("\n"))
    plus = "\n".join(f"+{ln}" for ln in edit.after.split("\n"))
    return redact(f"@@ {edit.path}:{edit.line + 1} @@\n{minus}\n{plus}")
