---@brief Tacit for Neovim: ghost-text suggestions from the local Tacit language server.
---
--- `require("tacit").setup(opts)` validates the options, starts `tacit serve` for buffers of
--- enabled filetypes, and sets the insert-mode keys and autocommands. Calling it again replaces
--- the previous setup (keys, autocommands) instead of adding to it.

local client = require("tacit.client")
local compat = require("tacit.compat")
local config_mod = require("tacit.config")
local filetypes = require("tacit.config.filetypes")
local suggestion = require("tacit.suggestion")

local M = {}

---@type tacit.Config?
M.config = nil

--- Runtime switches: global, and per filetype (overriding `config.filetypes`).
M.enabled = true
---@type table<string, boolean>
M.ft_override = {}

---@type {lhs: string}[] keys set by the last setup()
local mapped = {}

local group = vim.api.nvim_create_augroup("tacit", { clear = true })

--- Whether `ft` gets suggestions (config, then :TacitToggle overrides).
---@param ft string
---@return boolean
function M.ft_enabled(ft)
  local on = M.ft_override[ft]
  if on == nil then
    on = filetypes.enabled(M.config.filetypes, ft)
  end
  return on
end

--- Whether `buf` gets suggestions: set up, enabled, a normal file buffer of an enabled filetype.
---@param buf integer
---@return boolean
function M.is_enabled(buf)
  return M.config ~= nil and M.enabled and vim.api.nvim_buf_is_valid(buf) and vim.bo[buf].buftype == ""
    and vim.api.nvim_buf_get_name(buf) ~= "" and M.ft_enabled(vim.bo[buf].filetype)
end

--- Start the server for `buf` (if needed) and attach it, when `buf` is enabled.
---@param buf integer
function M.attach(buf)
  if M.is_enabled(buf) and vim.api.nvim_buf_is_loaded(buf) then
    client.attach(buf, M.config.server)
  end
end

local function attach_all()
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    M.attach(buf)
  end
end

-- Key actions, callable from mappings and by users with their own keys.
M.accept = suggestion.accept
M.accept_word = suggestion.accept_word
M.accept_line = suggestion.accept_line
M.dismiss = suggestion.dismiss
M.is_visible = suggestion.is_visible
function M.next()
  return suggestion.cycle(1)
end
function M.prev()
  return suggestion.cycle(-1)
end
function M.trigger()
  suggestion.request(vim.api.nvim_get_current_buf(), true)
end

--- Actions behind the keymap options: `falls` says the key keeps its normal meaning when no
--- suggestion is visible.
local actions = {
  accept = { fn = "accept", falls = true },
  accept_word = { fn = "accept_word", falls = true },
  accept_line = { fn = "accept_line", falls = true },
  dismiss = { fn = "dismiss", falls = true },
  next = { fn = "next", falls = true },
  prev = { fn = "prev", falls = true },
  trigger = { fn = "trigger", falls = false },
}

