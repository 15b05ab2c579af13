-- Small helpers shared by the DSL and the backoff policies: durations, sizes,
-- "did you mean" suggestions and path joining. Pure functions, no globals.

local M = {}

---A length of time: seconds as a number (fractions allowed), or a string such
---as "500ms", "2s", "1.5s", "2m", "1h" or "1m30s".
---@alias Duration number|string

---A number of bytes, or a string such as "512KB", "10MB", "1GiB"
---(K, KB and KiB all mean 1024 bytes; likewise M and G).
---@alias Size integer|string

local DURATION = 'expects a duration (seconds, or a string like "500ms", "2s", "1m", "1h")'
local SIZE = 'expects a size (bytes, or a string like "512KB", "10MB", "1GiB")'
local duration_units = { ms = 0.001, s = 1, sec = 1, m = 60, min = 60, h = 3600, d = 86400 }

---Parses a duration. Returns seconds, or nil and what was wrong.
---@param v any
---@return number|nil seconds
---@return string|nil error
function M.duration(v)
  if math.type(v) ~= nil then
    if v ~= v or v < 0 or v == math.huge then
      return nil, "expects a duration >= 0 (seconds), got " .. tostring(v)
    end
    return v + 0.0
  end
  if type(v) ~= "string" then
    return nil, DURATION .. ", got " .. type(v)
  end
  local s = v:lower():gsub("%s+", "")
  if s == "" then
    return nil, DURATION .. ", got an empty string"
  end
  if tonumber(s) then
    return M.duration(tonumber(s))
  end
  local total, pos = 0.0, 1
  while pos <= #s do
    local num, unit, next_pos = s:match("^(%d+%.?%d*)(%a+)()", pos)
    if not num then
      num, unit, next_pos = s:match("^(%.%d+)(%a+)()", pos)
    end
    local scale = unit and duration_units[unit]
    if not num or not scale then
      return nil, string.format("%s, got %q", DURATION, v)
    end
    total = total + tonumber(num) * scale
    pos = next_pos
  end
  return total
end

local size_units = {
  [""] = 1, b = 1,
  k = 1024, kb = 1024, kib = 1024,
  m = 1024 ^ 2, mb = 1024 ^ 2, mib = 1024 ^ 2,
  g = 1024 ^ 3, gb = 1024 ^ 3, gib = 1024 ^ 3,
}

---Parses a size in bytes. Returns an integer, or nil and what was wrong.
---@param v any
---@return integer|nil bytes
---@return string|nil error
function M.size(v)
  if math.type(v) ~= nil then
    if v ~= v or v < 0 or v >= 2 ^ 62 then
      return nil, "expects a size >= 0 (bytes), got " .. tostring(v)
    end
    return math.floor(v)
  end
  if type(v) ~= "string" then
    return nil, SIZE .. ", got " .. type(v)
  end
  local num, unit = v:gsub("%s+", ""):lower():match("^(%d+%.?%d*)(%a*)$")
  local scale = unit and size_units[unit]
  if not num or not scale then
    return nil, string.format("%s, got %q", SIZE, v)
  end
  return math.floor(tonumber(num) * scale)
end

---Formats seconds for messages: 60 -> "60s", 0.5 -> "0.5s".
---@param seconds number
---@return string
function M.format_seconds(seconds)
  if seconds == math.floor(seconds) then
    return string.format("%ds", math.floor(seconds))
  end
  return string.format("%gs", seconds)
end

---Edit distance between two short strings (insertions, deletions,
---substitutions and swaps of neighbours each count 1).
---@param a string
---@param b string
---@return integer
function M.edit_distance(a, b)
  local d = {}
  for i = 0, #a do d[i] = { [0] = i } end
  for j = 0, #b do d[0][j] = j end
  for i = 1, #a do
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      d[i][j] = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        d[i][j] = math.min(d[i][j], d[i - 2][j - 2] + 1)
      end
    end
  end
  return d[#a][#b]
end

---Suggests the closest candidate to `word`: an alias when one is listed, else
---the closest candidate within edit distance 2 (or half the word's length).
---@param word string
---@param candidates string[]
---@param aliases? table<string,string>
---@return string|nil
function M.suggest(word, candidates, aliases)
  local lower = word:lower()
  if aliases and aliases[lower] then
    return aliases[lower]
  end
  local best, best_d = nil, math.max(2, #word // 2) + 1
  for _, c in ipairs(candidates) do
    local d = M.edit_distance(lower, c:lower())
    if d < best_d then
      best, best_d = c, d
    end
  end
  return best
end

---" did you mean 'x'?" or "" when nothing is close.
---@param word string
---@param candidates string[]
---@param aliases? table<string,string>
---@return string
function M.did_you_mean(word, candidates, aliases)
  local s = M.suggest(word, candidates, aliases)
  return s and string.format("; did you mean '%s'?", s) or ""
end

---Sorted keys of a table, for stable messages and output.
---@param t table
---@return string[]
function M.sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

---Joins `path` to `base` unless it is absolute, and removes "." and ".."
---segments lexically.
---@param base string absolute directory
---@param path string
---@return string
function M.resolve(base, path)
  if path:sub(1, 1) ~= "/" then
    path = base .. "/" .. path
  end
  local parts = {}
  for seg in path:gmatch("[^/]+") do
    if seg == ".." then
      if #parts > 0 then parts[#parts] = nil end
    elseif seg ~= "." then
      parts[#parts + 1] = seg
    end
  end
  return "/" .. table.concat(parts, "/")
end

---Directory part of a path ("/a/b/c.lua" -> "/a/b").
---@param path string
---@return string
function M.dirname(path)
  local dir = path:match("^(.*)/[^/]*$")
  if dir == nil then return "." end
  if dir == "" then return "/" end
  return dir
end

---File name without its directory and without a ".lua" suffix.
---@param path string
---@return string
function M.stem(path)
  local base = path:match("([^/]*)$")
  return (base:gsub("%.lua$", ""))
end

return M
