"""`tacit explain FILE:LINE:COL`: print the prompt Tacit would build there, with its sources marked."""

from __future__ import annotations

from pathlib import Path

from context import assemble
from context.index import WorkspaceIndex
from context.prompt import template_for
from context.syntax import SyntaxDocument, language_for_path

from .engine_host import settings_from
from .inprocess import read_position
from .models import load_manifest, read_settings
from .options import Options
from .pipeline import heal, indent


def workspace_root(path: Path) -> Path:
    """The nearest enclosing folder with a .git (the file's folder when there is none)."""
    for parent in [path.parent, *path.parent.parents]:
        if (parent / ".git").exists():
            return parent
    return path.parent


def explain(path: Path, line: int, col: int, index_workspace: bool = True) -> str:
    """The annotated prompt for 1-based (line, col) of `path`."""
    text, offset, _ = read_position(path, line, col)
    path = path.resolve()
    root = workspace_root(path)
    index = None
    if index_workspace:
        index = WorkspaceIndex([root], max_files=Options().context.max_files)  # as the server bounds it
        index.build()
    manifest = load_manifest()
    choice = read_settings().get("model") or manifest.default
    family = manifest.models[choice].family if choice in manifest.models else None
    template = template_for(family)
    language = language_for_path(str(path)) or ""
    rel = path.relative_to(root).as_posix()
    src = assemble.Sources(index=index, tree=SyntaxDocument(language, text).tree, repo_name=root.name)
    settings = settings_from(Options())  # the server's default sources and prompt window
    text, offset, left_out = indent.cut(text, offset)  # as the server heals indentation
    healed = heal.tail(text, offset) if settings.token_healing else ""  # as the embedded engine heals words
    prompt, _ = assemble.build(template, text, offset, rel, language, settings.context, src,
                               settings.prompt, lambda s: max(1, len(s) // 4), heal=healed)
    out = [f"# prompt for {rel}:{line}:{col} (template {template.name}; sources: {', '.join(prompt.sources)})"]
    if left_out:
        out.append(f"# the indentation's last character ({left_out!r}) is left for the model to write")
    if healed:
        out.append(f"# token healing: {healed!r} is left out; the model's output must start with it")
    for s in prompt.snippets:
        out.append(f"# [{' + '.join((s.source, *s.parts))}] {s.path or rel}")
    out.append("# " + "-" * 70)
    out.append(prompt.text)
    return "\n".join(out)
