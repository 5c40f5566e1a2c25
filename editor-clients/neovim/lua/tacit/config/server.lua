---@brief Options for starting the language server.

local validate = require("tacit.compat").validate

---@class tacit.config.server
---@field cmd string[] command that runs the server on stdio
---@field options table passed as `initializationOptions` (camelCase, as in the server's README)
---@field root_markers string[] files or folders that mark a workspace root
---@field debounce_text_changes integer ms between buffered didChange notifications
local M = {}

---@type tacit.config.server
M.default = {
  cmd = { "tacit", "serve" },
  options = {},
  root_markers = { ".git", ".hg", "pyproject.toml", "package.json", "Cargo.toml", "go.mod" },
  debounce_text_changes = 50,
}

local function is_list_of_strings(v)
  if type(v) ~= "table" or (next(v) ~= nil and not vim.islist(v)) then
    return false
  end
  for _, s in ipairs(v) do
    if type(s) ~= "string" then
      return false
    end
  end
  return true
end

---@param config tacit.config.server
function M.validate(config)
  validate("server.cmd", config.cmd, function(v)
    return is_list_of_strings(v) and #v > 0
  end, false, "non-empty list of strings")
  validate("server.options", config.options, "table")
  validate("server.root_markers", config.root_markers, is_list_of_strings, false, "list of strings")
  validate("server.debounce_text_changes", config.debounce_text_changes, "number")
end

return M
