-- A small test runner for `nvim -l tests/run.lua [FILE_spec.lua ...]`: describe/it, a few asserts,
-- and a closing "N passed, N failed" line. Runs every tests/*_spec.lua when given no files.
local here = vim.fs.dirname(vim.fs.normalize(debug.getinfo(1, "S").source:sub(2)))
local root = vim.fs.dirname(here)
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
vim.opt.runtimepath:prepend(root)

local passed, failed, prefix = 0, 0, {}

_G.describe = function(name, fn)
  prefix[#prefix + 1] = name
  fn()
  prefix[#prefix] = nil
end

_G.it = function(name, fn)
  local full = table.concat(prefix, " ") .. " " .. name
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    passed = passed + 1
  else
    failed = failed + 1
    io.stdout:write("FAIL " .. full .. "\n" .. tostring(err) .. "\n")
  end
end

_G.eq = function(expected, actual, msg)
  if not vim.deep_equal(expected, actual) then
    error(("%sexpected %s, got %s"):format(msg and (msg .. ": ") or "", vim.inspect(expected), vim.inspect(actual)), 2)
  end
end

--- `fn` raises an error whose message contains `pattern` (plain text).
_G.raises = function(pattern, fn)
  local ok, err = pcall(fn)
  if ok then
    error("expected an error containing " .. vim.inspect(pattern), 2)
  end
  if not tostring(err):find(pattern, 1, true) then
    error(("expected an error containing %s, got %s"):format(vim.inspect(pattern), vim.inspect(err)), 2)
  end
end

local files = _G.arg and #_G.arg > 0 and _G.arg or vim.fn.glob(here .. "/*_spec.lua", false, true)
table.sort(files)
for _, file in ipairs(files) do
  local ok, err = xpcall(dofile, debug.traceback, file)
  if not ok then
    failed = failed + 1
    io.stdout:write("ERROR loading " .. file .. "\n" .. tostring(err) .. "\n")
  end
end
io.stdout:write(("%s: %d passed, %d failed\n"):format(tostring(vim.version()), passed, failed))
os.exit(failed == 0 and 0 or 1)
