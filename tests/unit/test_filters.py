"""Each stream filter alone, table-driven."""

import pytest

from lsp_server.pipeline import filters


def run(gen):
    return "".join(gen)


@pytest.mark.parametrize("pieces,stops,expected", [
    (["ab", "c<|end", "oftext|>zz"], ["<|endoftext|>"], "abc"),
    (["hello"], ["<|x|>"], "hello"),
    (["<|x|>rest"], ["<|x|>"], ""),
    (["a<", "|x", "|>b"], ["<|x|>"], "a"),
    (["no stops"], [], "no stops"),
])
def test_stop_strings(pieces, stops, expected):
    assert run(filters.stop_strings(pieces, stops)) == expected


def test_stop_strings_hold_back_only_what_may_become_a_stop():
    # a finished line waited for as many more characters as the longest stop string has
    seen: list[str] = []

    def model():
        for piece in ["foo()", "\n", "  x <", "|end", "ofte", "xt|>", "never"]:
            seen.append(piece)
            yield piece

    out = filters.stop_strings(model(), ["<|endoftext|>", "<|file_sep|>"])
    assert next(out) == "foo()" and next(out) == "\n" and seen == ["foo()", "\n"]  # at once
    assert next(out) == "  x " and list(out) == [] and "never" not in seen  # `<` held, then the stop


def test_lines_regroups_pieces():
    assert list(filters.lines(["a\nb", "c\n", "d"])) == ["a\n", "bc\n", "d"]


@pytest.mark.parametrize("lines,expected", [
    (["x = 1\n", "y = 2\n"], ["x = 1"]),
    (["\n", "y = 2\n"], []),
    (["tail"], ["tail"]),
])
def test_first_line(lines, expected):
    assert list(filters.first_line(lines)) == expected


@pytest.mark.parametrize("lines,base,indent_lang,expected", [
    # python: a dedent below the block ends it
    (["a = 1\n", "    b = 2\n", "c = 3\n"], 4, True, ["a = 1\n", "    b = 2\n"]),
    (["\n", "    return x\n", "\n", "def g():\n"], 4, True, ["\n", "    return x\n", "\n"]),
    # braces: an unmatched closer ends the block
    (["a();\n", "if (x) {\n", "  b();\n", "}\n", "}\n", "more();\n"], 2, False,
     ["a();\n", "if (x) {\n", "  b();\n", "}\n"]),
    # a statement before the block's closer on its line is kept, cut before the closer
    (["a();\n", "  return d; }\n", "more();\n"], 2, False, ["a();\n", "  return d;"]),
    (["var c=a+b;", "if(c){c++}", "return d}", "function g(){"], 0, False, ["var c=a+b;", "if(c){c++}", "return d"]),
    (["a();\n", "} else {\n"], 2, False, ["a();\n"]),
])
def test_block_end(lines, base, indent_lang, expected):
    assert list(filters.block_end(lines, base, indent_lang)) == expected


def test_max_lines():
    assert list(filters.max_lines(["1\n", "2\n", "3\n"], 2)) == ["1\n", "2\n"]


def test_stop_at_suffix():
    suffix = "\n    return result\n"
    lines = ["x = compute()\n", "    log(x)\n", "    return result\n", "junk\n"]
    assert list(filters.stop_at_suffix(lines, suffix)) == lines[:2]


@pytest.mark.parametrize("lines,previous,expected", [
    (["a = 1\n"] * 5, "", ["a = 1\n", "a = 1\n"]),
    (["foo(bar)\n", "x\n"], "foo(bar)", []),
    (["}\n", "}\n", "}\n"], "", ["}\n", "}\n", "}\n"]),
])
def test_repeated_lines(lines, previous, expected):
    assert list(filters.repeated_lines(lines, previous)) == expected


def test_filters_compose_lazily():
    pulled = []

    def source():
        for piece in ["a = 1\n", "b = 2\n", "c = 3\n", "d = 4\n"]:
            pulled.append(piece)
            yield piece

    out = list(filters.max_lines(filters.lines(source()), 2))
    assert out == ["a = 1\n", "b = 2\n"]
    assert len(pulled) <= 3  # the model stops soon after the limit


def test_stop_at_prefix_header_cuts_a_copy_of_the_function_above():
    prefix = 'def parse_pairs(text):\n    """Parse."""\n    result = {}\n    for part in text.split(","):\n'
    out = ["        k, v = part.split('=')\n", "        result[k] = int(v)\n", "    return result\n", "\n",
           "def parse_pairs(text):\n", '    """Parse."""\n']
    assert list(filters.stop_at_prefix_header(out, prefix)) == out[:4]
    fresh = ["    return result\n", "\n", "def other(x):\n"]
    assert list(filters.stop_at_prefix_header(fresh, prefix)) == fresh


def test_a_long_line_is_cut_into_statements_when_asked():
    pieces = ["var a=1;va", "r b=2;", "f(a,b)", "}", "\nnext"]
    assert list(filters.lines(iter(pieces))) == ["var a=1;var b=2;f(a,b)}\n", "next"]
    assert list(filters.lines(iter(pieces), 12)) == ["var a=1;var b=2;", "f(a,b)}\n", "next"]  # cut at 12 and more
