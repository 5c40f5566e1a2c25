"""Prompt templates and prompt assembly.

Prompts are arranged so consecutive keystrokes share their longest possible prefix: the
prefix window starts at a line anchor that only moves when the window outgrows its
budget (then it jumps forward by a large step), so the engine's KV cache survives
from one keystroke to the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Template:
    """How a model family wants a fill-in-the-middle (or prefix-only) prompt."""

    name: str
    prefix: str = ""
    suffix: str = ""
    middle: str = ""
    stops: tuple[str, ...] = ()
    file_sep: str | None = None

    @property
    def fim(self) -> bool:
        return bool(self.middle)

    def render(self, prefix: str, suffix: str, header: str = "") -> str:
        """The prompt text for a cursor between `prefix` and `suffix`."""
        if not self.fim:
            return header + prefix
        return f"{self.prefix}{header}{prefix}{self.suffix}{suffix}{self.middle}"

    def head_chars(self, prefix: str, header: str = "") -> int:
        """How much of `render(prefix, ...)` comes before the cursor: what the next keystroke's prompt shares."""
        return (len(self.prefix) if self.fim else 0) + len(header) + len(prefix)


QWEN_STOPS = ("<|endoftext|>", "<|fim_pad|>", "<|file_sep|>", "<|repo_name|>", "<|fim_prefix|>",
              "<|fim_suffix|>", "<|fim_middle|>", "<|im_end|>", "<|im_start|>")

TEMPLATES: dict[str, Template] = {
    "qwen2.5-coder": Template("qwen2.5-coder", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>",
                              QWEN_STOPS, "<|file_sep|>"),
    "codegemma": Template("codegemma", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>",
                          ("<|file_separator|>", "<|fim_prefix|>", "<eos>"), "<|file_separator|>"),
    "starcoder2": Template("starcoder2", "<fim_prefix>", "<fim_suffix>", "<fim_middle>",
                           ("<|endoftext|>", "<file_sep>", "<fim_prefix>"), "<file_sep>"),
    "deepseek-coder": Template("deepseek-coder", "<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>",
                               ("<｜end▁of▁sentence｜>", "<|EOT|>")),
    "codellama": Template("codellama", "<PRE> ", " <SUF>", " <MID>", ("<EOT>",)),
    "prefix-only": Template("prefix-only", stops=("<eos>", "<end_of_turn>", "<|endoftext|>")),
}

# Which template a manifest family uses.
FAMILY_TEMPLATE = {"qwen2.5-coder": "qwen2.5-coder", "gemma3": "prefix-only"}

# Tokens whose presence as single special tokens reveals a FIM template (user GGUFs).
PROBES = [("<|fim_prefix|>", "qwen2.5-coder"), ("<fim_prefix>", "starcoder2"),
          ("<｜fim▁begin｜>", "deepseek-coder"), ("<PRE>", "codellama")]


@dataclass
class PromptOptions:
    """Budgets for the prompt, in characters (a cheap, stable proxy for tokens)."""

    prefix_chars: int = 8000
    prefix_keep_chars: int = 5333  # where the window restarts when it outgrows prefix_chars
    suffix_chars: int = 48
    # Lines after the cursor's own: none. The rest of the cursor's line is what the model must not
    # repeat (`)`, `]:`); the 0.5B model copied the next line into its answer (bench/repo_eval.py).
    suffix_lines: int = 0


@dataclass
class Prompt:
    """A rendered prompt and where its parts came from."""

    text: str
    template: str
    prefix_start: int  # offset in the document where the prefix window starts
    prefix: str
    suffix: str
    sources: list[str] = field(default_factory=list)
    head_chars: int = 0  # prompt text up to the cursor: shared with the next keystroke's prompt
    indent: str = ""  # the indentation's last character, left out of the prompt (the model writes it)
    heal: str = ""  # the word (or punctuation) before the cursor, left out: the engine writes it again
    snippets: list = field(default_factory=list)  # the context snippets shown (`context.retrieval.Snippet`)


def anchor_offset(doc_prefix: str, anchor: int | None, opts: PromptOptions) -> int:
    """Where the prefix window starts: keep `anchor` while it fits, else jump to a line start.

    Where no line starts in the last `prefix_keep_chars` (a minified file, a long data line), the
    window starts on a fixed grid of offsets instead, so that it stays put while the prefix grows: a
    start right behind the cursor moved with every keystroke, and each prompt read its whole window
    again (seconds), so no suggestion was ever shown there."""
    if anchor is not None and 0 <= anchor <= len(doc_prefix):
        at_line_start = anchor == 0 or doc_prefix[anchor - 1] == "\n"
        if at_line_start and len(doc_prefix) - anchor <= opts.prefix_chars:
            return anchor
    if len(doc_prefix) <= opts.prefix_chars:
        return 0
    nl = doc_prefix.find("\n", len(doc_prefix) - opts.prefix_keep_chars)
    if nl >= 0:
        return nl + 1
    step = max(1, opts.prefix_chars - opts.prefix_keep_chars)
    return -(-(len(doc_prefix) - opts.prefix_chars) // step) * step  # the first grid point that fits


def cut_suffix(doc_suffix: str, opts: PromptOptions) -> str:
    """The text after the cursor that goes into the prompt: a few lines, bounded."""
    parts = doc_suffix.split("\n", opts.suffix_lines + 1)
    text = "\n".join(parts[: opts.suffix_lines + 1])
    return text[: opts.suffix_chars]


def build(template: Template, doc_prefix: str, doc_suffix: str, anchor: int | None,
          opts: PromptOptions, path_header: str = "") -> Prompt:
    """Render the prompt for a cursor; `anchor` is the previous window start for this document."""
    start = anchor_offset(doc_prefix, anchor, opts)
    prefix = doc_prefix[start:]
    suffix = cut_suffix(doc_suffix, opts) if template.fim else ""
    sources = ["prefix"] + (["suffix"] if suffix else [])
    header = path_header if path_header else ""
    if header:
        sources.insert(0, "path")
    text = template.render(prefix, suffix, header)
    head = template.head_chars(prefix, header)
    return Prompt(text, template.name, start, prefix, suffix, sources, head_chars=head)


def template_for(family: str | None) -> Template:
    """The template for a model family (manifest family or detected template name)."""
    name = FAMILY_TEMPLATE.get(family or "", family or "")
    return TEMPLATES.get(name, TEMPLATES["prefix-only"])
