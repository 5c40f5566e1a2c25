local text = require("tacit.text")

describe("byte_to_lsp / lsp_to_byte", function()
  -- "é" is 2 bytes, 1 UTF-16 unit; "😀" is 4 bytes, 2 UTF-16 units, 1 code point.
  local line = "aé😀b"
  it("utf-8 is the byte column", function()
    eq(7, text.byte_to_lsp(line, 7, "utf-8"))
    eq(7, text.lsp_to_byte(line, 7, "utf-8"))
  end)
  it("utf-16 counts surrogate pairs as two", function()
    eq(0, text.byte_to_lsp(line, 0, "utf-16"))
    eq(1, text.byte_to_lsp(line, 1, "utf-16"))
    eq(2, text.byte_to_lsp(line, 3, "utf-16"))
    eq(4, text.byte_to_lsp(line, 7, "utf-16"))
    eq(5, text.byte_to_lsp(line, 8, "utf-16"))
    eq(7, text.lsp_to_byte(line, 4, "utf-16"))
    eq(3, text.lsp_to_byte(line, 2, "utf-16"))
    eq(8, text.lsp_to_byte(line, 5, "utf-16"))
  end)
  it("utf-32 counts code points", function()
    eq(3, text.byte_to_lsp(line, 7, "utf-32"))
    eq(7, text.lsp_to_byte(line, 3, "utf-32"))
  end)
  it("clamps past the end of the line", function()
    eq(5, text.byte_to_lsp(line, 99, "utf-16"))
    eq(#line, text.lsp_to_byte(line, 99, "utf-16"))
    eq(#line, text.lsp_to_byte(line, 99, "utf-8"))
  end)
  it("agrees with vim.str_utfindex / vim.str_byteindex", function()
    local s = "x = 'ünïcödé 😀 ok'"
    local col = 0
    while col <= #s do
      local ok16 = vim.fn.has("nvim-0.11") == 1 and vim.str_utfindex(s, "utf-16", col) or select(2, vim.str_utfindex(s, col))
      eq(ok16, text.byte_to_lsp(s, col, "utf-16"), "col " .. col)
      local b = vim.fn.has("nvim-0.11") == 1 and vim.str_byteindex(s, "utf-16", ok16) or vim.str_byteindex(s, ok16, true)
      eq(b, text.lsp_to_byte(s, ok16, "utf-16"), "unit " .. ok16)
      if col == #s then
        break
      end
      col = col + vim.str_utf_end(s, col + 1) + 1
    end
  end)
end)

describe("codepoints", function()
  it("counts characters, not bytes", function()
    eq(0, text.codepoints(""))
    eq(4, text.codepoints("aé😀b"))
    eq(3, text.codepoints("a\nb"))
  end)
end)

describe("next_word", function()
  local cases = {
    { "foo(bar)", "foo" },
    { "(bar)", "(" },
    { "  return x", "  return" },
    { "): pass", "):" },
    { "\n    return 1", "\n    " },
    { "naïve_name + 1", "naïve_name" },
    { "", "" },
  }
  for _, c in ipairs(cases) do
    it(vim.inspect(c[1]), function()
      eq(c[2], text.next_word(c[1]))
    end)
  end
  it("repeated words rebuild the suggestion", function()
    local s, out = "x = foo(a, b)\n    return x", {}
    while s ~= "" do
      local w = text.next_word(s)
      assert(#w > 0, "no progress at " .. vim.inspect(s))
      out[#out + 1] = w
      s = s:sub(#w + 1)
    end
    eq("x = foo(a, b)\n    return x", table.concat(out))
    eq({ "x", " =", " foo", "(", "a", ",", " b", ")", "\n    ", "return", " x" }, out)
  end)
end)

describe("next_line", function()
  it("takes up to the line break, then break plus next line", function()
    eq("a + b", text.next_line("a + b\nc\nd"))
    eq("\nc", text.next_line("\nc\nd"))
    eq("\n", text.next_line("\n\nd"))
    eq("tail", text.next_line("tail"))
  end)
end)

describe("end_of_insert", function()
  it("single and multi-line", function()
    eq({ 3, 9 }, { text.end_of_insert(3, 4, "hello") })
    eq({ 5, 2 }, { text.end_of_insert(3, 4, "a\nbc\nde") })
  end)
end)

describe("expand_tabs", function()
  it("aligns to tab stops", function()
    eq("a   b", text.expand_tabs("a\tb", 4))
    eq("        x", text.expand_tabs("\t\tx", 4))
    eq("é   x", text.expand_tabs("é\tx", 4))
    eq("  x", text.expand_tabs("\tx", 4, 2))
  end)
end)

describe("classify", function()
  local anchor = { row = 2, col = 4, line = "x = )" }
  it("same: nothing changed", function()
    eq("same", (text.classify(anchor, "foo(1)", 2, 4, "x = )")))
  end)
  it("through: typed the next characters", function()
    eq({ "through", "fo" }, { text.classify(anchor, "foo(1)", 2, 6, "x = fo)") })
  end)
  it("over: typed something else", function()
    eq("over", (text.classify(anchor, "foo(1)", 2, 5, "x = b)")))
  end)
  it("other: deleted before the anchor", function()
    eq("other", (text.classify(anchor, "foo(1)", 2, 3, "x =)")))
  end)
  it("other: moved to another line", function()
    eq("other", (text.classify(anchor, "foo(1)", 5, 0, "")))
  end)
  it("through: a line break with the editor's indentation", function()
    local a = { row = 0, col = 8, line = "if x:   " }
    eq({ "through", "\n    " }, { text.classify(a, "\n    return 1", 1, 4, "    ", "if x:") })
  end)
  it("over: a line break the suggestion does not have", function()
    local a = { row = 0, col = 5, line = "if x:" }
    eq("over", (text.classify(a, " pass", 1, 4, "    ", "if x:")))
  end)
  it("other: the editor indented deeper than the suggestion", function()
    local a = { row = 0, col = 5, line = "if x:" }
    eq("other", (text.classify(a, "\n  y", 1, 4, "    ", "if x:")))
  end)
  it("multi-byte typed through", function()
    local a = { row = 0, col = 2, line = "s=" }
    eq({ "through", "'é" }, { text.classify(a, "'é'", 0, 5, "s='é") })
  end)
end)
