-- The suggestion controller without a server: a suggestion placed in its state as a response
-- would, then the user's keys (accept, word, line, cycle, dismiss) and edits (typing through/over).
local config = require("tacit.config")
local ghost = require("tacit.ghost")
local Signals = require("tacit.signals")
local suggestion = require("tacit.suggestion")

local sent
vim.o.virtualedit = "onemore" -- `nvim -l` stays in normal mode; let the cursor sit after the line as in insert mode

local function setup(lines, row, col, items)
  suggestion.config = config.default()
  sent = {}
  suggestion.signals = Signals.new(function(p)
    sent[#sent + 1] = p
  end)
  local buf = vim.api.nvim_create_buf(true, true)
  vim.api.nvim_set_current_buf(buf)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.api.nvim_win_set_cursor(0, { row + 1, col })
  local its = {}
  for i, t in ipairs(items) do
    its[i] = { id = "id" .. i, text = t.text, end_row = row, end_col = t.end_col or col, typed = 0, complete = true }
  end
  suggestion.bufs[buf] = { token = 0, tick = vim.api.nvim_buf_get_changedtick(buf),
    shown = { items = its, index = 1, row = row, col = col, line = lines[row + 1] } }
  return buf
end

local function kinds()
  local out = {}
  for _, p in ipairs(sent) do
    out[#out + 1] = p.kind .. (p.acceptedLength and (":" .. p.acceptedLength) or "")
  end
  return out
end

local function show(buf)
  suggestion.cycle(0, buf) -- draws the current item
end

describe("controller", function()
  it("accept replaces the covered tail and puts the cursor after the text", function()
    local buf = setup({ "print()" }, 0, 6, { { text = "'hé')", end_col = 7 } })
    show(buf)
    eq("'hé'", ghost.get(buf).inline)
    eq(true, suggestion.accept(buf))
    eq({ "print('hé')" }, vim.api.nvim_buf_get_lines(buf, 0, -1, false))
    eq({ 1, 12 }, vim.api.nvim_win_get_cursor(0))
    eq({ "shown", "accepted:5" }, kinds())
    eq(nil, ghost.get(buf))
    eq(false, suggestion.accept(buf))
  end)
  it("multi-line accept", function()
    local buf = setup({ "def f():", "" }, 1, 0, { { text = "    x = 1\n    return x" } })
    show(buf)
    eq({ "    return x" }, ghost.get(buf).lines)
    suggestion.accept(buf)
    eq({ "def f():", "    x = 1", "    return x" }, vim.api.nvim_buf_get_lines(buf, 0, -1, false))
    eq({ 3, 12 }, vim.api.nvim_win_get_cursor(0))
  end)
  it("accept word and line are cumulative partial accepts; the last piece is an accept", function()
    local buf = setup({ "x = " }, 0, 4, { { text = "foo(a, b)\nbar()" } })
    show(buf)
    suggestion.accept_word(buf)
    eq("x = foo", vim.api.nvim_get_current_line())
    eq("(a, b)", ghost.get(buf).inline)
    suggestion.accept_line(buf)
    eq("x = foo(a, b)", vim.api.nvim_get_current_line())
    eq({ row = 0, col = 13, inline = "", lines = { "bar()" } }, ghost.get(buf))
    suggestion.accept_line(buf)
    eq({ "x = foo(a, b)", "bar()" }, vim.api.nvim_buf_get_lines(buf, 0, -1, false))
    eq({ "shown", "partiallyAccepted:3", "partiallyAccepted:9", "accepted:15" }, kinds())
  end)
  it("cycles through items, each shown once", function()
    local buf = setup({ "y = " }, 0, 4, { { text = "1" }, { text = "2" }, { text = "3" } })
    show(buf)
    suggestion.cycle(1, buf)
    eq("2", ghost.get(buf).inline)
    suggestion.cycle(-1, buf)
    suggestion.cycle(-1, buf)
    eq("3", ghost.get(buf).inline)
    suggestion.cycle(1, buf)
    eq("1", ghost.get(buf).inline)
    eq({ "shown", "shown", "shown" }, kinds())
    suggestion.accept(buf)
    eq("y = 1", vim.api.nvim_get_current_line())
  end)
  it("dismiss", function()
    local buf = setup({ "z" }, 0, 1, { { text = "ip" } })
    show(buf)
    eq(true, suggestion.dismiss(buf))
    eq(nil, ghost.get(buf))
    eq({ "shown", "dismissed" }, kinds())
    eq(false, suggestion.dismiss(buf))
  end)
  it("typing through shrinks it; typing over drops it with typedOver", function()
    local buf = setup({ "n = " }, 0, 4, { { text = "len(x)" } })
    suggestion.schedule = function() end -- no server here
    show(buf)
    vim.api.nvim_buf_set_text(buf, 0, 4, 0, 4, { "le" })
    vim.api.nvim_win_set_cursor(0, { 1, 6 })
    suggestion.on_text_changed(buf)
    eq("n(x)", ghost.get(buf).inline)
    vim.api.nvim_buf_set_text(buf, 0, 6, 0, 6, { "a" })
    vim.api.nvim_win_set_cursor(0, { 1, 7 })
    suggestion.on_text_changed(buf)
    eq(nil, ghost.get(buf))
    eq({ "shown", "typedOver" }, kinds())
  end)
  it("typed-through text counts towards acceptedLength", function()
    local buf = setup({ "n = " }, 0, 4, { { text = "len(x)" } })
    suggestion.schedule = function() end
    show(buf)
    vim.api.nvim_buf_set_text(buf, 0, 4, 0, 4, { "l" })
    vim.api.nvim_win_set_cursor(0, { 1, 5 })
    suggestion.on_text_changed(buf)
    suggestion.accept_word(buf)
    eq("n = len", vim.api.nvim_get_current_line())
    eq({ "shown", "partiallyAccepted:3" }, kinds())
  end)
end)
