"""`tacit explain`: the prompt the server would build at a position, with its sources marked."""

from pathlib import Path

from lsp_server.explain import explain


def workspace(root: Path) -> Path:
    (root / ".git").mkdir()
    (root / "shop").mkdir()
    (root / "shop" / "pricing.py").write_text('def apply_discount(price, percent):\n    """Cut the price."""\n'
                                              "    return price\n")
    (root / "shop" / "cart.py").write_text("total = apply_discount(cart.total, 10)\n")
    checkout = root / "shop" / "checkout.py"
    checkout.write_text("from shop.pricing import apply_discount\n\nx = apply_discount(\n\n"
                        "def pay(order):\n    \n")
    return checkout


def test_explain_marks_the_sources_the_server_would_use(tmp_path):
    out = explain(workspace(tmp_path), 3, 20).split("\n")
    assert out[0].startswith("# prompt for shop/checkout.py:3:20") and "definitions" in out[0]
    assert "# [definitions] shop/pricing.py" in out and "# [usages] shop/cart.py" in out
    prompt = "\n".join(out)
    assert "<|file_sep|>shop/cart.py\ntotal = apply_discount(cart.total, 10)\n" in prompt
    # token healing: the "(" is left for the model to write again; the call's context is still found
    assert "x = apply_discount<|fim_suffix|>" in prompt
    assert "# token healing: '(' is left out; the model's output must start with it" in out


def test_explain_heals_the_indentation_like_the_server(tmp_path):
    out = explain(workspace(tmp_path), 6, 5, index_workspace=False)
    assert "the indentation's last character (' ') is left for the model to write" in out
    assert "def pay(order):\n   <|fim_suffix|>" in out  # three of the four spaces: the model writes the fourth


def test_explain_marks_the_files_own_calls_inside_the_scopes_block(tmp_path):
    checkout = workspace(tmp_path)
    # the file calls apply_discount far below the cursor, where the prompt does not reach
    checkout.write_text("from shop.pricing import apply_discount\n\nx = apply_discount(\n"
                        + "".join(f"v{i} = {i}\n" for i in range(40)) + "y = apply_discount(order.total, 5)\n")
    out = explain(checkout, 3, 20).split("\n")
    assert "file_calls" in out[0] and "# [scopes + file_calls] shop/checkout.py" in out
    assert "y = apply_discount(order.total, 5)" in "\n".join(out)
