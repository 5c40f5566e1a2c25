-- Tacit's user commands. Nothing starts until require("tacit").setup() is called.
if vim.g.loaded_tacit then
  return
end
vim.g.loaded_tacit = true

if vim.fn.has("nvim-0.10") == 0 then
  vim.api.nvim_echo({ { "tacit: Neovim 0.10 or newer is required (inline virtual text)", "WarningMsg" } }, true, {})
  return
end

local function tacit()
  local t = require("tacit")
  if not t.config then
    error("tacit: call require('tacit').setup() first", 0)
  end
  return t
end

vim.api.nvim_create_user_command("TacitStatus", function()
  require("tacit").status()
end, { desc = "Tacit: server state, model, latency, signal counts" })

vim.api.nvim_create_user_command("TacitToggle", function(args)
  local ft = args.args ~= "" and args.args or nil
  local on = tacit().toggle(ft, args.bang)
  local what = ft or (args.bang and ("filetype " .. vim.bo.filetype)) or "globally"
  vim.api.nvim_echo({ { ("Tacit %s %s"):format(on and "enabled" or "disabled", what) } }, false, {})
end, { bang = true, nargs = "?", complete = "filetype", desc = "Tacit: toggle suggestions (! or {filetype}: per filetype)" })

vim.api.nvim_create_user_command("TacitExplain", function()
  tacit().explain()
end, { desc = "Tacit: the prompt and sources behind the last suggestion" })
