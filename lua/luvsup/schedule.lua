-- When scheduled tasks run: `every = "1h"` periods and 5-field cron
-- expressions, and the next run after a moment of the wall clock.
--
--   local s = schedule.cron("0 3 * * 1-5")      -- 03:00 local time, Monday to Friday
--   local t = schedule.next_after(s, os.time())  -- seconds since the epoch
--
-- Cron fields follow the wall clock in local time (os.date "*t"), so a run
-- happens at the time the clock shows, whatever the monotonic clock did
-- meanwhile (a suspend, a clock change); the C++ timer (src/runbook/
-- task_timer.cpp) asks again whenever it wakes up. Pure functions.

local util = require "luvsup.util"

local M = {}

---@class Schedule
---@field kind "every"|"cron"
---@field text string the expression as written ("1h", "*/15 * * * *")
---@field seconds? number every: the period
---@field fields? table<string, table<integer, boolean>> cron: allowed values per field

-- The five cron fields, in order, with their ranges and names.
local FIELDS = {
  { key = "minute", label = "minute", min = 0, max = 59 },
  { key = "hour", label = "hour", min = 0, max = 23 },
  { key = "day", label = "day-of-month", min = 1, max = 31 },
  { key = "month", label = "month", min = 1, max = 12,
    names = { "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec" } },
  { key = "weekday", label = "day-of-week", min = 0, max = 7,
    names = { [0] = "sun", "mon", "tue", "wed", "thu", "fri", "sat" } },
}

local MACROS = {
  ["@hourly"] = "0 * * * *",
  ["@daily"] = "0 0 * * *",
  ["@midnight"] = "0 0 * * *",
  ["@weekly"] = "0 0 * * 0",
  ["@monthly"] = "0 0 1 * *",
  ["@yearly"] = "0 0 1 1 *",
  ["@annually"] = "0 0 1 1 *",
}

-- The shortest period `every` accepts: a task is not a busy loop.
M.min_period = 1

---Parses an `every` period. Returns the schedule, or nil and what was wrong.
---@param v any a duration: seconds, or "30s", "5m", "1h30m", "1d"
---@return Schedule|nil
---@return string|nil error
function M.every(v)
  local seconds, err = util.duration(v)
  if not seconds then return nil, err end
  if seconds < M.min_period then
    return nil, string.format("must be at least %s, got %s", util.format_seconds(M.min_period),
      util.format_seconds(seconds))
  end
  return { kind = "every", text = type(v) == "string" and v or util.format_seconds(seconds), seconds = seconds }
end

-- A value of a field: a number or (months, days of the week) a name.
local function value_of(field, word)
  if word:match("^%d+$") then
    local n = tonumber(word)
    if n < field.min or n > field.max then
      return nil, string.format("%s field: %s is out of range %d-%d", field.label, word, field.min, field.max)
    end
    return n
  end
  if field.names then
    local lower = word:lower()
    local candidates = {}
    for n = field.min, field.max do
      if field.names[n] == lower then return n end
      candidates[#candidates + 1] = field.names[n]
    end
    return nil, string.format("%s field: unknown name '%s'%s", field.label, word,
      util.did_you_mean(lower, candidates))
  end
  return nil, string.format("%s field: '%s' is not a number from %d to %d", field.label, word, field.min, field.max)
end

-- Parses one field ("*/15", "1-5", "mon,wed,fri", "0-30/10") into a set.
local function parse_field(field, text)
  local set = {}
  for part in (text .. ","):gmatch("([^,]*),") do
    if part == "" then
      return nil, string.format("%s field '%s' has an empty list element", field.label, text)
    end
    local range, step = part:match("^([^/]+)/(.*)$")
    range = range or part
    local lo, hi
    if range == "*" then
      lo, hi = field.min, field.max
    else
      local a, b = range:match("^([^-]+)-([^-]+)$")
      local err
      if a then
        lo, err = value_of(field, a)
        if not lo then return nil, err end
        hi, err = value_of(field, b)
        if not hi then return nil, err end
        if hi < lo then
          return nil, string.format("%s field: range %s runs backwards", field.label, range)
        end
      else
        lo, err = value_of(field, range)
        if not lo then return nil, err end
        -- "5/15" means from 5 to the end in steps of 15.
        hi = step and field.max or lo
      end
    end
    local by = 1
    if step then
      by = step:match("^%d+$") and tonumber(step)
      if not by or by == 0 then
        return nil, string.format("%s field: step '%s' in '%s' must be a whole number above 0", field.label, step, part)
      end
    end
    for n = lo, hi, by do set[n] = true end
  end
  return set
end

-- The most days a month in `months` can have (February: 29).
local MONTH_DAYS = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }

