"""The pipeline's own request and suggestion types (no LSP types past the handlers)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CompletionRequest:
    """A cursor in a document, in server units (code points)."""

    uri: str
    language_id: str
    text: str
    offset: int  # code-point offset of the cursor in `text`
    line: int
    character: int  # code points into the line
    version: int = 0
    invoked: bool = False  # explicitly asked for (vs automatic, as you type)
    received: float = 0.0  # perf_counter() when the request arrived
    tree: Any = None  # the document's up-to-date tree-sitter tree, when the server keeps one
    path: str = ""  # workspace-relative path, for the prompt and retrieval
    # Or how to get that tree (of `text`, even when the document has changed since), asked only when a
    # prompt is built: a keystroke served from a running generation needs no parse (55 ms for a
    # 600 KB minified line).
    parse: Callable[[], Any] | None = None

    def syntax_tree(self) -> Any:
        """`tree`, from `parse` the first time it is asked for; None when there is none."""
        if self.tree is None and self.parse is not None:
            self.tree, self.parse = self.parse(), None
        return self.tree

    @property
    def prefix(self) -> str:
        return self.text[: self.offset]

    @property
    def suffix(self) -> str:
        return self.text[self.offset:]

    @property
    def line_text(self) -> str:
        start = self.text.rfind("\n", 0, self.offset) + 1
        end = self.text.find("\n", self.offset)
        return self.text[start: end if end >= 0 else len(self.text)]


@dataclass
class Suggestion:
    """What we show: `text` replaces the document between `start` and `end` (offsets)."""

    id: str
    text: str
    start: int
    end: int
    complete: bool  # False while more is still being generated
    from_cache: bool = False
    sources: list[str] = field(default_factory=list)
    latency_ms: float = 0.0
    mode: str = ""  # line | block
    confidence: dict[str, float] | None = None  # the model's, in the shown text (engines.base.confidence)
