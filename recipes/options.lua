--- Option checks shared by the recipes (not a recipe itself).
---
--- ```lua
--- local o = options.check("redis", opts, { "port", "dir" })
--- local port = o:port("port", 6379)
--- ```
---
--- Every check raises "RECIPE: 'KEY' ..." at the line of the stack file that
--- called the recipe, so a mistake is reported where it was made. The methods
--- must be called from the recipe's own function (the error level counts on
--- it).

local util = require "luvsup.util"

-- The recipe's caller: 1 is the method, 2 the recipe, 3 the stack file.
local k_level = 3

---@class RecipeOptions
---@field recipe string
---@field opts table
local Options = {}
Options.__index = Options

local M = {}

local function describe(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

---Checks that `opts` is a table whose keys are all in `known`; returns the
---checker whose methods read and check one option each.
---@param recipe string the recipe's name, for messages
---@param opts any the recipe's argument
---@param known string[] the options the recipe takes
---@return RecipeOptions
function M.check(recipe, opts, known)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then
    error(string.format("%s: expected a table of options, as %s { ... }, got %s", recipe, recipe, type(opts)),
      k_level)
  end
  local set = {}
  for _, k in ipairs(known) do set[k] = true end
  for _, k in ipairs(util.sorted_keys(opts)) do
    if not set[k] then
      error(string.format("%s: unknown option '%s'%s (it takes %s)", recipe, tostring(k),
        util.did_you_mean(tostring(k), known), table.concat(known, ", ")), k_level)
    end
  end
  return setmetatable({ recipe = recipe, opts = opts }, Options)
end

---Raises "RECIPE: 'KEY' MESSAGE" at the stack file's line.
---@param key string
---@param message string
function Options:fail(key, message)
  error(string.format("%s: '%s' %s", self.recipe, key, message), k_level)
end

---A whole number from `min` to `max`, or `default` when absent.
---@param key string
---@param default? integer
---@param min integer
---@param max integer
---@return integer|nil
function Options:integer(key, default, min, max)
  local v = self.opts[key]
  if v == nil then return default end
  if math.type(v) ~= "integer" or v < min or v > max then
    error(string.format("%s: '%s' must be a whole number from %d to %d, got %s", self.recipe, key, min, max,
      describe(v)), k_level)
  end
  return v
end

---A TCP port (1 to 65535), or `default` when absent.
---@param key string
---@param default integer
---@return integer
function Options:port(key, default)
  local v = self.opts[key]
  if v == nil then return default end
  if math.type(v) ~= "integer" or v < 1 or v > 65535 then
    error(string.format("%s: '%s' must be a port from 1 to 65535, got %s", self.recipe, key, describe(v)),
      k_level)
  end
  return v
end

---A non-empty string (numbers are converted), or `default` when absent.
---@param key string
---@param default? string
---@return string|nil
function Options:string(key, default)
  local v = self.opts[key]
  if v == nil then return default end
  if math.type(v) == "integer" then v = tostring(v) end
  if type(v) ~= "string" or v == "" then
    error(string.format("%s: '%s' must be a non-empty string, got %s", self.recipe, key, describe(v)), k_level)
  end
  return v
end

---One of `choices`, or `default` when absent.
---@param key string
---@param default string
---@param choices string[]
---@return string
function Options:choice(key, default, choices)
  local v = self.opts[key]
  if v == nil then return default end
  for _, c in ipairs(choices) do
    if v == c then return v end
  end
  error(string.format("%s: '%s' must be one of \"%s\", got %s%s", self.recipe, key,
    table.concat(choices, "\", \""), describe(v), type(v) == "string" and util.did_you_mean(v, choices) or ""),
    k_level)
end

---true or false, or `default` when absent.
---@param key string
---@param default boolean
---@return boolean
function Options:boolean(key, default)
  local v = self.opts[key]
  if v == nil then return default end
  if type(v) ~= "boolean" then
    error(string.format("%s: '%s' must be true or false, got %s", self.recipe, key, describe(v)), k_level)
  end
  return v
end

---A list of strings (numbers converted), or an empty list when absent.
---@param key string
---@return string[]
function Options:list(key)
  local v = self.opts[key]
  if v == nil then return {} end
  if type(v) ~= "table" then
    error(string.format("%s: '%s' must be a list of strings, got %s", self.recipe, key, describe(v)), k_level)
  end
  local out = {}
  for i, a in ipairs(v) do
    if math.type(a) == "integer" then a = tostring(a) end
    if type(a) ~= "string" then
      error(string.format("%s: '%s' element %d must be a string, got %s", self.recipe, key, i, describe(a)),
        k_level)
    end
    out[i] = a
  end
  return out
end

---A table of NAME = string or number, or an empty table when absent; the
---values are returned as strings, in sorted order as { name, value } pairs.
---@param key string
---@return string[][]
function Options:map(key)
  local v = self.opts[key]
  if v == nil then return {} end
  if type(v) ~= "table" then
    error(string.format("%s: '%s' must be a table of name = value, got %s", self.recipe, key, describe(v)),
      k_level)
  end
  local out = {}
  for _, name in ipairs(util.sorted_keys(v)) do
    local value = v[name]
    if type(name) ~= "string" or not name:match("^[%a_][%w_.%-]*$") then
      error(string.format("%s: '%s' has a bad name %s (names are letters, digits, _ . -)", self.recipe, key,
        describe(name)), k_level)
    end
    if type(value) == "number" then value = tostring(value) end
    if type(value) == "boolean" then value = value and "on" or "off" end
    if type(value) ~= "string" then
      error(string.format("%s: '%s.%s' must be a string or a number, got %s", self.recipe, key, name,
        describe(value)), k_level)
    end
    out[#out + 1] = { name, value }
  end
  return out
end

---A copy of an environment table, or an empty table when absent; the DSL
---checks its names and values with the service's other keys.
---@param key string
---@return table<string, string|number>
function Options:env(key)
  local v = self.opts[key]
  if v == nil then return {} end
  if type(v) ~= "table" then
    error(string.format("%s: '%s' must be a table of NAME = value, got %s", self.recipe, key, describe(v)),
      k_level)
  end
  local out = {}
  for k, value in pairs(v) do out[k] = value end
  return out
end

---The raw value of an option, unchecked (for values the recipe checks
---itself).
---@param key string
---@return any
function Options:raw(key)
  return self.opts[key]
end

---The directory of the stack file being loaded: luvsup puts it first on
---package.path (lua/data_dir.cpp). Recipes resolve the relative paths their
---hooks use against it, since a hook runs in luvsup's own directory.
---@return string|nil
function M.stack_dir()
  return package.path:match("^(/[^;]-)/%?%.lua;")
end

---Whether `address` is an IPv4 address other than 0.0.0.0 (a probe can
---reach the service there); otherwise probes use 127.0.0.1.
---@param address string
---@return string the address to probe
function M.probe_host(address)
  if address:match("^%d+%.%d+%.%d+%.%d+$") and address ~= "0.0.0.0" then return address end
  return "127.0.0.1"
end

return M
