---@brief Inline suggestions: request `textDocument/inlineCompletion` as you type (debounced,
--- superseded requests cancelled), draw ghost text, accept all/word/line, dismiss, cycle, and
--- report what happened to each suggestion (`tacit/signal`).
---
--- Per buffer, at most one request is in flight and one suggestion is visible. A suggestion is
--- kept as its remaining text and an anchor (where that text starts: row, byte column, the line
--- there); typing that matches it moves the anchor without a request round trip.

local client = require("tacit.client")
local compat = require("tacit.compat")
local ghost = require("tacit.ghost")
local text = require("tacit.text")
local Signals = require("tacit.signals")

local M = {}

---@class tacit.Item
---@field id string
---@field text string remaining suggestion text (not yet in the buffer)
---@field end_row integer end of the range accepting replaces (0-based row)
---@field end_col integer (byte column)
---@field typed integer code points of the suggestion already in the buffer when it arrived
---@field complete boolean

---@class tacit.Shown
---@field items tacit.Item[]
---@field index integer
---@field row integer anchor row (0-based)
---@field col integer anchor byte column
---@field line string the anchor's line as it was

---@class tacit.BufState
---@field timer uv.uv_timer_t?
---@field token integer bumps on every request; stale responses are dropped
---@field request {client: vim.lsp.Client, id: integer}?
---@field shown tacit.Shown?
---@field tick integer changedtick the anchor or the last edit was seen at

---@type table<integer, tacit.BufState>
M.bufs = {}

---@type tacit.Config?
M.config = nil

--- Whether a buffer may get suggestions (set by init.lua: global and per-filetype toggles).
---@type fun(buf: integer): boolean
M.is_enabled = function()
  return false
end

--- Statistics for :TacitStatus.
M.stats = { requests = 0, responses = 0, empty = 0, errors = 0, cancelled = 0, updates = 0 }

M.signals = Signals.new(function(params)
  local c = client.get()
  if c then
    compat.notify(c, "tacit/signal", params)
  end
end)

---@param buf integer
---@return tacit.BufState
local function state(buf)
  local s = M.bufs[buf]
  if not s then
    s = { token = 0, tick = -1 }
    M.bufs[buf] = s
  end
  return s
end

---@param s tacit.Shown
---@return tacit.Item
local function current(s)
  return s.items[s.index]
end

local function in_insert()
  return vim.api.nvim_get_mode().mode:sub(1, 1) == "i"
end

local function cursor()
  local pos = vim.api.nvim_win_get_cursor(0)
  return pos[1] - 1, pos[2]
end

local function get_line(buf, row)
  return vim.api.nvim_buf_get_lines(buf, row, row + 1, false)[1] or ""
end

--- Stop the pending debounce timer and cancel the request in flight (`$/cancelRequest`).
---@param buf integer
function M.cancel(buf)
  local s = M.bufs[buf]
  if not s then
    return
  end
  if s.timer then
    s.timer:stop()
  end
  s.token = s.token + 1
  if s.request then
    compat.cancel(s.request.client, s.request.id)
    M.stats.cancelled = M.stats.cancelled + 1
    s.request = nil
  end
end

--- Hide the suggestion (no signal).
---@param buf integer
function M.clear(buf)
  local s = M.bufs[buf]
  if s then
    s.shown = nil
  end
  ghost.clear(buf)
end

--- Draw the current item of `buf`'s suggestion and report `shown` the first time.
---@param buf integer
local function render(buf)
  local s = state(buf)
  local shown = s.shown
  if not shown then
    return ghost.clear(buf)
  end
  local item = current(shown)
  local replaced = ""
  if item.end_row == shown.row and item.end_col > shown.col then
    replaced = shown.line:sub(shown.col + 1, item.end_col)
  end
  ghost.show(buf, shown.row, shown.col, item.text, M.config.suggestion.hl_group, replaced)
  M.signals:shown(item.id, item.typed)
end

