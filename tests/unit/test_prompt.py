from context import prompt


def test_fim_render():
    t = prompt.TEMPLATES["qwen2.5-coder"]
    assert t.render("ab", "cd") == "<|fim_prefix|>ab<|fim_suffix|>cd<|fim_middle|>"


def test_prefix_only_render_ignores_suffix():
    t = prompt.template_for("gemma3")
    assert not t.fim and t.render("ab", "cd") == "ab"


def test_unknown_family_is_prefix_only():
    assert prompt.template_for(None).name == "prefix-only"
    assert prompt.template_for("starcoder2").name == "starcoder2"


def test_anchor_is_stable_while_typing():
    opts = prompt.PromptOptions(prefix_chars=100, prefix_keep_chars=60)
    doc = "".join(f"line {i:03d}\n" for i in range(30))  # 270 chars
    first = prompt.anchor_offset(doc, None, opts)
    assert first > 0 and doc[first - 1] == "\n" and len(doc) - first <= 60
    # typing at the end keeps the window start until the window outgrows its budget
    anchor = first
    typed = doc
    moves = 0
    for ch in "x" * 35:
        typed += ch
        new = prompt.anchor_offset(typed, anchor, opts)
        moves += new != anchor
        anchor = new
    assert moves == 0
    typed += "y" * 20
    assert prompt.anchor_offset(typed, anchor, opts) != anchor  # outgrew: jumps forward once


def test_a_window_without_line_starts_stays_put_while_typing():
    # a minified file: one line; a start right behind the cursor moved with every keystroke, and the
    # engine read the whole window again each time
    opts = prompt.PromptOptions(prefix_chars=100, prefix_keep_chars=60)
    typed = "x" * 270 + "\n" + "function f(a){return a};" * 20
    anchor, starts = None, []
    for ch in "var y=f(1);" * 10:
        typed += ch
        anchor = prompt.anchor_offset(typed, anchor, opts)
        assert 60 <= len(typed) - anchor <= 100  # what the window holds stays within its budget
        starts.append(anchor)
    assert len(set(starts)) == 4  # the first start, then a jump each 40 keystrokes (not one each)
    assert prompt.anchor_offset(typed, None, opts) == anchor  # the same start without the last one


def test_cut_suffix_bounds_lines_and_chars():
    opts = prompt.PromptOptions(suffix_lines=2, suffix_chars=1000)
    assert prompt.cut_suffix("a\nb\nc\nd\n", opts) == "a\nb\nc"
    opts = prompt.PromptOptions(suffix_lines=10, suffix_chars=3)
    assert prompt.cut_suffix("abcdef", opts) == "abc"


def test_build_records_sources():
    t = prompt.TEMPLATES["qwen2.5-coder"]
    p = prompt.build(t, "def f():\n    return g(", "x)\nprint(1)\n", None, prompt.PromptOptions())
    assert p.sources == ["prefix", "suffix"] and p.prefix_start == 0
    # the rest of the cursor's line goes in, the next line does not (suffix_lines=0)
    assert p.text.startswith("<|fim_prefix|>def f()") and p.text.endswith("<|fim_suffix|>x)<|fim_middle|>")
    p = prompt.build(t, "def f():\n    ", "\nprint(1)\n", None, prompt.PromptOptions())
    assert p.sources == ["prefix"] and p.text.endswith("<|fim_suffix|><|fim_middle|>")


def test_head_is_the_prompt_up_to_the_cursor():
    for name in ("qwen2.5-coder", "prefix-only", "starcoder2"):
        t = prompt.TEMPLATES[name]
        p = prompt.build(t, "x = 1\ny = ", "\nz = 3\n", None, prompt.PromptOptions())
        assert p.text[: p.head_chars].endswith("x = 1\ny = ")
