local json = require("json")

local M = {}

-- Add two numbers.
function M.add(a, b)
  return a + b
end

function M:describe()
  return "M"
end

local function helper(x)
  return x
end

return M
