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

local Row = {
  -- A cell by column name.
  get = function(self, name)
    return self[name]
  end,
}

return M
