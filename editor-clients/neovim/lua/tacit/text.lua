---@brief Pure text helpers: LSP position units, code points, and how a suggestion splits into
--- words and lines for partial accepts. No Neovim state; unit-tested under `nvim -l`.

local M = {}

--- Byte length of the UTF-8 sequence starting with byte `b` (1 for stray continuation bytes,
--- so malformed text still advances).
---@param b integer
---@return integer
local function seq_len(b)
  if b >= 0xF0 and b < 0xF8 then
    return 4
  elseif b >= 0xE0 then
    return b < 0xF0 and 3 or 1
  elseif b >= 0xC0 then
    return 2
  end
  return 1
end

--- Code units one character of `n` UTF-8 bytes takes in `encoding`.
---@param n integer
---@param encoding string
---@return integer
local function units(n, encoding)
  if encoding == "utf-8" then
    return n
  elseif encoding == "utf-16" then
    return n == 4 and 2 or 1
  end
  return 1 -- utf-32: code points
end

--- LSP `character` for a 0-based byte column of `line`.
---@param line string
---@param col integer byte offset (0-based); clamped to the line
---@param encoding "utf-8"|"utf-16"|"utf-32"|string
---@return integer
function M.byte_to_lsp(line, col, encoding)
  if encoding == "utf-8" then
    return math.min(col, #line)
  end
  local i, count = 1, 0
  while i <= #line and i <= col do
    local n = seq_len(line:byte(i))
    count = count + units(n, encoding)
    i = i + n
  end
  return count
end

--- 0-based byte column of an LSP `character` in `line` (clamped to the line; a position inside a
--- character rounds up to the character's end).
---@param line string
---@param character integer
---@param encoding "utf-8"|"utf-16"|"utf-32"|string
---@return integer
function M.lsp_to_byte(line, character, encoding)
  if encoding == "utf-8" then
    return math.min(character, #line)
  end
  local i, count = 1, 0
  while i <= #line and count < character do
    local n = seq_len(line:byte(i))
    count = count + units(n, encoding)
    i = i + n
  end
  return math.min(i - 1, #line)
end

--- Number of code points in `s`.
---@param s string
---@return integer
function M.codepoints(s)
  local i, count = 1, 0
  while i <= #s do
    i = i + seq_len(s:byte(i))
    count = count + 1
  end
  return count
end

--- `s` split on "\n" (always at least one element).
---@param s string
---@return string[]
function M.lines(s)
  return vim.split(s, "\n", { plain = true })
end

--- The next word of a suggestion, for "accept word": leading blanks, then a run of word
--- characters (letters, digits, `_`, any non-ASCII) or a run of punctuation. At a line break:
--- the break and the next line's indentation.
---@param s string
---@return string
function M.next_word(s)
  local nl = s:match("^\r?\n[ \t]*")
  if nl then
    return nl
  end
  local blanks = s:match("^[ \t]*")
  local rest = s:sub(#blanks + 1)
  local word = rest:match("^[%w_\128-\255]+") or rest:match("^[^%w_%s\128-\255]+") or ""
  return blanks .. word
end

--- The next line of a suggestion, for "accept line": up to (not including) the next line break;
--- at a line break, the break and the whole next line.
---@param s string
---@return string
function M.next_line(s)
  local nl = s:match("^\r?\n")
  if nl then
    local after = s:sub(#nl + 1)
    return nl .. (after:match("^[^\n]*") or "")
  end
  return s:match("^[^\n]*")
end

--- Where the cursor ends after inserting `s` at (row, col) (0-based rows, byte columns).
---@param row integer
---@param col integer
---@param s string
---@return integer row, integer col
function M.end_of_insert(row, col, s)
  local ls = M.lines(s)
  if #ls == 1 then
    return row, col + #s
  end
  return row + #ls - 1, #ls[#ls]
end

--- Tabs expanded to spaces (virtual text shows a tab as a single cell).
---@param s string
---@param tabstop integer
---@param start_col integer? display column where `s` starts (for tab alignment)
---@return string
function M.expand_tabs(s, tabstop, start_col)
  if not s:find("\t", 1, true) then
    return s
  end
  local out, col = {}, start_col or 0
  for ch in s:gmatch("[%z\1-\127\194-\244][\128-\191]*") do
    if ch == "\t" then
      local n = tabstop - (col % tabstop)
      out[#out + 1] = string.rep(" ", n)
      col = col + n
    else
      out[#out + 1] = ch
      col = col + 1
    end
  end
  return table.concat(out)
end

---@alias tacit.Typed "same"|"through"|"over"|"other"

--- How an edit relates to a visible suggestion.
---
--- `anchor` is where the suggestion's remaining text starts (0-based row, byte col) and the line
--- as it was there; `row`, `col`, `line` are the cursor and its line now (`prev_line`: the line
--- above, for a typed line break). Returns the verdict and, when typing through, the suggestion
--- text the edit consumed:
--- - "same": nothing changed at the anchor (e.g. our own partial accept already moved it);
--- - "through": the user typed exactly the suggestion's next characters (a line break with the
---   editor's indentation counts when the suggestion continues on a new line);
--- - "over": the user typed text the suggestion does not have;
--- - "other": any other edit (deleting, moving) which says nothing about the suggestion.
---@param anchor {row: integer, col: integer, line: string}
---@param remaining string the suggestion text not yet in the buffer
---@param row integer
---@param col integer
---@param line string
---@param prev_line string?
---@return tacit.Typed verdict, string? consumed
function M.classify(anchor, remaining, row, col, line, prev_line)
  local before = anchor.line:sub(1, anchor.col)
  local after = anchor.line:sub(anchor.col + 1)
  if row == anchor.row then
    if line:sub(1, anchor.col) ~= before then
      return "other"
    end
    if col == anchor.col then
      return line == anchor.line and "same" or "other"
    elseif col < anchor.col then
      return "other"
    end
    local typed = line:sub(anchor.col + 1, col)
    if line:sub(col + 1) ~= after and remaining:sub(1, #typed) ~= typed then
      return "over" -- typed text, and something else changed too (autopairs); still not ours
    end
    if remaining:sub(1, #typed) == typed then
      return "through", typed
    end
    return "over"
  elseif row == anchor.row + 1 and prev_line ~= nil then
    -- A line break typed at the anchor: the line above is what was before the anchor (maybe
    -- without trailing blanks), the new line holds indentation before the cursor and the rest.
    local head = line:sub(1, col)
    if prev_line:gsub("[ \t]+$", "") ~= before:gsub("[ \t]+$", "") or not head:match("^[ \t]*$") then
      return "other"
    end
    if line:sub(col + 1) ~= after then
      return "other"
    end
    local nl = remaining:match("^\r?\n")
    if not nl then
      return "over"
    end
    local next_line = remaining:sub(#nl + 1)
    local indent = next_line:match("^[ \t]*")
    if indent:sub(1, #head) == head then
      return "through", nl .. head
    end
    return "other" -- the editor indented differently; neither the user's choice nor a match
  end
  return "other"
end

return M
