"""Retrieval sources, recent edits and the context budgeter, one at a time."""

from pathlib import Path

import pytest

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
])
def test_symbols_near(marked, expected):
    prefix = marked.split("<CURSOR>")[0]
    assert retrieval.symbols_near(prefix) == expected


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


def test_scope_headers_when_the_window_cut_them():
    text = "class Big:\n" + "    x = 1\n" * 50 + "    def method(self, a):\n" + "        y = a\n" * 30 + "        "
    tree = syntax.parse("python", text)
    window_start = text.index("        y = a\n" * 5)
    got = retrieval.scopes(tree, text, len(text), window_start)
    assert got and got[0].text == "class Big:\n    def method(self, a):"
    assert retrieval.scopes(tree, text, len(text), 0) == []


def test_recent_edits_coalesce_and_render():
    rec = edits.RecentEdits()
    old = "def f(a):\n    return a\n"
    rec.record("m.py", old, old.replace("f(a)", "f(a, b)"), 7, 7, ", b", now=1.0)
    new = old.replace("f(a)", "f(a, b)")
    rec.record("m.py", new, new.replace("f(a, b)", "f(a, bc)"), 12, 12, "c", now=2.0)
    got = rec.recent()
    assert len(got) == 1 and got[0].before == "def f(a):" and got[0].after == "def f(a, bc):"
    assert edits.render(got[0]) == "@@ m.py:1 @@\n-def f(a):\n+def f(a, bc):"


def test_budget_keeps_priority_and_stable_order():
    snippets = [retrieval.Snippet("similar", "z.py", "s" * 400, 0.9),
                retrieval.Snippet("definitions", "b.py", "def b(): ...", 1.0),
                retrieval.Snippet("definitions", "a.py", "def a(): ...", 0.5),
                retrieval.Snippet("definitions", "a.py", "def a(): ...", 0.5)]
    kept = assemble.fit(snippets, budget=40, count_tokens=count)
    assert [s.path for s in kept] == ["a.py", "b.py"]  # the big similar window did not fit


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
