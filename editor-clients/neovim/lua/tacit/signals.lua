---@brief What happened to each suggestion, reported to the server as `tacit/signal`.
---
--- Keyed by the suggestion id (`item.command.arguments[0]`). For each id we keep whether it was
--- shown, whether it is decided (accepted, dismissed, typed over: nothing is sent after that) and
--- how far into its text the buffer now holds it (`pos`, in code points of the insertText as first
--- shown, counting both typed-through and accepted text): that is the cumulative `acceptedLength`.
--- `send` is injected, so this module is pure and unit-tested.

---@alias tacit.SignalKind "shown"|"accepted"|"partiallyAccepted"|"dismissed"|"typedOver"

---@class tacit.SignalState
---@field shown boolean
---@field decided tacit.SignalKind?
---@field pos integer code points of the suggestion now in the buffer

---@class tacit.Signals
---@field send fun(params: {id: string, kind: tacit.SignalKind, acceptedLength: integer?})
---@field ids table<string, tacit.SignalState>
---@field order string[] ids, oldest first (bounded)
---@field counts table<string, integer> signals sent, by kind
---@field limit integer
local Signals = {}
Signals.__index = Signals

---@param send fun(params: table)
---@param limit integer? how many ids to remember (default 500)
---@return tacit.Signals
function Signals.new(send, limit)
  return setmetatable({ send = send, ids = {}, order = {}, counts = {}, limit = limit or 500 }, Signals)
end

---@param id string
---@return tacit.SignalState
function Signals:state(id)
  local s = self.ids[id]
  if not s then
    s = { shown = false, pos = 0 }
    self.ids[id] = s
    self.order[#self.order + 1] = id
    while #self.order > self.limit do
      self.ids[table.remove(self.order, 1)] = nil
    end
  end
  return s
end

---@private
function Signals:_send(id, kind, length)
  self.counts[kind] = (self.counts[kind] or 0) + 1
  self.send({ id = id, kind = kind, acceptedLength = length })
end

--- The suggestion's ghost text is on screen: `shown`, once per id. `pos` is where the displayed
--- text starts inside the suggestion (code points already in the buffer, e.g. typed before the
--- response came), used only the first time.
---@param id string
---@param pos integer?
---@return boolean sent
function Signals:shown(id, pos)
  local s = self:state(id)
  if s.shown or s.decided then
    return false
  end
  s.shown, s.pos = true, pos or 0
  self:_send(id, "shown")
  return true
end

--- The user typed `n` more code points of the suggestion (no signal: typing through).
---@param id string
---@param n integer
function Signals:consumed(id, n)
  local s = self:state(id)
  s.pos = s.pos + n
end

--- Accept word/line took `n` more code points: `partiallyAccepted` with the cumulative length.
---@param id string
---@param n integer
---@return boolean sent
function Signals:partial(id, n)
  local s = self:state(id)
  if s.decided then
    return false
  end
  s.pos = s.pos + n
  self:_send(id, "partiallyAccepted", s.pos)
  return true
end

--- The rest (`n` code points) was accepted: `accepted` with the total length.
---@param id string
---@param n integer
---@return boolean sent
function Signals:accepted(id, n)
  local s = self:state(id)
  if s.decided then
    return false
  end
  s.pos, s.decided = s.pos + n, "accepted"
  self:_send(id, "accepted", s.pos)
  return true
end

---@private
function Signals:_decide(id, kind)
  local s = self:state(id)
  if s.decided or not s.shown then
    return false
  end
  s.decided = kind
  self:_send(id, kind)
  return true
end

--- Dismissed by the user (dismiss key, leaving insert mode with it visible).
---@param id string
---@return boolean sent
function Signals:dismissed(id)
  return self:_decide(id, "dismissed")
end

--- The user typed something the suggestion does not have.
---@param id string
---@return boolean sent
function Signals:typed_over(id)
  return self:_decide(id, "typedOver")
end

---@param id string
---@return boolean
function Signals:is_decided(id)
  local s = self.ids[id]
  return s ~= nil and s.decided ~= nil
end

return Signals
