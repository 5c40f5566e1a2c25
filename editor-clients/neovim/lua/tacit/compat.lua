---@brief Differences between Neovim 0.10, 0.11 and 0.12 in one place.
---
--- 0.11 turned `client.request(...)` into the method `client:request(...)` (the dot form warns on
--- 0.12) and gave `vim.validate` a positional form; everything else Tacit uses exists on 0.10.

local M = {}

M.has_011 = vim.fn.has("nvim-0.11") == 1

---@param client vim.lsp.Client
---@param method string
---@param params table?
---@param handler fun(err: table?, result: any, ctx: table)
---@param bufnr integer
---@return boolean ok, integer? request_id
function M.request(client, method, params, handler, bufnr)
  if M.has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

---@param client vim.lsp.Client
---@param method string
---@param params table?
---@return boolean
function M.notify(client, method, params)
  if M.has_011 then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

--- Sends `$/cancelRequest` for a request of ours.
---@param client vim.lsp.Client
---@param id integer
function M.cancel(client, id)
  if client:is_stopped() then
    return
  end
  if M.has_011 then
    client:cancel_request(id)
  else
    client.cancel_request(id)
  end
end

--- `vim.validate` for one value, on every supported version.
---@param name string
---@param value any
---@param types string|string[]|fun(v: any): boolean, string?
---@param optional boolean?
---@param message string? shown instead of the type names when `types` is a function
function M.validate(name, value, types, optional, message)
  if M.has_011 then
    vim.validate(name, value, types, optional, message)
  elseif type(types) == "function" then
    vim.validate({ [name] = { value, types, message or optional } })
  else
    vim.validate({ [name] = { value, types, optional } })
  end
end

return M
