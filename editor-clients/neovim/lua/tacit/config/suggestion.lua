---@brief Options for requesting and showing ghost text.

local validate = require("tacit.compat").validate

---@class tacit.config.suggestion
---@field auto_trigger boolean request as you type in insert mode (otherwise only on the trigger key)
---@field debounce integer ms of quiet before a request is sent
---@field hl_group string highlight group of the ghost text
local M = {}

---@type tacit.config.suggestion
M.default = {
  auto_trigger = true,
  debounce = 30,
  hl_group = "TacitSuggestion",
}

---@param config tacit.config.suggestion
function M.validate(config)
  validate("suggestion.auto_trigger", config.auto_trigger, "boolean")
  validate("suggestion.debounce", config.debounce, function(v)
    return type(v) == "number" and v >= 0
  end, false, "non-negative number")
  validate("suggestion.hl_group", config.hl_group, "string")
end

return M
