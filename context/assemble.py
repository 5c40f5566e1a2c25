"""Prompt assembly with context: which snippets go in, within a token budget, in a stable order.

The order is chosen for the engine's KV cache: rarely-changing material first (other files'
definitions, callers and similar code, then recent edits), the current file's prefix window after it,
the text after the cursor last. The snippet block of a document is only rebuilt when its
prefix window moves or when the cursor reaches a line that uses workspace symbols the block
does not show yet (at most every `refresh_s`), so that consecutive keystrokes keep sharing
their whole prompt but its last few tokens.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from context import edits as edits_mod
from context import prompt as prompts
from context import retrieval
from context.retrieval import Snippet
from context.secrets import redact

COMMENT = {"python": "#", "lua": "--", "ruby": "#", "shell": "#"}


@dataclass
class ContextConfig:
    """Which sources feed the prompt, and their budgets."""

    suffix: bool = True
    definitions: bool = True
    usages: bool = True  # how other files call the function whose arguments the cursor is in
    similar: bool = True
    edits: bool = True
    scopes: bool = True
    imports: bool = True  # with `scopes`: the file's imports when the prefix window cut them off
    # with `scopes`: in a call's arguments, how this file calls that function where the prompt does not show
    file_calls: bool = True
    path_header: bool = True  # name the current file (and the repository) in the prompt
    # Cross-file snippets (definitions, usages, similar code) only inside the argument list of a call
    # of a function another workspace file defines; "callee" shows that function's definition alone.
    selective: str = "off"  # "off" | "call" | "callee"
    budget_tokens: int = 400  # for snippets, counted with the model's tokenizer
    time_box_ms: float = 20.0  # sources not reached by then are skipped
    # How other files' snippets are ordered: "source" (definitions, usages, similar code, each by path) or
    # "relevance" (similar code first, then definitions and callers, each the most relevant last: nearest
    # the cursor, where a small model copies from most)
    order: str = "source"
    refresh_s: float = 20.0

    @classmethod
    def prefix_only(cls) -> ContextConfig:
        return cls(suffix=False, definitions=False, usages=False, similar=False, edits=False, scopes=False,
                   path_header=False)


@dataclass
class Sources:
    """What the sources may read: the index, other documents, recent edits, the syntax tree."""

    index: object | None = None
    documents: dict[str, str] = field(default_factory=dict)  # path -> text of other open documents
    edits: edits_mod.RecentEdits | None = None
    tree: object | None = None
    repo_name: str = ""


@dataclass
class Block:
    """The snippet block of one document, kept while it stays valid."""

    anchor: int
    snippets: list[Snippet]
    symbols: frozenset[str]
    at: float
    row: int
    callee: str | None = None  # selective: the workspace function whose call the block was built in


def gather(cfg: ContextConfig, src: Sources, text: str, offset: int, path: str, window_start: int,
           count_tokens: Callable[[str], int], visible_end: int | None = None,
           callee: str | None = "") -> list[Snippet]:
    """Run the enabled sources (time-boxed), dedupe, and keep what fits the token budget by priority.
    The prompt shows `text[window_start:visible_end]` (`visible_end`: where the suffix it shows ends;
    by default the cursor). `callee`: `retrieval.open_call` of the text before the cursor, when the
    caller has it ("": work it out here)."""
    deadline = time.perf_counter() + cfg.time_box_ms / 1000
    prefix = text[:offset]
    found: list[Snippet] = []
    steps: list[Callable[[], list[Snippet]]] = []
    callee = retrieval.open_call(prefix) if callee == "" else callee
    crossfile = cfg.selective == "off" or workspace_callee(src, callee, path) is not None
    near = [callee] if cfg.selective == "callee" else retrieval.symbols_near(prefix)
    end = offset if visible_end is None else visible_end
    if cfg.scopes and (window_start > 0 or (cfg.file_calls and callee)):
        steps.append(lambda: retrieval.scopes(
            src.tree, text, offset, window_start, imports=cfg.imports,
            calls=retrieval.calls_here(text, callee, window_start, end, offset) if cfg.file_calls else None))
    if cfg.definitions and src.index is not None and crossfile:
        steps.append(lambda: retrieval.definitions(src.index, near, path))
    if cfg.usages and src.index is not None and crossfile:
        steps.append(lambda: retrieval.usages(src.index, callee, path))
    if cfg.edits and src.edits is not None:
        steps.append(lambda: [Snippet("edits", e.path, edits_mod.render(e))
                              for e in src.edits.recent(3, exclude_path_line=(path, prefix.count("\n")))])
    if cfg.similar and src.documents and crossfile and cfg.selective != "callee":
        query = "\n".join(prefix.split("\n")[-20:])
        steps.append(lambda: retrieval.similar(query, {p: t for p, t in src.documents.items()
                                                       if p != path and retrieval.related(p, path)},
                                               shown=shown_rows(found)))
    for step in steps:
        if time.perf_counter() > deadline:
            break
        found.extend(step())
    return fit(found, cfg.budget_tokens, count_tokens, cfg.order)


def shown_rows(snippets: list[Snippet]) -> dict[str, set[int]]:
    """Path -> rows where the definitions among `snippets` start (`retrieval.similar`'s `shown`)."""
    out: dict[str, set[int]] = {}
    for s in snippets:
        if s.source == "definitions" and s.row >= 0:
            out.setdefault(s.path, set()).add(s.row)
    return out


def workspace_callee(src: Sources, callee: str | None, path: str) -> str | None:
    """`callee` (the function or class whose call the cursor is in, `retrieval.open_call`), when another
    workspace file defines it."""
    if not callee or src.index is None:
        return None
    found = any(d.path != path and retrieval.related(d.path, path) for d in src.index.lookup(callee))
    return callee if found else None


ORDERS = {  # source -> place in the prompt
    "source": {"definitions": 0, "usages": 1, "similar": 2, "edits": 3, "scopes": 4},
    "relevance": {"similar": 0, "definitions": 1, "usages": 2, "edits": 3, "scopes": 4},
}


def fit(snippets: list[Snippet], budget: int, count_tokens: Callable[[str], int],
        order: str = "source") -> list[Snippet]:
    """Deduplicate and keep snippets in priority order until the budget is spent; then place them in
    `order` (`ContextConfig.order`)."""
    priority = {"scopes": 0, "definitions": 1, "usages": 2, "edits": 3, "similar": 4}
    kept, seen, used = [], set(), 0
    for s in sorted(snippets, key=lambda s: (priority.get(s.source, 9), -s.score)):
        if s.text in seen or not s.text.strip():
            continue
        cost = count_tokens(s.text) + 8
        if used + cost > budget:
            continue
        seen.add(s.text)
        kept.append(s)
        used += cost
    # "source": other files by path, then edits, then the current file's scope headers (a stable order);
    # "relevance": within a source, the best scored last
    place, by_score = ORDERS[order], order == "relevance"
    return sorted(kept, key=lambda s: (place.get(s.source, 9), s.score if by_score else 0, s.path, s.text))


def render(template: prompts.Template, snippets: list[Snippet], current_path: str, repo_name: str,
           language_id: str, path_header: bool = True) -> tuple[str, str]:
    """(outer, inner): text before the FIM prefix token, and text right after it."""
    scope = "\n".join(s.text for s in snippets if s.source == "scopes")
    others = [s for s in snippets if s.source != "scopes"]
    inner = f"{scope}\n" if scope else ""
    if template.file_sep:
        if not others and not (path_header and current_path):
            return "", inner
        parts = [f"<|repo_name|>{repo_name or 'workspace'}\n"] if template.name == "qwen2.5-coder" else []
        for s in others:
            label = f"{s.path} (recent edit)" if s.source == "edits" else s.path
            parts.append(f"{template.file_sep}{label}\n{s.text}\n")
        parts.append(f"{template.file_sep}{current_path}\n")
        return "".join(parts), inner
    mark = COMMENT.get(language_id, "//")
    lines = []
    for s in others:
        body = "\n".join(f"{mark} {ln}" for ln in s.text.split("\n"))
        lines.append(f"{mark} from {s.path}:\n{body}\n")
    return "", "".join(lines) + ("\n" if lines else "") + inner


def build(template: prompts.Template, text: str, offset: int, path: str, language_id: str,
          cfg: ContextConfig, src: Sources, opts: prompts.PromptOptions, count_tokens: Callable[[str], int],
          block: Block | None = None, anchor: int | None = None, heal: str = "") -> tuple[prompts.Prompt, Block]:
    """The prompt for a cursor with context; reuses `block` while it is still valid. `heal`: the
    characters before the cursor that the prompt leaves out for the engine to write again (token
    healing); the context is chosen from the whole text before the cursor."""
    prefix, suffix = text[:offset], text[offset:]
    start = prompts.anchor_offset(prefix, anchor, opts)
    row = prefix.count("\n")
    symbols = frozenset(retrieval.symbols_near(prefix))
    raw_suffix = prompts.cut_suffix(suffix, opts) if (cfg.suffix and template.fim) else ""
    shown = len(raw_suffix)
    callee = retrieval.open_call(prefix)

    def file_calls() -> list[str]:
        if not (cfg.scopes and cfg.file_calls):
            return []
        return retrieval.calls_here(text, callee, start, offset + shown, offset, limit=1)

    if block is None or block.anchor != start or _stale(block, cfg, src, symbols, row, path, callee,
                                                         file_calls):
        snippets = gather(cfg, src, text, offset, path, start, count_tokens, visible_end=offset + shown,
                          callee=callee)
        block = Block(start, snippets, symbols, time.monotonic(), row, workspace_callee(src, callee, path))
    outer, inner = render(template, block.snippets, path, src.repo_name, language_id, cfg.path_header)
    # The document itself may hold a key too: what the model sees of it is redacted like every snippet.
    body = redact(prefix[start: len(prefix) - len(heal)])
    cut_suffix = redact(raw_suffix)
    rendered = outer + template.render(body, cut_suffix, inner)
    head = len(outer) + template.head_chars(body, inner)
    sources = sorted({s.source for s in block.snippets} | {p for s in block.snippets for p in s.parts})
    sources += ["prefix"] + (["suffix"] if cut_suffix else [])
    return prompts.Prompt(rendered, template.name, start, body, cut_suffix, sources, head_chars=head,
                          heal=heal, snippets=list(block.snippets)), block


def _stale(block: Block, cfg: ContextConfig, src: Sources, symbols: frozenset[str], row: int, path: str,
           callee: str | None, file_calls: Callable[[], list[str]] = list) -> bool:
    """A new line uses workspace symbols (or calls a function whose calls elsewhere, in other files or
    in this one, `file_calls`) the block lacks, and the block is old enough to rebuild. Selective: the
    cursor is in a call of a workspace function other than the one the block was built for (checked
    on every keystroke: that is when its definition helps), or a new line has left the call the
    block was built for."""
    if time.monotonic() - block.at < cfg.refresh_s or src.index is None:
        return False
    if cfg.selective != "off":
        here = workspace_callee(src, callee, path)
        return here != block.callee and (here is not None or row != block.row)
    if row == block.row:
        return False
    shown = {s.text for s in block.snippets if s.source in ("definitions", "usages")}
    new = [n for n in symbols - block.symbols if src.index.lookup(n)] if cfg.definitions else []
    fresh = retrieval.definitions(src.index, new, path, limit=2) if new else []
    if cfg.usages:
        fresh += retrieval.usages(src.index, callee, path, limit=1)
    if any(s.text not in shown for s in fresh):
        return True
    scope = "\n".join(s.text for s in block.snippets if s.source == "scopes")
    return any(redact(line) not in scope for line in file_calls())
