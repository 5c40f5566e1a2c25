---@brief Insert-mode keys. Each is a key (`"<Tab>"`) or `false` for none. Every key falls through
--- to its normal meaning when no suggestion is visible (except `trigger`, which always requests).

local validate = require("tacit.compat").validate

---@class tacit.config.keymap
---@field accept string|false accept the whole suggestion
---@field accept_word string|false accept the next word
---@field accept_line string|false accept the rest of the line
---@field dismiss string|false hide the suggestion
---@field next string|false show the next suggestion
---@field prev string|false show the previous suggestion
---@field trigger string|false ask for a suggestion now
local M = {}

---@type tacit.config.keymap
M.default = {
  accept = "<Tab>",
  accept_word = "<M-Right>",
  accept_line = "<M-Down>",
  dismiss = "<C-]>",
  next = "<M-]>",
  prev = "<M-[>",
  trigger = "<M-\\>",
}

---@param config tacit.config.keymap
function M.validate(config)
  for name in pairs(M.default) do
    validate("keymap." .. name, config[name], function(v)
      return v == false or (type(v) == "string" and v ~= "")
    end, false, "a key such as \"<Tab>\", or false")
  end
end

return M
