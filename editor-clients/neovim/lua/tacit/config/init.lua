---@brief The whole configuration: one module per feature, each with `default` and `validate()`.

local validate = require("tacit.compat").validate

---@class tacit.Config
---@field enabled boolean suggestions on at startup
---@field server tacit.config.server
---@field suggestion tacit.config.suggestion
---@field keymap tacit.config.keymap
---@field filetypes tacit.config.filetypes

local M = {}

--- Feature modules by option key.
M.modules = {
  server = require("tacit.config.server"),
  suggestion = require("tacit.config.suggestion"),
  keymap = require("tacit.config.keymap"),
  filetypes = require("tacit.config.filetypes"),
}

---@return tacit.Config
function M.default()
  local config = { enabled = true }
  for key, mod in pairs(M.modules) do
    config[key] = vim.deepcopy(mod.default)
  end
  return config
end

--- Names of user options that no module knows, sorted ("suggestion.debunce").
---@param user table
---@return string[]
local function unknown(user)
  local bad = {}
  for key, value in pairs(user) do
    local mod = M.modules[key]
    if key ~= "enabled" and not mod then
      bad[#bad + 1] = tostring(key)
    elseif mod and key ~= "filetypes" and type(value) == "table" then -- filetypes: free-form keys
      for sub in pairs(value) do
        if mod.default[sub] == nil then
          bad[#bad + 1] = key .. "." .. tostring(sub)
        end
      end
    end
  end
  table.sort(bad)
  return bad
end

--- The user's options merged over the defaults and validated. Errors name the bad option:
--- `tacit.setup: suggestion.debounce: expected non-negative number, got "fast"`.
---@param user table?
---@return tacit.Config
function M.resolve(user)
  user = user or {}
  local ok, err = pcall(function()
    validate("opts", user, "table")
    for key in pairs(M.modules) do
      validate(key, user[key], "table", true)
    end
    validate("enabled", user.enabled, "boolean", true)
  end)
  if not ok then
    error("tacit.setup: " .. tostring(err), 0)
  end
  local bad = unknown(user)
  if #bad > 0 then
    error("tacit.setup: unknown option " .. table.concat(bad, ", "), 0)
  end
  local config = M.default()
  if user.enabled ~= nil then
    config.enabled = user.enabled
  end
  for key, mod in pairs(M.modules) do
    if user[key] then
      -- lists (cmd, root_markers) and the server's options are replaced, not merged element-wise
      config[key] = vim.tbl_extend("force", config[key], vim.deepcopy(user[key]))
    end
    ok, err = pcall(mod.validate, config[key])
    if not ok then
      error("tacit.setup: " .. tostring(err), 0)
    end
  end
  return config
end

return M
