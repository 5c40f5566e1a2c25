---@brief Which filetypes get suggestions: `true`/`false` per filetype, `"*"` for the rest.
--- A user table is merged over the default, so `{ markdown = false }` keeps `"*" = true`.

local validate = require("tacit.compat").validate

---@alias tacit.config.filetypes table<string, boolean>
local M = {}

---@type tacit.config.filetypes
M.default = {
  ["*"] = true,
  help = false,
  gitrebase = false,
  ["TelescopePrompt"] = false,
}

---@param config tacit.config.filetypes
function M.validate(config)
  for ft, on in pairs(config) do
    validate("filetypes." .. tostring(ft), on, "boolean")
  end
end

--- Whether `ft` is enabled by `config`.
---@param config tacit.config.filetypes
---@param ft string
---@return boolean
function M.enabled(config, ft)
  local on = config[ft]
  if on == nil then
    on = config["*"]
  end
  return on == true
end

return M
