---@brief :checkhealth tacit

local M = {}

function M.check()
  local health = vim.health
  health.start("tacit")
  if vim.fn.has("nvim-0.10") == 1 then
    health.ok("Neovim " .. tostring(vim.version()))
  else
    health.error("Neovim 0.10 or newer is required (inline virtual text)")
  end
  local tacit = require("tacit")
  local config = tacit.config
  if not config then
    health.warn("setup() has not been called", { "Add require('tacit').setup() to your config" })
    config = require("tacit.config").default()
  else
    health.ok("setup() called; suggestions " .. (tacit.enabled and "enabled" or "disabled"))
  end
  local exe = config.server.cmd[1]
  local path = vim.fn.exepath(exe)
  if path ~= "" then
    health.ok(("server command: %s (%s)"):format(table.concat(config.server.cmd, " "), path))
  else
    health.error(("`%s` is not executable"):format(exe), {
      "Install Tacit (`make` in its repository puts it in .venv/bin)",
      "or set server.cmd = { '/path/to/.venv/bin/tacit', 'serve' }",
    })
  end
  local client = require("tacit.client")
  local c = client.get()
  if not c then
    health.info("no Tacit server is running (it starts with the first enabled buffer)")
    return
  end
  health.ok(("server running (client id %d, position encoding %s)"):format(c.id, tostring(c.offset_encoding)))
  local state = client.server.state
  if state == "error" then
    health.error("server state: error: " .. client.server.message)
  elseif state == "ready" or state == "generating" then
    health.ok("server state: " .. state)
  else
    health.warn("server state: " .. state .. (client.server.message ~= "" and (" (" .. client.server.message .. ")") or ""))
  end
end

return M
