-- A fingerprint of a Lua value, so that a reload can tell whether a policy
-- changed between two Lua states: two values get the same fingerprint when
-- they hold the same data and the same code.
--
-- Tables are walked with their keys sorted and their metatables; functions
-- contribute their bytecode without debug information (string.dump with
-- strip) and their upvalues (except _ENV, the globals). C functions are named
-- by where the standard library keeps them. Each table and function is
-- fingerprinted once per Lua state and then stands for itself in its parents
-- by `hash(its fingerprint)`, so the many services that share the library's
-- policy code cost one walk; a table met again while its own walk is still
-- running is written as "<cycle>".
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

local function scalar(v)
  local t = type(v)
  if t == "number" then
    return math.type(v) == "integer" and string.format("i%d", v) or string.format("n%.17g", v)
  elseif t == "string" then
    return string.format("s%d:%s", #v, v)
  end
  return t:sub(1, 1) .. tostring(v)
end

local memo = setmetatable({}, { __mode = "k" })  -- value -> hash of its fingerprint
local active = {}                                -- values whose walk is running

local fingerprint

local function of_table(t, hash)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = { fingerprint(k, hash), k } end
  table.sort(keys, function(a, b) return a[1] < b[1] end)
  local out = { "{" }
  for _, entry in ipairs(keys) do
    out[#out + 1] = entry[1] .. "=" .. fingerprint(rawget(t, entry[2]), hash) .. ";"
  end
  out[#out + 1] = "}"
  local mt = debug.getmetatable(t)
  if mt ~= nil then out[#out + 1] = "meta" .. fingerprint(mt, hash) end
  return table.concat(out)
end

local function of_function(f, hash)
  if debug.getinfo(f, "S").what == "C" then return "c" .. c_name(f) end
  local code = string.dump(f, true)
  local out = { string.format("f%d:", #code), code }
  for i = 1, math.huge do
    local name, value = debug.getupvalue(f, i)
    if name == nil then break end
    if name ~= "_ENV" then out[#out + 1] = "^" .. fingerprint(value, hash) end
  end
  return table.concat(out)
end

fingerprint = function(v, hash)
  local t = type(v)
  if t ~= "table" and t ~= "function" then return scalar(v) end
  local known = memo[v]
  if known then return known end
  if active[v] then return "<cycle>" end
  active[v] = true
  local ok, text = pcall(t == "table" and of_table or of_function, v, hash)
  active[v] = nil
  if not ok then error(text, 0) end
  local h = "#" .. hash(text)
  memo[v] = h
  return h
end

---Returns the fingerprint of `v` as a short string. `hash(s)` condenses a
---string into a short one (luvsup passes a 64-bit hash); by default the
---strings are kept whole.
---@param v any
---@param hash? fun(s: string): string
---@return string
return function(v, hash)
  return fingerprint(v, hash or function(s) return s end)
end
