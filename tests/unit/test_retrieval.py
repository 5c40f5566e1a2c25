"""Retrieval sources, recent edits and the context budgeter, one at a time."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from context import assemble, edits, prompt, retrieval, syntax
from context.index import WorkspaceIndex


def count(text: str) -> int:
    return max(1, len(text) // 4)


@pytest.fixture
def index(tmp_path: Path) -> WorkspaceIndex:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "pricing.py").write_text(
        'def apply_discount(price: float, percent: float, *, floor: float = 0.0) -> float:\n'
        '    """Reduce price by percent, never below floor."""\n'
        '    return max(floor, price * (1 - percent / 100))\n\n\n'
        'class Cart:\n    def add_item(self, sku: str, qty: int = 1) -> None:\n'
        '        """Put qty of sku in the cart."""\n        self.items[sku] = qty\n')
    (tmp_path / "shop" / "checkout.py").write_text("from shop.pricing import apply_discount\n\n")
    idx = WorkspaceIndex([tmp_path])
    idx.build()
    return idx


@pytest.mark.parametrize("marked,expected", [
    ("total = apply_disc<CURSOR>", ["apply_disc", "total"]),
    ("cart.add_item(sku, <CURSOR>", ["sku", "add_item", "cart"]),
    ("for x in range(10):\n    self.<CURSOR>", []),
    # words in docstrings, strings and comments are prose, not symbols to look up
    ('def get(url):\n    """Send a PreparedRequest."""\n    log("Session started")  # see HTTPAdapter\n'
     "    proxy = select_proxy(<CURSOR>", ["select_proxy", "proxy", "log", "url", "get"]),
    # the window (3 lines here) starts inside a docstring opened above it
    ('x_val = 1\n"""Module docs\nmention Cart\nand PreparedRequest\n"""\ncart = make_cart(<CURSOR>',
     ["make_cart", "cart"]),
    ("const a = `${Cart}`; // Session\nconst b = build(a<CURSOR>", ["build"]),
])
def test_symbols_near(marked, expected):
    prefix = marked.split("<CURSOR>")[0]
    assert retrieval.symbols_near(prefix, lines=3 if prefix.startswith("x_val") else 12) == expected


@pytest.mark.parametrize("marked,lines,expected", [
    ("/**\n * Uses baseClone.\n * @param {Function} func\n */\nfunction iteratee(func) {\n"
     "  return baseIteratee(<CURSOR>", 12, ["baseIteratee", "iteratee"]),
    # the window (3 lines here) starts inside a JSDoc opened above it
    ("/**\n * mention Cart\n * and Session\n */\nconst cart = make(<CURSOR>", 3, ["make", "cart"]),
    ("int total = add(a, /* count of Cart */ b<CURSOR>", 12, ["add", "total"]),
])
def test_symbols_near_skip_block_comments(marked, lines, expected):
    assert retrieval.symbols_near(marked.split("<CURSOR>")[0], lines=lines) == expected


def test_definitions_from_other_files(index):
    snippets = retrieval.definitions(index, ["apply_discount", "add_item"], "shop/checkout.py")
    texts = "\n".join(s.text for s in snippets)
    assert "def apply_discount(price: float, percent: float, *, floor: float = 0.0) -> float:" in texts
    assert "Reduce price by percent" in texts
    assert "class Cart:\n    def add_item(self, sku: str, qty: int = 1) -> None:" in texts
    assert {s.path for s in snippets} == {"shop/pricing.py"}
    # a definition in the current file is not repeated as context
    assert retrieval.definitions(index, ["apply_discount"], "shop/pricing.py") == []


def test_similar_windows_rank_by_jaccard():
    docs = {"a.py": "def load_users(db):\n    rows = db.query(users_table)\n    return [User(r) for r in rows]\n",
            "b.py": "import math\nprint(math.pi)\n"}
    got = retrieval.similar("def load_orders(db):\n    rows = db.query(orders_table)\n", docs)
    assert [s.path for s in got] == ["a.py"] and got[0].score > 0.2
    # windows are cached by text: an edited document is scored on its new text
    docs["b.py"] = "def load_orders(db):\n    rows = db.query(orders_table)\n"
    got = retrieval.similar("def load_orders(db):\n    rows = db.query(orders_table)\n", docs)
    assert [s.path for s in got] == ["b.py", "a.py"] and got[0].score == 1.0


def test_similar_passes_over_windows_holding_a_definition_already_shown():
    filler = "\n" * 22
    text = ("def load_users(db):\n    rows = db.query(users_table)\n    return rows\n" + filler
            + "def load_admins(db):\n    rows = db.query(users_table)\n")  # rows 25-26
    query = "def load_orders(db):\n    rows = db.query(users_table)\n"
    assert "def load_users" in retrieval.similar(query, {"a.py": text})[0].text
    assert retrieval.windows(text, 20, 10)[-1][0] == 8  # the file's last lines are a window too
    # row 0 starts a definition the prompt shows: the window at rows 10-29 is the best one left
    got = retrieval.similar(query, {"a.py": text}, shown={"a.py": {0}})
    assert len(got) == 1 and "def load_users" not in got[0].text and "def load_admins" in got[0].text
    # rows of another file, or none, change nothing; a file whose every window holds one is left out
    assert retrieval.similar(query, {"a.py": text}, shown={"b.py": {0}}) == retrieval.similar(query, {"a.py": text})
    assert retrieval.similar(query, {"a.py": text}, shown={"a.py": {0, 25}}) == []


def test_a_definition_is_not_shown_again_in_a_similar_window(index, tmp_path):
    rates = "def apply_rate(price, rate):\n    return price * rate\n"
    (tmp_path / "shop" / "rates.py").write_text(rates)
    index.update_path(tmp_path / "shop" / "rates.py")
    t = prompt.TEMPLATES["qwen2.5-coder"]
    at_call = "from shop.rates import apply_rate\n\ndef total(price, rate):\n    return apply_rate("
    src = assemble.Sources(index=index, documents={"shop/rates.py": rates}, repo_name="shop")
    p, _ = assemble.build(t, at_call, len(at_call), "shop/checkout.py", "python", assemble.ContextConfig(), src,
                          prompt.PromptOptions(), count)
    assert "definitions" in p.sources and "similar" not in p.sources
    assert p.text.count("def apply_rate(") == 1 and "price * rate" not in p.text
    # without the definitions, the same window is the most similar code
    p, _ = assemble.build(t, at_call, len(at_call), "shop/checkout.py", "python",
                          assemble.ContextConfig(definitions=False), src, prompt.PromptOptions(), count)
    assert "similar" in p.sources and "price * rate" in p.text


def test_scope_headers_when_the_window_cut_them():
    text = "class Big:\n" + "    x = 1\n" * 50 + "    def method(self, a):\n" + "        y = a\n" * 30 + "        "
    tree = syntax.parse("python", text)
    window_start = text.index("        y = a\n" * 5)
    got = retrieval.scopes(tree, text, len(text), window_start)
    assert got and got[0].text == "class Big:\n    def method(self, a):"
    assert retrieval.scopes(tree, text, len(text), 0) == []


def _statements(indent: str, n: int = 40) -> str:
    return "".join(f"{indent}x{i} = {i};\n" for i in range(n))


@pytest.mark.parametrize("language,head,indent,tail,headers", [
    ("java", "public interface Repo {\n    default void load(int id) {\n", "        ", "\n    }\n}\n",
     ["public interface Repo {", "    default void load(int id) {"]),
    ("java", "public class Account {\n    public Account(int id) {\n", "        ", "\n    }\n}\n",
     ["public class Account {", "    public Account(int id) {"]),  # a constructor
    ("java", "enum Mode {\n    A;\n    int code() {\n", "        ", "\n    }\n}\n",
     ["enum Mode {", "    int code() {"]),
    ("typescript", "export abstract class Repo {\n  load(id: number): void {\n", "    ", "\n  }\n}\n",
     ["export abstract class Repo {", "  load(id: number): void {"]),
    ("rust", "pub trait Shape {\n    fn area(&self) -> f64 {\n", "        ", "\n    }\n}\n",
     ["pub trait Shape {", "    fn area(&self) -> f64 {"]),
    ("rust", "mod geometry {\n    pub fn area() -> f64 {\n", "        ", "\n    }\n}\n",
     ["mod geometry {", "    pub fn area() -> f64 {"]),
    ("cpp", "namespace geo {\nclass Circle {\n public:\n  double area() const {\n", "    ", "\n  }\n};\n}\n",
     ["namespace geo {", "class Circle {", "  double area() const {"]),
    ("go", "package a\n\nfunc Serve() {\n\thandler := func(w Writer, r *Request) {\n", "\t\t", "\n\t}\n}\n",
     ["func Serve() {", "\thandler := func(w Writer, r *Request) {"]),  # a function literal
])
def test_scope_headers_in_every_language(language, head, indent, tail, headers):
    # interfaces, enums, constructors, traits, modules, namespaces: the window cut them off, the prompt
    # shows their header lines (only functions and classes were known before)
    body = _statements(indent)
    text = head + body + indent + tail
    offset = len(head + body + indent)
    got = retrieval.scopes(syntax.parse(language, text), text, offset, text.index(body[-200:]), imports=False)
    assert got and got[0].text.split("\n") == headers


@pytest.mark.parametrize("language,head,imports", [
    ("python", "import os\nfrom typing import (\n    Any,\n    Optional,\n)\nfrom .util import scale\n",
     ["import os", "from typing import (\n    Any,\n    Optional,\n)", "from .util import scale"]),
    ("javascript", "import fs from 'fs';\nimport { scale } from './util.js';\n",
     ["import fs from 'fs';", "import { scale } from './util.js';"]),
    ("go", 'package main\n\nimport (\n\t"fmt"\n\t"example.com/util"\n)\n',
     ['import (\n\t"fmt"\n\t"example.com/util"\n)']),
    ("rust", "use std::fmt;\npub use crate::util::scale;\n", ["use std::fmt;", "pub use crate::util::scale;"]),
    ("java", "package demo;\n\nimport java.util.List;\nimport demo.util.Scale;\n",
     ["import java.util.List;", "import demo.util.Scale;"]),
    ("c", "#include <stdio.h>\n#include \"util.h\"\n", ["#include <stdio.h>", '#include "util.h"']),
    ("lua", 'local json = require("json")\nlocal util = require "util"\nlocal M = {}\n',
     ['local json = require("json")', 'local util = require "util"']),
    ("javascript", "const fs = require('fs');\nconst { join } = require('path');\nconst LIMIT = 5;\n",
     ["const fs = require('fs');", "const { join } = require('path');"]),  # CommonJS
])
def test_imports_cut_off_by_the_window_come_back(language, head, imports):
    comment = {"python": "#", "lua": "--"}.get(language, "//")
    text = head + f"{comment} filler\n" * 60 + "x"
    tree = syntax.parse(language, text)
    window_start = text.index(f"{comment} filler\n" * 10)
    [got] = retrieval.scopes(tree, text, len(text), window_start)
    assert got.text == "\n".join([*imports, ""])
    # an import the window still shows is not repeated; none at all without the option
    assert retrieval.scopes(tree, text, len(text), 0) == []
    assert retrieval.scopes(tree, text, len(text), window_start, imports=False) == []


@pytest.mark.parametrize("path,source,name,shown", [
    ("a.py", 'class K:\n    def m(self, a):\n        """Does m.\n\n        More."""\n        return a\n', "m",
     'class K:\n    def m(self, a):\n        """Does m."""'),
    ("a.py", "class K:\n    def m(\n        self, a,\n    ):\n        return a\n", "m",  # no doc: the header says it
     "class K:\n    def m(self, a): ..."),
    ("a.py", "# The limit.\nLIMIT = 3\n", "LIMIT", "# The limit.\nLIMIT = 3"),
    ("a.py", "def wide(" + ", ".join(f"arg{i}" for i in range(80)) + "):\n    pass\n", "wide",  # clipped
     "def wide(" + ", ".join(f"arg{i}" for i in range(80))[:290].rstrip() + "… ..."),
    ("a.js", "/**\n * Casts `value` to a path.\n *\n * @param {*} value\n */\nfunction castPath(value, object) {\n"
     "  return 1;\n}\n", "castPath", "/** Casts `value` to a path. */\nfunction castPath(value, object) { ... }"),
    ("a.ts", "class Foo {\n  /** Adds. */\n  add(a: number, b: number): number { return a + b; }\n}\n", "add",
     "class Foo {\n    /** Adds. */\n    add(a: number, b: number): number { ... }\n}"),
    ("a.go", "// M is a method.\nfunc (t *T) M(y int) error {\n\treturn nil\n}\n", "M",
     "// M is a method.\nfunc (t *T) M(y int) error { ... }"),
    ("a.go", "type Reader interface {\n\t// Read reads.\n\tRead(p []byte) (int, error)\n}\n", "Read",  # no body
     "type Reader interface {\n    // Read reads.\n    Read(p []byte) (int, error)\n}"),
    ("a.go", "type (\n\tID string\n\tName string\n)\n", "Name", "type Name string"),
    # a method of an interface or trait sits in one, with no body when it has none
    ("a.rs", "pub trait Shape {\n    /// The area.\n    fn area(&self) -> f64;\n}\n", "area",
     "trait Shape {\n    /// The area.\n    fn area(&self) -> f64;\n}"),
    ("a.java", "public interface Named {\n    String name();\n    default String full() { return name(); }\n}\n",
     "name", "interface Named {\n    String name();\n}"),
    ("a.java", "public interface Named {\n    String name();\n    default String full() { return name(); }\n}\n",
     "full", "interface Named {\n    default String full() { ... }\n}"),
    ("a.ts", "export interface Opts {\n  retry(n: number): void;\n}\n", "retry",
     "interface Opts {\n    retry(n: number): void;\n}"),
    ("a.ts", "export abstract class Repo {\n  abstract save(x: number): void;\n}\n", "save",
     "class Repo {\n    abstract save(x: number): void;\n}"),
    ("a.ts", "export declare class Api {\n  fetch(url: string): Promise<Response>;\n}\n", "fetch",  # a .d.ts
     "class Api {\n    fetch(url: string): Promise<Response>;\n}"),
    ("a.js", "export const api = {\n  /** Fetch. */\n  get(id) { return id; },\n};\n", "get",
     "const api = {\n    /** Fetch. */\n    get(id) { ... },\n};"),
    ("a.js", "const Widget = class {\n  render() { return 1; }\n};\n", "render",
     "class Widget {\n    render() { ... }\n}"),
    ("a.rs", "impl Foo {\n    /// New.\n    pub fn new(x: i32) -> Self { Foo { x } }\n}\n", "new",
     "impl Foo {\n    /// New.\n    pub fn new(x: i32) -> Self { ... }\n}"),
    ("a.lua", "local Row = {\n  -- By name.\n  get = function(self, name) return 1 end,\n}\n", "get",
     "Row = {\n    -- By name.\n    get = function(self, name) ... end,\n}"),
    ("a.lua", "-- Adds.\nlocal function add(a, b)\n  return a + b\nend\n", "add",
     "-- Adds.\nlocal function add(a, b) ... end"),
])
def test_definitions_are_shown_in_their_own_language(path, source, name, shown):
    # a method sits in its class in the file's syntax, the doc is a comment of that language, the
    # body is elided the way the language writes a block
    from context import outline

    found = outline.outline(syntax.language_for_path(path), source.encode(), path)
    [d] = [d for d in found.definitions if d.name == name]
    assert retrieval.format_definition(d) == shown


def test_only_top_level_imports_come_back():
    # lines that begin like an import but are not one, an import inside a function, and one inside a
    # string stay out
    text = ("import os\nfrom_date = 1\nuse_x = 2\n\n\ndef f():\n    import json\n    return json\n\n\n"
            "DOC = \"\"\"\nimport fake\n\"\"\"\nfrom .util import scale\n" + "# filler\n" * 60 + "x")
    tree = syntax.parse("python", text)
    [got] = retrieval.scopes(tree, text, len(text), text.index("# filler\n" * 10))
    assert got.text == "import os\nfrom .util import scale\n"


def test_imports_then_scope_headers_and_long_import_blocks_keep_their_end():
    text = "".join(f"import mod{i}\n" for i in range(100)) + "from .local import thing\n\n\nclass Big:\n" + \
        "    x = 1\n" * 50 + "    def method(self, a):\n" + "        y = a\n" * 30 + "        "
    tree = syntax.parse("python", text)
    [got] = retrieval.scopes(tree, text, len(text), text.index("        y = a\n" * 5))
    imports, headers = got.text.split("\n\n")
    assert headers == "class Big:\n    def method(self, a):"
    assert imports.endswith("import mod99\nfrom .local import thing") and "import mod0\n" not in imports
    assert len(imports) <= 600


def test_recent_edits_coalesce_and_render():
    rec = edits.RecentEdits()
    old = "def f(a):\n    return a\n"
    rec.record("m.py", old, old.replace("f(a)", "f(a, b)"), 7, 7, ", b", now=1.0)
    new = old.replace("f(a)", "f(a, b)")
    rec.record("m.py", new, new.replace("f(a, b)", "f(a, bc)"), 12, 12, "c", now=2.0)
    got = rec.recent()
    assert len(got) == 1 and got[0].before == "def f(a):" and got[0].after == "def f(a, bc):"
    assert edits.render(got[0]) == "@@ m.py:1 @@\n-def f(a):\n+def f(a, bc):"


def test_an_edit_in_a_long_line_or_a_long_paste_is_shown_around_the_change():
    rec = edits.RecentEdits()
    line = "".join(f"function f{i}(a,b){{return a+b*{i}}};" for i in range(20_000))  # minified: 700 KB
    at = line.index("function f12345(")
    typed = line[:at] + "var q=1;" + line[at:]
    for n in range(1, 9):  # typed a key at a time: one edit
        old, new = typed[:at] + typed[at:at + n - 1] + line[at:], typed[:at] + typed[at:at + n] + line[at:]
        rec.record("bundle.min.js", old, new, at + n - 1, at + n - 1, typed[at + n - 1], now=float(n))
    [edit] = rec.recent()
    assert edit.before == line[at - edits.EDIT_CONTEXT: at + edits.EDIT_CONTEXT]
    assert edit.after == typed[at - edits.EDIT_CONTEXT: at + 8 + edits.EDIT_CONTEXT]
    assert len(edits.render(edit)) < 1_000
    # a change far along the same line is an edit of its own, shown where it is
    far = typed.index("function f19000(")
    rec.record("bundle.min.js", typed, typed[:far] + typed[far + 8:], far, far + 8, "", now=10.0)
    assert len(rec.recent()) == 2 and rec.recent()[-1].before.startswith(typed[far - edits.EDIT_CONTEXT: far + 8])
    # a long paste shows its first lines
    small = "def f(a):\n    return a\n"
    paste = "".join(f"x{i} = {i}\n" for i in range(50_000))
    rec.record("m.py", small, small + paste, len(small), len(small), paste, now=11.0)
    assert rec.recent()[-1].after == paste[: edits.EDIT_CHARS]


def test_budget_keeps_priority_and_stable_order():
    snippets = [retrieval.Snippet("similar", "z.py", "s" * 400, 0.9),
                retrieval.Snippet("definitions", "b.py", "def b(): ...", 1.0),
                retrieval.Snippet("definitions", "a.py", "def a(): ...", 0.5),
                retrieval.Snippet("definitions", "a.py", "def a(): ...", 0.5)]
    kept = assemble.fit(snippets, budget=40, count_tokens=count)
    assert [s.path for s in kept] == ["a.py", "b.py"]  # the big similar window did not fit


@pytest.mark.parametrize("order, expected", [
    ("source", ["def a", "def b", "a(1)", "win x", "win y", "@@ e", "class C"]),
    # similar code first, then definitions and callers with the best scored last, nearest the cursor
    ("relevance", ["win y", "win x", "def b", "def a", "a(1)", "@@ e", "class C"]),
])
def test_snippet_order(order, expected):
    snippets = [retrieval.Snippet("similar", "x.py", "win x", 0.5), retrieval.Snippet("similar", "y.py", "win y", 0.3),
                retrieval.Snippet("definitions", "b.py", "def b", 0.5),
                retrieval.Snippet("definitions", "a.py", "def a", 1.0),
                retrieval.Snippet("usages", "u.py", "a(1)", 1.0), retrieval.Snippet("edits", "e.py", "@@ e"),
                retrieval.Snippet("scopes", "", "class C")]
    kept = assemble.fit(snippets, budget=1000, count_tokens=count, order=order)
    assert [s.text for s in kept] == expected


def test_secrets_are_redacted_from_snippets(tmp_path):
    (tmp_path / "conf.py").write_text('API_TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"\n'
                                      "def connect(token=API_TOKEN):\n    pass\n")
    idx = WorkspaceIndex([tmp_path])
    idx.build()
    texts = [s.text for s in retrieval.definitions(idx, ["API_TOKEN", "connect"], "main.py")]
    assert texts and not any("ghp_" in t for t in texts)


def test_prompt_with_context_is_stable_across_keystrokes(index):
    t = prompt.TEMPLATES["qwen2.5-coder"]
    cfg = assemble.ContextConfig()
    src = assemble.Sources(index=index, repo_name="shop")
    base = "from shop.pricing import apply_discount\n\n\ndef total(price):\n    return apply_discount("
    p1, block = assemble.build(t, base + "\n", len(base), "shop/checkout.py", "python", cfg, src,
                               prompt.PromptOptions(), count)
    assert p1.text.startswith("<|repo_name|>shop\n<|file_sep|>shop/pricing.py\n")
    assert "<|file_sep|>shop/checkout.py\n<|fim_prefix|>from shop.pricing" in p1.text
    assert "definitions" in p1.sources
    typed = base + "pri"
    p2, block2 = assemble.build(t, typed + "\n", len(typed), "shop/checkout.py", "python", cfg, src,
                                prompt.PromptOptions(), count, block=block, anchor=p1.prefix_start)
    assert block2 is block
    assert p2.text[: p2.head_chars].startswith(p1.text[: p1.head_chars])


def test_prefix_only_config_has_no_context_and_no_suffix(index):
    t = prompt.TEMPLATES["qwen2.5-coder"]
    text = "x = apply_discount(\ny = 2\n"
    p, _ = assemble.build(t, text, text.index("\n"), "a.py", "python", assemble.ContextConfig.prefix_only(),
                          assemble.Sources(index=index), prompt.PromptOptions(), count)
    assert p.sources == ["prefix"] and p.suffix == ""
    assert p.text == "<|fim_prefix|>x = apply_discount(<|fim_suffix|><|fim_middle|>"


@pytest.mark.parametrize("marked,expected", [
    ("total = apply_discount(<CURSOR>", "apply_discount"),
    ("cart.add_item(sku, <CURSOR>", "add_item"),
    ("x = f(g(1), <CURSOR>", "f"),
    ("x = f(\n    a,\n    <CURSOR>", "f"),
    ("x = f([1, <CURSOR>", None),  # in a list, not directly in the call's arguments
    ("if (a and <CURSOR>", None),  # a parenthesised expression, no call
    ("x = f(1) + <CURSOR>", None),  # the call is closed
    ("print(\"(\", <CURSOR>", None),  # a bracket in a string misleads it: no snippet rather than a wrong one
    ("    def make(self, vars=N<CURSOR>", None),  # a definition's parameters: no call
    ("async def make(\n    a,\n    <CURSOR>", None),
    ("function make(a, <CURSOR>", None),
    ("class Point(Base, <CURSOR>", None),
    ("export function* walk(tree, <CURSOR>", None),
    ("undef(<CURSOR>", "undef"),  # a name that ends like a keyword is still a call
    ("self.define(<CURSOR>", "define"),
])
def test_open_call(marked, expected):
    assert retrieval.open_call(marked.split("<CURSOR>")[0]) == expected


def test_call_lines_keep_calls_not_definitions_or_comments():
    from context.outline import call_lines, calls_in

    source = (b"def connect(host, port):\n    return open_socket(host, port)\n"
              b"# connect(commented, out)\nconn = connect('db', 5432)\nconn = connect('db', 5432)\n"
              b"other = connect('cache', 6379)\nthird = connect('x', 1)\n" + b"connect(" + b"a, " * 80 + b")\n")
    text, names = call_lines(source)
    assert calls_in(text, "connect") == ["conn = connect('db', 5432)", "other = connect('cache', 6379)"]  # distinct
    assert calls_in(text, "open_socket") == ["return open_socket(host, port)"]
    assert set(names) == {"connect", "open_socket"}
    assert text.count("\n") == 2  # each line kept once, only the lines shown
    assert call_lines(b"print(conn)\nlen(x)\n") == ("", ())  # `usages` never shows callers of builtins


@pytest.mark.parametrize(("language", "source", "name", "calls"), [
    ("java", "class Billing {\n    @Override\n    public static int charge(String id,\n        int cents) {\n"
             "        return charge(id, 0);\n    }\n}\n", "charge", ["return charge(id, 0);"]),
    ("java", "class Billing {\n    Billing(int x) { }\n    static Billing make() { return new Billing(1); }\n}\n",
     "Billing", ["static Billing make() { return new Billing(1); }"]),
    ("lua", "local M = {}\nfunction M.left_pad(text, width)\n  return M.left_pad(text, 0)\nend\n", "left_pad",
     ["return M.left_pad(text, 0)"]),
    ("go", "package g\n\nfunc (r *Ring) Push(v int) {\n\tr.Push(v)\n}\n", "Push", ["r.Push(v)"]),
    ("typescript", "class Subject {\n  next(value: T): void {\n    this.next(value);\n  }\n}\n", "next",
     ["this.next(value);"]),
    ("cpp", "// Scales.\nvoid scale_vector(float* data, int n);\nint main() { scale_vector(d, 1); }\n", "scale_vector",
     ["int main() { scale_vector(d, 1); }"]),
    ("python", "class Foo:\n    pass\n\nf = Foo()\n", "Foo", ["f = Foo()"]),  # a header without `Foo(`
    ("python", "def get(self, key):\n    return super().get(key)\n", "get", ["return super().get(key)"]),
])
def test_a_definition_header_is_not_a_call_of_what_it_defines(language, source, name, calls):
    # a Java or C method, a Lua `function M.f(`, a Go method, a class method: the regex alone took
    # their headers for calls, and `usages` showed a function's own header as how others call it
    from context.outline import call_lines, calls_in, outline

    data = source.encode()
    text, _ = call_lines(data, outline(language, data, "f").definitions)
    assert calls_in(text, name) == calls


def test_a_minified_line_is_not_read_once_per_definition_on_it(monkeypatch):
    # 600 KB of minified JavaScript: looking for each of its 12,000 definitions' headers on the one
    # line, which `call_lines` never keeps, took a minute
    from context import outline as outline_module

    data = ";".join(f"function f{i}(a,b){{return g{i % 7}(a,b)}}" for i in range(2000)).encode() + b"\nrun(f1(2))\n"
    definitions = outline_module.outline("javascript", data, "bundle.min.js").definitions
    assert len(definitions) == 2000
    searched: list[bytes] = []
    real = outline_module._name_call_end
    monkeypatch.setattr(outline_module, "_name_call_end", lambda line, name: searched.append(name) or real(line, name))
    text, names = outline_module.call_lines(data, definitions)
    assert searched == [] and text == "run(f1(2))" and set(names) == {"run", "f1"}


def _calls_per_name(source: bytes) -> dict[str, list[str]]:
    """The reference `call_lines` is measured against: per name, its first two distinct call lines."""
    from context.outline import CALL, COMMON, MAX_CALL_LINE

    found: dict[str, list[str]] = {}
    for raw in source.split(b"\n"):
        line = raw.strip()
        if len(line) > MAX_CALL_LINE or line.startswith((b"#", b"//", b"--", b"*")):
            continue
        for name in CALL.findall(line):
            lines = found.setdefault(name.decode(), [])
            text = line.decode("utf-8", "replace")
            if name.decode() not in COMMON and len(lines) < 2 and text not in lines:
                lines.append(text)
    return {n: lines for n, lines in found.items() if lines}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["f(", "g (", "h(", "print(", "def f(", "x", " ", "é", "\udcff", "# ",
                                          ")", "f(a)", "f\xa0(", "\x1c"]), max_size=5).map("".join), max_size=12))
def test_call_lines_give_each_name_its_first_two_distinct_lines(lines):
    from context.outline import call_lines, calls_in

    source = "\n".join(lines).encode("utf-8", "surrogateescape")  # "\udcff": a byte that is not UTF-8
    text, names = call_lines(source)
    expected = _calls_per_name(source)
    assert set(names) == set(expected)
    assert {n: calls_in(text, n) for n in names} == expected
    assert len(text.split("\n")) == len(set(text.split("\n")))  # no line twice


def test_usages_show_how_other_files_call_a_workspace_function(tmp_path):
    (tmp_path / "shop").mkdir()
    (tmp_path / "web").mkdir()
    (tmp_path / "shop" / "pricing.py").write_text("def apply_discount(price, percent):\n    return price\n")
    (tmp_path / "shop" / "cart.py").write_text("total = apply_discount(cart.total, 10)\n")
    key = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    (tmp_path / "web" / "views.py").write_text(f'apply_discount(request.price, 5, "{key}")\nlen(x)\n')
    (tmp_path / "shop" / "checkout.py").write_text("x = apply_discount(order.price, 20)\n")
    idx = WorkspaceIndex([tmp_path])
    idx.build()
    got = retrieval.usages(idx, "apply_discount", "shop/checkout.py")
    assert [s.path for s in got] == ["shop/cart.py", "web/views.py"]  # same folder first; not the current file
    assert got[0].text == "total = apply_discount(cart.total, 10)" and got[0].source == "usages"
    assert "ghp_" not in got[1].text and "request.price, 5" in got[1].text
    assert retrieval.usages(idx, "len", "shop/checkout.py") == []  # not a workspace function
    assert retrieval.usages(idx, None, "shop/checkout.py") == []
    # the index follows the files: a caller that stops calling it is gone
    (tmp_path / "shop" / "cart.py").write_text("total = 0\n")
    idx.update_path(tmp_path / "shop" / "cart.py")
    assert [s.path for s in retrieval.usages(idx, "apply_discount", "shop/checkout.py")] == ["web/views.py"]
    idx.remove_path(tmp_path / "web")
    assert retrieval.usages(idx, "apply_discount", "shop/checkout.py") == []


def test_a_member_and_its_class_are_one_snippet_under_the_class_header(tmp_path):
    # `Billing.chargeCustomer(`: the class's own snippet said nothing its member's did not
    files = {
        "Billing.java": "/** Bills customers. */\npublic class Billing extends Base {\n"
                        "    /** Charges. */\n    public int charge(String id, int cents) {\n        return cents;\n"
                        "    }\n    public void refund(String id) {\n    }\n}\n",
        "store.go": "package s\n\n// Store keeps records.\ntype Store interface {\n\tPut(key string) error\n}\n\n"
                    "type Server struct {\n\taddr string\n}\n\nfunc (s *Server) Run() error {\n\treturn nil\n}\n",
        "shop.py": "class Cart(Base):\n    \"\"\"A cart.\"\"\"\n\n    def total(self, tax):\n        return 0\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    idx = WorkspaceIndex([tmp_path])
    idx.build()
    got = retrieval.definitions(idx, ["charge", "refund", "Billing"], "Main.java")
    assert [s.text for s in got] == [
        "/** Bills customers. */\npublic class Billing extends Base {\n    /** Charges. */\n"
        "    public int charge(String id, int cents) { ... }\n\n    public void refund(String id) { ... }\n}"]
    assert got[0].row == 3 and got[0].score == 1.0  # where the first member was, as near as it was
    [store] = retrieval.definitions(idx, ["Put", "Store"], "main.go")
    assert store.text == "// Store keeps records.\ntype Store interface {\n    Put(key string) error\n}"
    # apart from their type: a Go method with a receiver; Python keeps its `class K:` wrapper
    assert len(retrieval.definitions(idx, ["Run", "Server"], "main.go")) == 2
    assert len(retrieval.definitions(idx, ["total", "Cart"], "main.py")) == 2


def test_usages_never_show_the_definition_itself(tmp_path):
    # seen with `tacit explain` on a Java workspace: the `usages` of `chargeCustomer` were its own header
    (tmp_path / "Billing.java").write_text(
        "public class Billing {\n    public static int chargeCustomer(String id, int cents) {\n"
        "        return cents;\n    }\n}\n")
    (tmp_path / "Refunds.java").write_text(
        "class Refunds {\n    int undo() { return Billing.chargeCustomer(\"c-1\", -500); }\n}\n")
    idx = WorkspaceIndex([tmp_path])
    idx.build()
    got = retrieval.usages(idx, "chargeCustomer", "Main.java")
    assert [(s.path, s.text) for s in got] == [
        ("Refunds.java", 'int undo() { return Billing.chargeCustomer("c-1", -500); }')]
    assert idx.callers("chargeCustomer") == ["Refunds.java"]


def test_usages_go_into_the_prompt_only_inside_a_call(index, tmp_path):
    (tmp_path / "shop" / "orders.py").write_text("price = apply_discount(order.price, 15)\n")
    index.update_path(tmp_path / "shop" / "orders.py")
    t = prompt.TEMPLATES["qwen2.5-coder"]
    src = assemble.Sources(index=index, repo_name="shop")
    at_call = "from shop.pricing import apply_discount\n\nx = apply_discount("
    p, _ = assemble.build(t, at_call, len(at_call), "shop/checkout.py", "python", assemble.ContextConfig(), src,
                          prompt.PromptOptions(), count)
    assert "usages" in p.sources and "<|file_sep|>shop/orders.py\nprice = apply_discount(order.price, 15)\n" in p.text
    # definitions first, then callers, then the current file (a stable order for the KV cache)
    assert p.text.index("shop/pricing.py") < p.text.index("shop/orders.py") < p.text.index("shop/checkout.py")
    off = assemble.ContextConfig(usages=False)
    p, _ = assemble.build(t, at_call, len(at_call), "shop/checkout.py", "python", off, src,
                          prompt.PromptOptions(), count)
    assert "usages" not in p.sources and "order.price" not in p.text
    after = "from shop.pricing import apply_discount\n\nx = apply_discount(1, 2)\ny = "
    p, _ = assemble.build(t, after, len(after), "shop/checkout.py", "python", assemble.ContextConfig(), src,
                          prompt.PromptOptions(), count)
    assert "usages" not in p.sources


SELECTIVE = [
    # (selective, text with <CURSOR>, sources expected, a snippet line expected, text not expected)
    ("call", "from shop.pricing import apply_discount, Cart\n\nx = apply_discount(<CURSOR>",
     {"definitions", "usages"}, "def apply_discount(price: float", None),
    ("call", "from shop.pricing import apply_discount, Cart\n\nx = apply_discount(1, 2)\ny = <CURSOR>",
     set(), None, "def apply_discount"),
    ("call", "from shop.pricing import apply_discount\n\nx = len(<CURSOR>", set(), None, "def apply_discount"),
    ("call", "from shop.pricing import apply_discount\n\nx = Cart().add_item(apply_discount(<CURSOR>",
     {"definitions", "usages"}, "def apply_discount(price: float", None),
    ("callee", "cart = Cart()\nprice = apply_discount(<CURSOR>", {"definitions", "usages"},
     "def apply_discount(price: float", "class Cart"),
    ("call", "cart = Cart()\nprice = apply_discount(<CURSOR>", {"definitions", "usages"}, "class Cart", None),
    ("off", "from shop.pricing import apply_discount\n\nx = apply_discount(1, 2)\ny = <CURSOR>",
     {"definitions"}, "def apply_discount(price: float", None),
]


@pytest.mark.parametrize("selective,marked,want,shown,hidden", SELECTIVE)
def test_selective_retrieval_shows_other_files_only_inside_a_workspace_call(index, tmp_path, selective, marked,
                                                                            want, shown, hidden):
    (tmp_path / "shop" / "orders.py").write_text("price = apply_discount(order.price, 15)\n")
    index.update_path(tmp_path / "shop" / "orders.py")
    t = prompt.TEMPLATES["qwen2.5-coder"]
    src = assemble.Sources(index=index, repo_name="shop")
    text = marked.replace("<CURSOR>", "")
    cfg = assemble.ContextConfig(selective=selective)
    p, _ = assemble.build(t, text, marked.index("<CURSOR>"), "shop/checkout.py", "python", cfg, src,
                          prompt.PromptOptions(), count)
    assert set(p.sources) - {"prefix", "suffix", "scopes"} == want
    if shown:
        assert shown in p.text
    if hidden:
        assert hidden not in p.text


def test_selective_block_is_rebuilt_when_the_cursor_enters_and_leaves_a_workspace_call(index):
    t = prompt.TEMPLATES["qwen2.5-coder"]
    cfg = assemble.ContextConfig(selective="call", refresh_s=0)
    src = assemble.Sources(index=index, repo_name="shop")
    head = "from shop.pricing import apply_discount\n\n\ndef total(price):\n    "
    block = None
    steps = [("x = ", False), ("x = apply_discount(", True), ("x = apply_discount(pri", True),
             ("x = apply_discount(price, 5)\n    ", False), ("x = apply_discount(price, 5)\n    y = len(", False)]
    built = []
    for typed, want in steps:
        text = head + typed
        p, new = assemble.build(t, text, len(text), "shop/checkout.py", "python", cfg, src, prompt.PromptOptions(),
                                count, block=block, anchor=block.anchor if block else None)
        assert ("def apply_discount(" in p.text) == want, typed
        built.append(new is not block)
        block = new
    # built at first, rebuilt on entering the call, kept while typing its arguments, rebuilt on the next line
    # (which left the call), kept for a call of a function no workspace file defines
    assert built == [True, True, False, True, False]


def test_retrieval_stays_within_the_language_family(tmp_path):
    (tmp_path / "util.lua").write_text("local M = {}\nfunction M.default(opts)\n  return opts\nend\n"
                                       "local x = default(1)\nreturn M\n")
    (tmp_path / "conf.py").write_text("def default(name, fallback=None):\n    return fallback\n")
    (tmp_path / "use.py").write_text("v = default('a', 2)\n")
    (tmp_path / "api.ts").write_text("export function fetchUser(id: string): Promise<User> {\n  return get(id)\n}\n")
    idx = WorkspaceIndex([tmp_path])
    idx.build()
    assert {d.path for d in idx.lookup("default")} == {"util.lua", "conf.py"}
    got = retrieval.definitions(idx, ["default"], "app.py")
    assert [s.path for s in got] == ["conf.py"]  # not the Lua function of the same name
    assert [s.path for s in retrieval.usages(idx, "default", "app.py")] == ["use.py"]
    assert [s.path for s in retrieval.definitions(idx, ["default"], "init.lua")] == ["util.lua"]
    assert [s.path for s in retrieval.definitions(idx, ["fetchUser"], "main.jsx")] == ["api.ts"]  # JS and TS
    assert {s.path for s in retrieval.definitions(idx, ["default"], "untitled")} == {"util.lua", "conf.py"}
    # similar windows come from open documents of the same family too
    docs = {"util.lua": "function M.default(opts) return opts end\n", "conf.py": "def default(opts): return opts\n"}
    cfg = assemble.ContextConfig(definitions=False, usages=False, edits=False, scopes=False)
    text = "x = default(opts)\n"
    got = assemble.gather(cfg, assemble.Sources(documents=docs), text, len(text), "app.py", 0, count)
    assert [(s.source, s.path) for s in got] == [("similar", "conf.py")]


def test_definitions_resolve_imports_and_cap_ambiguous_names(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "auth.py").write_text("def basic(user, password):\n    return user\n")
    (tmp_path / "pkg" / "legacy.py").write_text("def basic(token):\n    return token\n")
    for i in range(4):
        (tmp_path / "pkg" / f"store{i}.py").write_text(f"class Store{i}:\n    def get(self, key{i}):\n        pass\n")
    (tmp_path / "pkg" / "helpers.py").write_text("def get(url, timeout=1):\n    return url\n")
    (tmp_path / "pkg" / "client.py").write_text("from .auth import basic\n\nbasic(u, p)\n")
    idx = WorkspaceIndex([tmp_path])
    idx.build()
    # imported from .auth: the definition of that module only, not the namesake in legacy.py
    got = retrieval.definitions(idx, ["basic"], "pkg/client.py")
    assert [s.path for s in got] == ["pkg/auth.py"]
    # not imported: both namesakes
    assert {s.path for s in retrieval.definitions(idx, ["basic"], "pkg/other.py")} == {"pkg/auth.py", "pkg/legacy.py"}
    # five `get`s: at most two, the top-level function first
    gets = retrieval.definitions(idx, ["get", "basic"], "pkg/other.py")
    assert [s.path for s in gets][:2] == ["pkg/helpers.py", "pkg/store0.py"]
    assert [s.path for s in gets][2:] == ["pkg/auth.py", "pkg/legacy.py"]
    assert retrieval.imported_from([".auth:basic", "./lib/util.js:get", "../core/index:run", "os"]) == {
        "basic": "auth", "get": "util", "run": "core"}


FAR = "# filler\n" * 40
CALLS_HERE = [
    # (document with <CURSOR>, and <W> </W> around what the prompt shows; name; lines expected)
    # above the window and below the suffix the prompt shows, returned in file order
    ("opt = Option(['--a'], exists=True)\n" + FAR + "<W>x = Option(<CURSOR>\n</W>" + FAR +
     "y = Option(['--b'], nargs=2)\n", "Option",
     ["opt = Option(['--a'], exists=True)", "y = Option(['--b'], nargs=2)"]),
    # a line the prompt shows is not repeated; a definition, a comment and another name's call are not calls
    ("def Option(name):\n# Option(old)\nz = Optional(1)\n" + FAR + "<W>a = Option('v')\nx = Option(<CURSOR>\n</W>"
     + FAR + "    a = Option('v')\n", "Option", []),
    # definitions with their modifiers are not calls either, in any language; a call of a name like `fn` is
    ("export function Option(name) {\nexport default function Option(a) {\nasync def Option(b):\n"
     "pub(crate) fn Option(c) {}\nfunc (o *T) Option(d) {}\nlocal function Option(f)\nfn(Option(e))\n"
     + FAR + "<W>x = Option(<CURSOR>\n</W>",
     "Option", ["fn(Option(e))"]),
    # the nearest three, in file order; indentation kept
    ("".join(f"    f(arg{i})\n" for i in range(6)) + FAR + "<W>    f(<CURSOR></W>", "f",
     ["    f(arg3)", "    f(arg4)", "    f(arg5)"]),
    # a line written twice counts once, where it is nearest
    ("f(dup)\n" + FAR + "f(a)\nf(b)\nf(c)\n<W>x = f(<CURSOR>\n</W>    f(dup)\n", "f", ["f(b)", "f(c)", "    f(dup)"]),
    # a line the window or the shown suffix cuts in two is partly shown: not offered
    ("f(cut_ab<W>ove)\nf(<CURSOR>)\nf(cut_be</W>low)\n" + FAR + "f(far)\n", "f", ["f(far)"]),
    # names everyone calls and no call at all give nothing
    ("print('x')\n" + FAR + "<W>print(<CURSOR></W>", "print", []),
    ("x = 1\n<W>y = <CURSOR></W>", None, []),
]


@pytest.mark.parametrize("marked,name,want", CALLS_HERE)
def test_calls_here_are_this_files_calls_the_prompt_does_not_show(marked, name, want):
    plain = marked.replace("<W>", "").replace("</W>", "")
    window_start = marked.index("<W>")
    visible_end = marked.replace("<W>", "").replace("<CURSOR>", "").index("</W>")
    offset = plain.index("<CURSOR>")
    text = plain.replace("<CURSOR>", "")
    assert retrieval.calls_here(text, name, window_start, visible_end, offset) == want


def test_calls_here_reach_the_prompt_between_imports_and_scope_headers():
    # a long test file: how it calls `Option` far above, and below the suffix the prompt shows
    head = ("import click\n\n\nclass TestOptions:\n    def test_first(self):\n"
            "        click.Option(['--a'], exists=True)\n")
    body = "".join(f"        v{i} = {i}\n" for i in range(200))
    tail = "\n    def test_last(self):\n        click.Option(['--z'], hidden=True)\n"
    marked = head + "\n    def test_mid(self):\n" + body + "        click.Option(<CURSOR>)\n" + body + tail
    text, offset = marked.replace("<CURSOR>", ""), marked.index("<CURSOR>")
    src = assemble.Sources(tree=syntax.parse("python", text), repo_name="demo")
    t = prompt.TEMPLATES["qwen2.5-coder"]
    opts = prompt.PromptOptions(prefix_chars=3000, prefix_keep_chars=2000)
    p, _ = assemble.build(t, text, offset, "tests/test_options.py", "python", assemble.ContextConfig(), src, opts,
                          count)
    assert "scopes" in p.sources and "file_calls" in p.sources and p.prefix_start > 0
    lines = p.text.split("<|fim_prefix|>", 1)[1].split("\n")
    at = {ln.strip(): i for i, ln in enumerate(lines)}
    want = ["import click", "click.Option(['--a'], exists=True)", "click.Option(['--z'], hidden=True)",
            "class TestOptions:", "def test_mid(self):"]
    assert [at[w] for w in want] == sorted(at[w] for w in want)
    # switched off
    off = assemble.ContextConfig(file_calls=False)
    p, _ = assemble.build(t, text, offset, "tests/test_options.py", "python", off, src, opts, count)
    assert "exists=True" not in p.text and "hidden=True" not in p.text
    assert "scopes" in p.sources and "file_calls" not in p.sources  # the imports and headers alone


def test_block_is_rebuilt_on_a_new_line_calling_what_this_file_calls_out_of_sight(index):
    t = prompt.TEMPLATES["qwen2.5-coder"]
    cfg = assemble.ContextConfig(refresh_s=0)
    opts = prompt.PromptOptions(prefix_chars=3000, prefix_keep_chars=2000)
    head = "def build():\n    meter = Gauge('cm', limit=9)\n" + "".join(f"    v{i} = {i}\n" for i in range(300))
    block, built = None, []
    steps = ("    x = 1\n    ", "    x = 1\n    y = Gauge(", "    x = 1\n    y = Gauge('m', limit=2)\n    z = Gauge(",
             "    x = 1\n    y = Gauge('m', limit=2)\n    z = Gauge('k')\n    w = Gauge(")
    for typed in steps:
        text = head + typed
        src = assemble.Sources(index=index, tree=syntax.parse("python", text), repo_name="shop")
        p, new = assemble.build(t, text, len(text), "shop/meters.py", "python", cfg, src, opts, count,
                                block=block, anchor=block.anchor if block else None)
        built.append((new is not block, "Gauge('cm', limit=9)" in p.text))
        block = new
    # built without it; kept on the same line (a rebuild re-reads the whole prompt); rebuilt on a new
    # line in a call of `Gauge`, whose far call the block lacked; no rebuild when the block shows it
    assert built == [(True, False), (False, False), (True, True), (False, True)]