local function set_keymaps(keymap)
  for _, m in ipairs(mapped) do
    pcall(vim.keymap.del, "i", m.lhs)
  end
  mapped = {}
  for name, lhs in pairs(keymap) do
    local action = actions[name]
    if lhs and action then
      local rhs = ("<Cmd>lua require('tacit').%s()<CR>"):format(action.fn)
      vim.keymap.set("i", lhs, function()
        if not action.falls or suggestion.is_visible() then
          return rhs
        end
        return lhs
      end, { expr = true, silent = true, desc = "Tacit: " .. name:gsub("_", " ") })
      mapped[#mapped + 1] = { lhs = lhs }
    end
  end
end

local function set_highlight()
  vim.api.nvim_set_hl(0, "TacitSuggestion", { link = "Comment", default = true })
end

local function set_autocmds()
  vim.api.nvim_clear_autocmds({ group = group })
  local function on(events, fn)
    vim.api.nvim_create_autocmd(events, {
      group = group,
      callback = function(args)
        fn(args.buf)
      end,
    })
  end
  on({ "FileType", "BufEnter" }, M.attach)
  on("InsertEnter", function(buf)
    if M.is_enabled(buf) then
      suggestion.bufs[buf] = suggestion.bufs[buf] or { token = 0, tick = -1 }
      suggestion.bufs[buf].tick = vim.api.nvim_buf_get_changedtick(buf)
      suggestion.schedule(buf)
    end
  end)
  on("TextChangedI", function(buf)
    if M.is_enabled(buf) then
      suggestion.on_text_changed(buf)
    end
  end)
  on("CursorMovedI", function(buf)
    if suggestion.bufs[buf] then
      suggestion.on_cursor_moved(buf)
    end
  end)
  on({ "InsertLeave", "BufLeave" }, suggestion.on_leave)
  on({ "BufUnload", "BufWipeout" }, suggestion.detach)
  on("ColorScheme", set_highlight)
end

--- Set Tacit up (again). See |tacit-config|.
---@param opts table?
function M.setup(opts)
  local config = config_mod.resolve(opts)
  local server_options_changed = M.config ~= nil
    and not vim.deep_equal(M.config.server.options, config.server.options)
  M.config = config
  M.enabled = config.enabled
  suggestion.config = config
  suggestion.is_enabled = M.is_enabled
  client.on_completion_updated = suggestion.on_completion_updated
  set_highlight()
  set_keymaps(config.keymap)
  set_autocmds()
  if server_options_changed then
    client.configure(config.server.options)
  end
  attach_all()
end

--- Turn suggestions on/off: globally (no argument), for a filetype (`ft`), or for the current
--- buffer's filetype (`bang`). Returns the new state.
---@param ft string?
---@param bang boolean?
---@return boolean enabled
function M.toggle(ft, bang)
  if not M.config then
    error("tacit: call require('tacit').setup() first", 0)
  end
  if bang and (ft == nil or ft == "") then
    ft = vim.bo.filetype
  end
  local now
  if ft and ft ~= "" then
    now = not M.ft_enabled(ft)
    M.ft_override[ft] = now
  else
    now = not M.enabled
    M.enabled = now
  end
  if now then
    attach_all()
  else
    for buf in pairs(suggestion.bufs) do
      if not M.is_enabled(buf) then
        suggestion.cancel(buf)
        suggestion.clear(buf)
      end
    end
  end
  return now
end

--- Lines describing the server and this client, for :TacitStatus; `callback` gets them once the
--- server answered `tacit/getStatus` (or could not).
---@param callback fun(lines: string[])
function M.status_lines(callback)
  local function fmt_ms(ms)
    return ms and string.format("%.0f ms", ms) or "-"
  end
  client.get_status(function(err, st)
    local lines = {}
    local ft = vim.bo.filetype
    lines[#lines + 1] = ("Tacit: %s; filetype %q %s"):format(M.enabled and "enabled" or "disabled",
      ft, M.config and M.ft_enabled(ft) and "enabled" or "disabled")
    if err or not st then
      lines[#lines + 1] = ("Server: %s (%s)"):format(client.server.state,
        err and (err.message or vim.inspect(err)) or "no answer")
    else
      lines[#lines + 1] = ("Server: %s%s"):format(st.state, (st.message or "") ~= "" and (" (" .. st.message .. ")") or "")
      lines[#lines + 1] = ("Model: %s (engine %s, family %s)"):format(tostring(st.model), tostring(st.engine),
        tostring(st.family))
      if type(st.index) == "table" then
        local parts = {}
        for k, v in pairs(st.index) do
          parts[#parts + 1] = k .. " " .. tostring(v)
        end
        table.sort(parts)
        lines[#lines + 1] = "Index: " .. table.concat(parts, ", ")
      end
      lines[#lines + 1] = ("Last latency: server %s, round trip %s"):format(fmt_ms(st.latencyMs),
        fmt_ms(suggestion.last_latency_ms))
    end
    local s = suggestion.stats
    lines[#lines + 1] = ("Requests: %d sent, %d answered, %d empty, %d errors, %d cancelled"):format(s.requests,
      s.responses, s.empty, s.errors, s.cancelled)
    local c = suggestion.signals.counts
    lines[#lines + 1] = ("Signals: shown %d, accepted %d, partiallyAccepted %d, dismissed %d, typedOver %d"):format(
      c.shown or 0, c.accepted or 0, c.partiallyAccepted or 0, c.dismissed or 0, c.typedOver or 0)
    if suggestion.last_error then
      lines[#lines + 1] = "Last error: " .. suggestion.last_error
    end
    callback(lines)
  end)
end

--- :TacitStatus
function M.status()
  M.status_lines(function(lines)
    vim.api.nvim_echo({ { table.concat(lines, "\n") } }, true, {})
  end)
end

--- The text :TacitExplain shows for a `tacit/explain` result.
---@param result table
---@return string[]
function M.explain_lines(result)
  local lines = {
    ("Suggestion %s, template %s"):format(tostring(result.id), tostring(result.template)),
    "Sources: " .. table.concat(result.sources or {}, ", "),
  }
  for _, snip in ipairs(result.snippets or {}) do
    local label = snip.source -- the file's own calls ride in the scopes block: `scopes + file_calls`
    for _, part in ipairs(snip.parts or {}) do
      label = label .. " + " .. part
    end
    lines[#lines + 1] = ("  [%s] %s"):format(label, snip.path or "")
  end
  lines[#lines + 1] = string.rep("-", 72)
  vim.list_extend(lines, vim.split(result.prompt or "", "\n", { plain = true }))
  return lines
end

--- :TacitExplain: the prompt and sources behind the last suggestion in this buffer, in a split.
function M.explain()
  local buf = vim.api.nvim_get_current_buf()
  local c = client.get(buf)
  if not c then
    return vim.notify("tacit: no Tacit server attached to this buffer", vim.log.levels.WARN)
  end
  compat.request(c, "tacit/explain", { uri = vim.uri_from_bufnr(buf) }, function(err, result)
    if err then
      return vim.notify("tacit: explain failed: " .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    elseif result == nil or result == vim.NIL then
      return vim.notify("tacit: no suggestion yet in this buffer", vim.log.levels.INFO)
    end
    local out = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_lines(out, 0, -1, false, M.explain_lines(result))
    vim.bo[out].bufhidden = "wipe"
    vim.bo[out].modifiable = false
    vim.cmd("botright split")
    vim.api.nvim_win_set_buf(0, out)
    pcall(vim.api.nvim_buf_set_name, out, "tacit://explain/" .. tostring(result.id))
  end, buf)
end

return M