---Parses a 5-field cron expression ("minute hour day-of-month month
---day-of-week") or a macro (@hourly, @daily, @weekly, @monthly, @yearly).
---Sunday is 0 or 7. Returns the schedule, or nil and what was wrong.
---@param text any
---@return Schedule|nil
---@return string|nil error
function M.cron(text)
  if type(text) ~= "string" then
    return nil, "expects a cron expression string like \"*/15 * * * *\", got " .. type(text)
  end
  local expr = text:match("^%s*(.-)%s*$")
  if expr:sub(1, 1) == "@" then
    local macro = MACROS[expr:lower()]
    if not macro then
      local names = util.sorted_keys(MACROS)
      return nil, string.format("unknown macro '%s' (use %s)%s", expr, table.concat(names, ", "),
        util.did_you_mean(expr:lower(), names))
    end
    expr = macro
  end
  local words = {}
  for w in expr:gmatch("%S+") do words[#words + 1] = w end
  if #words ~= 5 then
    return nil, string.format("expects 5 fields (minute hour day-of-month month day-of-week), got %d in %q",
      #words, text)
  end
  local fields = {}
  for i, field in ipairs(FIELDS) do
    local set, err = parse_field(field, words[i])
    if not set then return nil, err end
    fields[field.key] = set
  end
  if fields.weekday[7] then fields.weekday[0], fields.weekday[7] = true, nil end
  -- Vixie cron: when both day fields are restricted, either may match.
  local any_day, any_weekday = words[3]:sub(1, 1) == "*", words[5]:sub(1, 1) == "*"
  if any_weekday and not any_day then
    local possible = false
    for month in pairs(fields.month) do
      for day in pairs(fields.day) do
        possible = possible or day <= MONTH_DAYS[month]
      end
    end
    if not possible then
      return nil, string.format("day-of-month field: no month in %q has such a day, so it would never run", text)
    end
  end
  return { kind = "cron", text = text, fields = fields, any_day = any_day, any_weekday = any_weekday }
end

-- Whether the day of `tm` matches the day-of-month and day-of-week fields.
local function day_matches(s, tm)
  local by_day, by_weekday = s.fields.day[tm.day], s.fields.weekday[tm.wday - 1]
  if s.any_day and s.any_weekday then return true end
  if s.any_day then return by_weekday == true end
  if s.any_weekday then return by_day == true end
  return by_day or by_weekday or false
end

-- The local wall-clock minute of `tm` as a sortable number.
local function wall_key(tm)
  return (((tm.year * 100 + tm.month) * 100 + tm.day) * 100 + tm.hour) * 100 + tm.min
end

-- Searching further than this finds nothing new (leap days recur within 8 years).
local SEARCH_YEARS = 9

---The first run strictly after `t` (seconds since the epoch, wall clock):
---`t` plus the period for `every`, the next matching minute of the local
---wall clock for cron. Returns seconds since the epoch, or nil and why.
---@param s Schedule
---@param t number
---@return number|nil
---@return string|nil error
function M.next_after(s, t)
  if s.kind == "every" then
    return t + s.seconds
  end
  local f = s.fields
  local m = (math.floor(t) // 60 + 1) * 60  -- the next whole minute after t
  local limit = m + SEARCH_YEARS * 366 * 86400
  -- When the clock falls back, the repeated local times are not "after" t.
  local after = wall_key(os.date("*t", math.floor(t)))
  while m < limit do
    local tm = os.date("*t", m)
    if wall_key(tm) <= after then
      m = m + 60
    elseif not f.month[tm.month] then
      m = os.time { year = tm.year, month = tm.month + 1, day = 1, hour = 0, min = 0, sec = 0 }
    elseif not day_matches(s, tm) then
      m = os.time { year = tm.year, month = tm.month, day = tm.day + 1, hour = 0, min = 0, sec = 0 }
    elseif not f.hour[tm.hour] then
      m = m + (60 - tm.min) * 60
    elseif not f.minute[tm.min] then
      m = m + 60
    else
      return m
    end
  end
  return nil, string.format("cron %q has no run in the next %d years", s.text, SEARCH_YEARS)
end

---"every 1h" or "cron '0 3 * * *'", for messages and the log.
---@param s Schedule
---@return string
function M.describe(s)
  if s.kind == "every" then return "every " .. s.text end
  return string.format("cron '%s'", s.text)
end

return M
