local tacit = require("tacit")

--- setup() with a server command that never exists, so no spec starts a real server.
local function setup(opts)
  opts = opts or {}
  opts.server = vim.tbl_extend("force", opts.server or {}, { cmd = { "tacit-not-installed", "serve" } })
  tacit.setup(opts)
end

local function autocmd_count()
  return #vim.api.nvim_get_autocmds({ group = "tacit" })
end

local function tacit_maps()
  local n = 0
  for _, m in ipairs(vim.api.nvim_get_keymap("i")) do
    if (m.desc or ""):find("^Tacit") then
      n = n + 1
    end
  end
  return n
end

describe("setup", function()
  it("warns once when the server command is missing, and starts nothing", function()
    local warnings = {}
    local notify = vim.notify
    vim.notify = function(msg)
      warnings[#warnings + 1] = msg
    end
    setup()
    local buf = vim.api.nvim_create_buf(true, false)
    vim.api.nvim_buf_set_name(buf, "/tmp/tacit-missing.py")
    tacit.attach(buf)
    tacit.attach(buf)
    vim.notify = notify
    eq(1, #warnings)
    eq(true, warnings[1]:find("tacit-not-installed", 1, true) ~= nil)
    eq(0, #vim.lsp.get_clients({ name = "tacit" }))
  end)
  it("is idempotent: a second call replaces keys and autocommands", function()
    setup()
    local autocmds, maps = autocmd_count(), tacit_maps()
    eq(7, maps)
    setup()
    eq(autocmds, autocmd_count())
    eq(maps, tacit_maps())
  end)
  it("keys set to false are not mapped, and old keys go away", function()
    setup({ keymap = { accept_word = false, accept = "<C-l>" } })
    eq(6, tacit_maps())
    eq("", vim.fn.maparg("<Tab>", "i"))
    eq(true, vim.fn.maparg("<C-l>", "i", false, true).expr == 1)
  end)
  it("rejects bad options with the option's name and keeps the old config", function()
    setup({ suggestion = { debounce = 5 } })
    raises("suggestion.debounce", function()
      tacit.setup({ suggestion = { debounce = -1 } })
    end)
    eq(5, tacit.config.suggestion.debounce)
  end)
end)

describe("toggle", function()
  it("globally, per filetype, and for the current buffer's filetype with a bang", function()
    setup({ filetypes = { markdown = false } })
    eq(true, tacit.enabled)
    eq(false, tacit.toggle())
    eq(true, tacit.toggle())
    eq(false, tacit.ft_enabled("markdown"))
    eq(true, tacit.toggle("markdown"))
    eq(true, tacit.ft_enabled("markdown"))
    vim.bo.filetype = "lua"
    eq(false, tacit.toggle(nil, true))
    eq(false, tacit.ft_enabled("lua"))
    eq(true, tacit.ft_enabled("python"))
  end)
  it("a buffer needs a file name, a normal buftype and an enabled filetype", function()
    setup()
    local buf = vim.api.nvim_create_buf(true, false)
    eq(false, tacit.is_enabled(buf)) -- no name
    vim.api.nvim_buf_set_name(buf, "/tmp/tacit-spec.py")
    vim.bo[buf].filetype = "python"
    eq(true, tacit.is_enabled(buf))
    vim.bo[buf].filetype = "help"
    eq(false, tacit.is_enabled(buf)) -- off by default
    vim.bo[buf].filetype = "python"
    vim.bo[buf].buftype = "nofile"
    eq(false, tacit.is_enabled(buf))
  end)
end)

describe("explain_lines", function()
  it("header, sources, snippets, then the prompt", function()
    local lines = tacit.explain_lines({ id = "tacit-1", template = "qwen", sources = { "definitions", "prefix" },
      snippets = { { source = "definitions", path = "a.py", text = "def f(): ..." },
        { source = "scopes", parts = { "file_calls" }, path = "", text = "f(1)" } }, prompt = "x\ny" })
    eq({ "Suggestion tacit-1, template qwen", "Sources: definitions, prefix", "  [definitions] a.py",
      "  [scopes + file_calls] ", string.rep("-", 72), "x", "y" }, lines)
  end)
end)
