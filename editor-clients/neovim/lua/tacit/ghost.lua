---@brief Ghost text with extmarks (Neovim 0.10+): the first line of a suggestion as inline virtual
--- text at the cursor, the following lines as virtual lines below it. One extmark per buffer.

local text = require("tacit.text")

local M = {}

M.ns = vim.api.nvim_create_namespace("tacit.ghost")

--- Draw `s` at (row, col) in `buf`, replacing what was drawn before. `replaced` is the text after
--- the cursor on that line that accepting will replace: when the first line ends with it, that
--- tail is not drawn twice (the buffer already shows it).
---@param buf integer
---@param row integer 0-based
---@param col integer byte column
---@param s string
---@param hl string highlight group
---@param replaced string?
function M.show(buf, row, col, s, hl, replaced)
  local lines = text.lines(s)
  local first = lines[1]
  if replaced and replaced ~= "" and #lines == 1 and first:sub(-#replaced) == replaced then
    first = first:sub(1, #first - #replaced)
  end
  local ts = vim.bo[buf].tabstop
  local line = vim.api.nvim_buf_get_lines(buf, row, row + 1, false)[1] or ""
  local start_col = vim.fn.strdisplaywidth(line:sub(1, col))
  local opts = { id = 1, hl_mode = "combine", right_gravity = true }
  if first ~= "" then
    opts.virt_text = { { text.expand_tabs(first, ts, start_col), hl } }
    opts.virt_text_pos = "inline"
  end
  if #lines > 1 then
    local virt_lines = {}
    for i = 2, #lines do
      virt_lines[#virt_lines + 1] = { { text.expand_tabs(lines[i], ts), hl } }
    end
    opts.virt_lines = virt_lines
  end
  vim.api.nvim_buf_set_extmark(buf, M.ns, row, col, opts)
end

---@param buf integer
function M.clear(buf)
  if vim.api.nvim_buf_is_valid(buf) then
    vim.api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
  end
end

--- What is drawn in `buf`: the first line's text and the following lines (for tests and status).
---@param buf integer
---@return {row: integer, col: integer, inline: string, lines: string[]}?
function M.get(buf)
  local marks = vim.api.nvim_buf_get_extmarks(buf, M.ns, 0, -1, { details = true })
  local mark = marks[1]
  if not mark then
    return nil
  end
  local d = mark[4]
  local inline = d.virt_text and d.virt_text[1] and d.virt_text[1][1] or ""
  local lines = {}
  for _, l in ipairs(d.virt_lines or {}) do
    lines[#lines + 1] = l[1] and l[1][1] or ""
  end
  return { row = mark[2], col = mark[3], inline = inline, lines = lines }
end

return M
