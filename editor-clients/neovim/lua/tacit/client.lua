---@brief The language-server client: starting `tacit serve` with `vim.lsp.start`, attaching
--- buffers, and the server's notifications (`tacit/status`, `tacit/completionUpdated`).

local compat = require("tacit.compat")

local M = {}

M.name = "tacit"

---@class tacit.ServerState
---@field state string "starting"|"loading"|"ready"|"generating"|"error"|"stopped"
---@field message string
---@field latency_ms number?
---@field engine string?
M.server = { state = "stopped", message = "" }

---@type fun(params: {uri: string, id: string, version: integer?})?
M.on_completion_updated = nil

--- The Tacit client attached to `buf` (or any Tacit client when `buf` is nil).
---@param buf integer?
---@return vim.lsp.Client?
function M.get(buf)
  return vim.lsp.get_clients({ name = M.name, bufnr = buf })[1]
end

--- The workspace root for `buf`: the nearest folder with a root marker; else the working
--- directory when the file is under it; else the file's folder.
---@param buf integer
---@param markers string[]
---@return string
function M.root_dir(buf, markers)
  local path = vim.api.nvim_buf_get_name(buf)
  local root = #markers > 0 and vim.fs.root(buf, markers) or nil
  if root then
    return root
  end
  local cwd = vim.fn.getcwd()
  if path:sub(1, #cwd + 1) == cwd .. "/" then
    return cwd
  end
  return vim.fs.dirname(path)
end

local function set_state(params)
  M.server.state = params.state or M.server.state
  M.server.message = params.message or ""
  M.server.engine = params.engine or M.server.engine
  if params.latencyMs then
    M.server.latency_ms = params.latencyMs
  end
  vim.api.nvim_exec_autocmds("User", { pattern = "TacitStatus", modeline = false, data = M.server })
end

M.handlers = {
  ["tacit/status"] = function(_, params)
    if type(params) == "table" then
      set_state(params)
    end
  end,
  ["tacit/completionUpdated"] = function(_, params)
    if type(params) == "table" and M.on_completion_updated then
      M.on_completion_updated(params)
    end
  end,
}

--- Start the server if needed and attach it to `buf`.
---@param buf integer
---@param config tacit.config.server
---@return integer? client_id
function M.attach(buf, config)
  if vim.fn.executable(config.cmd[1]) == 0 then
    if not M.warned_missing then
      M.warned_missing = true
      vim.notify(("tacit: `%s` is not executable; set server.cmd (see :checkhealth tacit)"):format(config.cmd[1]),
        vim.log.levels.WARN)
    end
    return nil
  end
  local options = vim.deepcopy(config.options)
  if next(options) == nil then
    options = vim.empty_dict() -- `{}` would go out as a JSON array
  end
  return vim.lsp.start({
    name = M.name,
    cmd = config.cmd,
    root_dir = M.root_dir(buf, config.root_markers),
    init_options = options,
    handlers = M.handlers,
    flags = { debounce_text_changes = config.debounce_text_changes },
    on_init = function()
      if M.server.state == "stopped" then
        M.server.state = "starting"
      end
    end,
    on_exit = function(code)
      vim.schedule(function()
        if not M.get() then
          set_state({ state = "stopped", message = code ~= 0 and ("exited with code " .. code) or "" })
        end
      end)
    end,
  }, { bufnr = buf, silent = false })
end

--- Send new server options to running clients (`workspace/didChangeConfiguration`).
---@param options table
function M.configure(options)
  for _, client in ipairs(vim.lsp.get_clients({ name = M.name })) do
    compat.notify(client, "workspace/didChangeConfiguration", { settings = { tacit = options } })
  end
end

--- Ask the server for its state (`tacit/getStatus`).
---@param callback fun(err: table?, status: table?)
function M.get_status(callback)
  local client = M.get()
  if not client then
    return callback({ message = "no Tacit server is running" }, nil)
  end
  compat.request(client, "tacit/getStatus", vim.empty_dict(), function(err, result)
    if result and result.state then
      M.server.state = result.state
      M.server.latency_ms = result.latencyMs or M.server.latency_ms
    end
    callback(err, result)
  end, 0)
end

return M
