-- A fingerprint of a Lua value, so that a reload can tell whether a policy
-- changed between two Lua states: two values get the same fingerprint when
-- they hold the same data and the same code.
--
-- Tables are walked with their keys sorted and their metatables; functions
-- contribute their bytecode without debug information (string.dump with
-- strip), so moving a function to another line is no change, and their
-- upvalues (except _ENV, the globals). C functions are named by where the
-- standard library keeps them. A value met twice in one walk is written as a
-- back reference, which keeps cycles finite.
--
--   local fingerprint = require "luvsup.fingerprint"
--   fingerprint(backoff.fixed { delay = 1 }) == fingerprint(backoff.fixed { delay = 1 })  --> true

local C_NAMES
local function c_name(f)
  if not C_NAMES then
    C_NAMES = {}
    for lib, t in pairs(package.loaded) do
      if type(t) == "table" then
        for k, v in pairs(t) do
          if type(v) == "function" and type(k) == "string" then C_NAMES[v] = lib .. "." .. k end
        end
      end
    end
  end
  return C_NAMES[f] or "?"
end

local walk
-- Bytecode per function, computed once per Lua state: every service shares
-- the library's policy code.
local dumps = setmetatable({}, { __mode = "k" })

local function scalar(v)
  local t = type(v)
  if t == "number" then
    return math.type(v) == "integer" and string.format("i%d", v) or string.format("n%.17g", v)
  elseif t == "string" then
    return string.format("s%d:%s", #v, v)
  end
  return t:sub(1, 1) .. tostring(v)
end

local function walk_table(t, out, seen)
  local keys = {}
  for k in pairs(t) do
    local key_out = {}
    walk(k, key_out, seen)
    keys[#keys + 1] = { table.concat(key_out), k }
  end
  table.sort(keys, function(a, b) return a[1] < b[1] end)
  out[#out + 1] = "{"
  for _, entry in ipairs(keys) do
    out[#out + 1] = entry[1]
    out[#out + 1] = "="
    walk(rawget(t, entry[2]), out, seen)
    out[#out + 1] = ";"
  end
  out[#out + 1] = "}"
  local mt = debug.getmetatable(t)
  if mt ~= nil then
    out[#out + 1] = "meta"
    walk(mt, out, seen)
  end
end

local function walk_function(f, out, seen)
  if debug.getinfo(f, "S").what == "C" then
    out[#out + 1] = "c" .. c_name(f)
    return
  end
  local code = dumps[f]
  if not code then
    code = string.dump(f, true)
    dumps[f] = code
  end
  out[#out + 1] = string.format("f%d:", #code)
  out[#out + 1] = code
  for i = 1, math.huge do
    local name, value = debug.getupvalue(f, i)
    if name == nil then break end
    if name ~= "_ENV" then
      out[#out + 1] = "^"
      walk(value, out, seen)
    end
  end
end

walk = function(v, out, seen)
  local t = type(v)
  if t ~= "table" and t ~= "function" then
    out[#out + 1] = scalar(v)
    return
  end
  if seen[v] then
    out[#out + 1] = "@" .. seen[v]
    return
  end
  seen.n = seen.n + 1
  seen[v] = seen.n
  if t == "table" then walk_table(v, out, seen) else walk_function(v, out, seen) end
end

---Returns the fingerprint of `v` as a string (compare or hash it).
---@param v any
---@return string
return function(v)
  local out = {}
  walk(v, out, { n = 0 })
  return table.concat(out)
end