--- Our item for an LSP InlineCompletionItem at the cursor, or nil when it does not fit there.
---@param lsp_item table
---@param row integer
---@param col integer
---@param line string
---@param encoding string
---@return tacit.Item?
function M.to_item(lsp_item, row, col, line, encoding)
  local insert = lsp_item.insertText
  if type(insert) == "table" then
    insert = insert.value -- a snippet: shown and inserted as plain text
  end
  local cmd = lsp_item.command
  local id = cmd and cmd.arguments and cmd.arguments[1]
  if type(insert) ~= "string" or type(id) ~= "string" then
    return nil
  end
  local start_col, end_row, end_col = col, row, col
  local range = lsp_item.range
  if range then
    if range.start.line ~= row then
      return nil
    end
    start_col = text.lsp_to_byte(line, range.start.character, encoding)
    if range["end"].line == row then
      end_col = math.max(col, text.lsp_to_byte(line, range["end"].character, encoding))
    elseif range["end"].line > row then
      end_row = range["end"].line
      local end_line = vim.api.nvim_buf_get_lines(0, end_row, end_row + 1, false)[1] or ""
      end_col = text.lsp_to_byte(end_line, range["end"].character, encoding)
    end
  end
  if start_col > col then
    return nil
  end
  local typed = line:sub(start_col + 1, col)
  if insert:sub(1, #typed) ~= typed or #insert <= #typed then
    return nil
  end
  local meta = cmd.arguments[2]
  return {
    id = id,
    text = insert:sub(#typed + 1),
    end_row = end_row,
    end_col = end_col,
    typed = text.codepoints(typed),
    complete = type(meta) == "table" and meta.complete == true,
  }
end

--- Send `textDocument/inlineCompletion` for the cursor of the current window now.
---@param buf integer
---@param invoked boolean? explicitly asked for (trigger key) rather than automatic
function M.request(buf, invoked)
  if buf ~= vim.api.nvim_get_current_buf() or not in_insert() or not M.is_enabled(buf) then
    return
  end
  local c = client.get(buf)
  if not (c and c.initialized) then
    return
  end
  M.cancel(buf)
  local s = state(buf)
  local token = s.token
  local row, col = cursor()
  local line = get_line(buf, row)
  local tick = vim.api.nvim_buf_get_changedtick(buf)
  local encoding = c.offset_encoding or "utf-16"
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = row, character = text.byte_to_lsp(line, col, encoding) },
    context = { triggerKind = invoked and 1 or 2 },
  }
  M.stats.requests = M.stats.requests + 1
  local started = vim.uv.hrtime()
  local ok, id = compat.request(c, "textDocument/inlineCompletion", params, function(err, result)
    if s.token ~= token then
      return -- superseded
    end
    s.request = nil
    if err then
      M.stats.errors = M.stats.errors + 1
      M.last_error = err.message or vim.inspect(err)
      return
    end
    M.stats.responses = M.stats.responses + 1
    M.last_latency_ms = (vim.uv.hrtime() - started) / 1e6
    -- The buffer or cursor moved on: a newer request is (or will be) on its way.
    if not vim.api.nvim_buf_is_valid(buf) or vim.api.nvim_buf_get_changedtick(buf) ~= tick
      or buf ~= vim.api.nvim_get_current_buf() or not in_insert() then
      return
    end
    local r, cl = cursor()
    if r ~= row or cl ~= col then
      return
    end
    local items = {}
    for _, lsp_item in ipairs(result and (result.items or result) or {}) do
      items[#items + 1] = M.to_item(lsp_item, row, col, line, encoding)
    end
    if #items == 0 then
      M.stats.empty = M.stats.empty + 1
      M.clear(buf)
      return
    end
    local index = 1
    local prev = s.shown
    if prev and prev.row == row and prev.col == col then
      for i, item in ipairs(items) do -- keep the user's place when cycling
        if item.id == current(prev).id then
          index = i
        end
      end
    end
    s.shown = { items = items, index = index, row = row, col = col, line = line }
    s.tick = tick
    render(buf)
  end, buf)
  if ok and id then
    s.request = { client = c, id = id }
  end
end

--- Request after the debounce delay (restarted by every call).
---@param buf integer
function M.schedule(buf)
  if not M.config.suggestion.auto_trigger then
    return
  end
  local s = state(buf)
  s.timer = s.timer or vim.uv.new_timer()
  s.timer:stop()
  s.timer:start(M.config.suggestion.debounce, 0, vim.schedule_wrap(function()
    M.request(buf)
  end))
end

--- TextChangedI: type through, typed over, or something else; then ask again.
---@param buf integer
function M.on_text_changed(buf)
  local s = state(buf)
  local shown = s.shown
  s.tick = vim.api.nvim_buf_get_changedtick(buf)
  if shown then
    local item = current(shown)
    local row, col = cursor()
    local line = get_line(buf, row)
    local prev_line = row > 0 and get_line(buf, row - 1) or nil
    local verdict, consumed = text.classify(shown, item.text, row, col, line, prev_line)
    if verdict == "through" and consumed and #consumed < #item.text then
      local n = text.codepoints(consumed)
      M.signals:consumed(item.id, n)
      item.text = item.text:sub(#consumed + 1)
      if item.end_row == shown.row then -- the replaced tail moved along with the cursor
        item.end_row, item.end_col = row, col + math.max(0, item.end_col - shown.col)
      end
      shown.items, shown.index = { item }, 1 -- the other items no longer fit
      shown.row, shown.col, shown.line = row, col, line
      render(buf)
    elseif verdict == "same" then
      -- our own edit (partial accept) already moved the anchor
    else
      if verdict == "over" then
        M.signals:typed_over(item.id)
      end
      M.clear(buf)
    end
  end
  M.schedule(buf)
end

--- CursorMovedI without an edit: the suggestion no longer applies.
---@param buf integer
function M.on_cursor_moved(buf)
  local s = state(buf)
  if vim.api.nvim_buf_get_changedtick(buf) ~= s.tick then
    return -- an edit: TextChangedI comes next
  end
  local shown = s.shown
  local row, col = cursor()
  if shown and shown.row == row and shown.col == col then
    return
  end
  M.clear(buf)
  M.schedule(buf)
end

--- InsertLeave and leaving the buffer: a visible suggestion is dismissed.
---@param buf integer
function M.on_leave(buf)
  M.dismiss(buf)
end

---@param buf integer?
---@return boolean
function M.is_visible(buf)
  local s = M.bufs[buf or vim.api.nvim_get_current_buf()]
  return s ~= nil and s.shown ~= nil
end

--- Insert `piece` (the start of the current item) at the anchor, or the whole item with its
--- range when `piece` is nil. Returns false when nothing is visible.
---@param buf integer
---@param piece string?
---@return boolean
local function accept(buf, piece)
  local s = state(buf)
  local shown = s.shown
  if not shown then
    return false
  end
  local item = current(shown)
  M.cancel(buf)
  if piece == nil or piece == "" or #piece >= #item.text then
    M.signals:accepted(item.id, text.codepoints(item.text))
    M.clear(buf)
    vim.api.nvim_buf_set_text(buf, shown.row, shown.col, item.end_row, item.end_col, text.lines(item.text))
    local row, col = text.end_of_insert(shown.row, shown.col, item.text)
    vim.api.nvim_win_set_cursor(0, { row + 1, col })
    return true
  end
  M.signals:partial(item.id, text.codepoints(piece))
  vim.api.nvim_buf_set_text(buf, shown.row, shown.col, shown.row, shown.col, text.lines(piece))
  local row, col = text.end_of_insert(shown.row, shown.col, piece)
  if item.end_row == shown.row then
    item.end_row, item.end_col = row, col + math.max(0, item.end_col - shown.col)
  end
  item.text = item.text:sub(#piece + 1)
  shown.items, shown.index = { item }, 1
  shown.row, shown.col, shown.line = row, col, get_line(buf, row)
  s.tick = vim.api.nvim_buf_get_changedtick(buf)
  vim.api.nvim_win_set_cursor(0, { row + 1, col })
  render(buf)
  return true
end

---@param buf integer?
---@return boolean accepted
function M.accept(buf)
  return accept(buf or vim.api.nvim_get_current_buf())
end

---@param buf integer?
---@return boolean accepted
function M.accept_word(buf)
  buf = buf or vim.api.nvim_get_current_buf()
  local s = M.bufs[buf]
  return s ~= nil and s.shown ~= nil and accept(buf, text.next_word(current(s.shown).text))
end

---@param buf integer?
---@return boolean accepted
function M.accept_line(buf)
  buf = buf or vim.api.nvim_get_current_buf()
  local s = M.bufs[buf]
  return s ~= nil and s.shown ~= nil and accept(buf, text.next_line(current(s.shown).text))
end

--- Hide the suggestion and report `dismissed`; no new request until the next edit.
---@param buf integer?
---@return boolean dismissed
function M.dismiss(buf)
  buf = buf or vim.api.nvim_get_current_buf()
  local s = M.bufs[buf]
  M.cancel(buf)
  if not (s and s.shown) then
    return false
  end
  M.signals:dismissed(current(s.shown).id)
  M.clear(buf)
  return true
end

--- Show the next (`step` 1) or previous (-1) item, wrapping around.
---@param step integer
---@param buf integer?
---@return boolean
function M.cycle(step, buf)
  buf = buf or vim.api.nvim_get_current_buf()
  local s = M.bufs[buf]
  if not (s and s.shown) then
    return false
  end
  local n = #s.shown.items
  s.shown.index = (s.shown.index - 1 + step) % n + 1
  render(buf)
  return true
end

--- `tacit/completionUpdated`: more of the suggestion on screen is ready; ask again at once.
---@param params {uri: string, id: string}
function M.on_completion_updated(params)
  local buf = vim.api.nvim_get_current_buf()
  local s = M.bufs[buf]
  if s and s.shown and vim.uri_from_bufnr(buf) == params.uri and current(s.shown).id == params.id then
    M.stats.updates = M.stats.updates + 1
    M.request(buf)
  end
end

--- Forget a buffer (BufUnload / BufWipeout).
---@param buf integer
function M.detach(buf)
  local s = M.bufs[buf]
  if s then
    M.cancel(buf)
    if s.timer then
      s.timer:close()
    end
    M.bufs[buf] = nil
  end
  ghost.clear(buf)
end

return M
