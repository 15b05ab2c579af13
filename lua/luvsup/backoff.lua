-- Restart policies: when to restart a service that exited, and when to give up.
--
-- A policy is a callable `(svc, exit) -> delay | nil [, reason]`: the number of
-- seconds to wait before the restart, or nil to stop restarting ("fatal", or
-- "completed" for a successful exit that is not restarted). luvsup calls
-- policies through `backoff.decide`, which also says whether the service is
-- crash-looping. Policies are pure functions of their arguments (apart from
-- jitter), so a reload can swap them while the service keeps its history.
--
--   local backoff = require "luvsup.backoff"
--   restart = backoff.exponential { initial = 1, factor = 2, max = 60,
--                                   max_restarts = 10, within = 600 }

local util = require "luvsup.util"

local M = {}

---One exit of a service's main process, as luvsup recorded it.
---@class ExitInfo
---@field cause "crashed"|"completed"|"spawn_failed"|"killed_by_health"|"stopped_by_user"|"restarted_by_reload"|"shutdown"|"start_refused"|"restarted_by_hook"
---@field code integer|nil exit code, nil when killed by a signal or never started
---@field signal string|nil terminating signal name without "SIG" ("KILL"), or nil
---@field core_dumped boolean
---@field success boolean the code is one of the service's success_codes
---@field uptime number seconds between spawn and exit
---@field time number monotonic time of the exit, in seconds
---@field error string|nil what failed, for spawn failures

---What a policy may look at.
---@class ServiceInfo
---@field name string
---@field oneshot boolean
---@field restarts integer restarts since luvsup started managing the service
---@field exits ExitInfo[] recent exits, oldest first, the current exit last (at most 64)

---A restart policy function: returns the delay in seconds before the restart,
---or nil (and optionally a reason) to stop restarting.
---@alias RestartFunction fun(svc: ServiceInfo, exit: ExitInfo): number|nil, string|nil

---@alias RestartPolicy "always"|"on-failure"|"never"|BackoffPolicy|RestartFunction

---Options of `backoff.exponential`.
---@class ExponentialOptions
---@field initial? Duration first delay (default 1 s)
---@field factor? number multiplier per quick exit in a row (default 2)
---@field max? Duration largest delay (default 60 s)
---@field jitter? number random spread, a fraction of the delay (default 0.1 = ±10 %)
---@field reset_after? Duration an exit after running this long starts the sequence again (default 60 s)
---@field max_restarts? integer give up after this many restarts (within `within`, if given; at most 60)
---@field within? Duration the window for max_restarts
---@field on_failure? boolean do not restart after a successful exit (default false)

---Options of `backoff.fixed`.
---@class FixedOptions
---@field delay? Duration the delay before every restart (default 1 s)
---@field jitter? number random spread, a fraction of the delay (default 0)
---@field reset_after? Duration uptime below which an exit counts as quick, for crash-loop detection (default 60 s)
---@field max_restarts? integer give up after this many restarts (within `within`, if given; at most 60)
---@field within? Duration the window for max_restarts
---@field on_failure? boolean do not restart after a successful exit (default false)

---A policy built by this module; call it as `policy(svc, exit)`.
---@class BackoffPolicy
---@field kind "exponential"|"fixed"|"never"
---@field initial number
---@field factor number
---@field max number
---@field jitter number
---@field reset_after number
---@field max_restarts integer|nil
---@field within number|nil
---@field on_failure boolean
---@overload fun(svc: ServiceInfo, exit: ExitInfo): number|nil, string|nil

-- luvsup keeps the last 64 exits; a budget must fit in that history.
M.MAX_RESTARTS_LIMIT = 60
-- Exits in a row that came this soon after their start mean "crash-looping".
M.CRASH_LOOP_EXITS = 3
M.DEFAULT_RESET_AFTER = 60

local Policy = { __name = "luvsup.backoff.policy" }
Policy.__index = Policy

---True when `v` was built by this module.
---@param v any
---@return boolean
function M.is_policy(v)
  return getmetatable(v) == Policy
end

-- How many exits in a row, ending with the newest, were quick.
local function quick_streak(exits, reset_after)
  local n = 0
  for i = #exits, 1, -1 do
    if (exits[i].uptime or 0) >= reset_after then break end
    n = n + 1
  end
  return n
end

local function history(svc, exit)
  local exits = svc and svc.exits
  if type(exits) ~= "table" or #exits == 0 then
    return { exit }
  end
  return exits
end

function Policy.__call(p, svc, exit)
  if exit.success and (p.on_failure or svc.oneshot) then
    return nil, "completed"
  end
  if p.kind == "never" then
    return nil, "restart is \"never\""
  end
  local exits = history(svc, exit)
  if p.max_restarts then
    if p.within then
      local n = 0
      for _, e in ipairs(exits) do
        if e.time > exit.time - p.within then n = n + 1 end
      end
      if n > p.max_restarts then
        return nil, string.format("%d restarts within %s", p.max_restarts, util.format_seconds(p.within))
      end
    elseif (svc.restarts or 0) >= p.max_restarts then
      return nil, string.format("%d restarts", p.max_restarts)
    end
  end
  local delay = p.initial
  if p.kind == "exponential" then
    local streak = math.max(1, quick_streak(exits, p.reset_after))
    delay = math.min(p.max, p.initial * p.factor ^ (streak - 1))
  end
  if p.jitter > 0 then
    delay = delay * (1 + (math.random() * 2 - 1) * p.jitter)
  end
  return math.max(0, delay)
end

function Policy.__tostring(p)
  return "backoff." .. p.kind
end

-- Checks `opts` against `fields` (name -> "duration" | "number" | "integer" |
-- "boolean"); returns a normalised copy or raises an error at the caller's line.
local function check(fname, opts, fields, defaults)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then
    error(string.format("%s expects a table of options, got %s", fname, type(opts)), 3)
  end
  local out = {}
  for k, v in pairs(opts) do
    local kind = fields[k]
    if not kind then
      local names = util.sorted_keys(fields)
      error(string.format("%s: unknown option '%s'%s", fname, tostring(k),
        util.did_you_mean(tostring(k), names)), 3)
    end
    local ok, err = v, nil
    if kind == "duration" then
      ok, err = util.duration(v)
    elseif kind == "boolean" then
      if type(v) ~= "boolean" then ok, err = nil, "expects true or false, got " .. type(v) end
    elseif math.type(v) == nil then
      ok, err = nil, "expects a number, got " .. type(v)
    elseif kind == "integer" and (math.type(v) ~= "integer" and v ~= math.floor(v) or v < 0) then
      ok, err = nil, "expects a whole number >= 0, got " .. tostring(v)
    elseif v < 0 then
      ok, err = nil, "expects a number >= 0, got " .. tostring(v)
    end
    if ok == nil then
      error(string.format("%s: option '%s' %s", fname, k, err), 3)
    end
    out[k] = ok
  end
  for k, v in pairs(defaults) do
    if out[k] == nil then out[k] = v end
  end
  if out.max_restarts and out.max_restarts > M.MAX_RESTARTS_LIMIT then
    error(string.format("%s: max_restarts must be at most %d (luvsup keeps the last 64 exits), got %d",
      fname, M.MAX_RESTARTS_LIMIT, out.max_restarts), 3)
  end
  if out.within and not out.max_restarts then
    error(string.format("%s: 'within' needs 'max_restarts'", fname), 3)
  end
  if out.max_restarts then out.max_restarts = math.floor(out.max_restarts) end
  return out
end

local exponential_fields = {
  initial = "duration", factor = "number", max = "duration", jitter = "number",
  reset_after = "duration", max_restarts = "integer", within = "duration", on_failure = "boolean",
}
local exponential_defaults = {
  initial = 1.0, factor = 2.0, max = 60.0, jitter = 0.1,
  reset_after = M.DEFAULT_RESET_AFTER + 0.0, on_failure = false,
}

---Delays that grow by `factor` with each quick exit in a row:
---initial, initial*factor, ... up to max, with ±jitter. An exit after running
---`reset_after` seconds or longer starts again at `initial`. Never gives up
---unless `max_restarts` is set.
---@param opts? ExponentialOptions
---@return BackoffPolicy
function M.exponential(opts)
  local p = check("backoff.exponential", opts, exponential_fields, exponential_defaults)
  if p.factor < 1 then
    error("backoff.exponential: option 'factor' must be >= 1, got " .. tostring(p.factor), 2)
  end
  p.kind = "exponential"
  return setmetatable(p, Policy)
end

local fixed_fields = {
  delay = "duration", jitter = "number", reset_after = "duration",
  max_restarts = "integer", within = "duration", on_failure = "boolean",
}

---The same delay before every restart. `backoff.fixed(5)` is short for
---`backoff.fixed { delay = 5 }`.
---@param opts? FixedOptions|Duration
---@return BackoffPolicy
function M.fixed(opts)
  if type(opts) == "number" or type(opts) == "string" then opts = { delay = opts } end
  local p = check("backoff.fixed", opts, fixed_fields,
    { delay = 1.0, jitter = 0.0, reset_after = M.DEFAULT_RESET_AFTER + 0.0, on_failure = false })
  p.kind, p.initial, p.delay = "fixed", p.delay, nil
  p.factor, p.max = 1.0, p.initial
  return setmetatable(p, Policy)
end

---Never restarts.
---@return BackoffPolicy
function M.never()
  return setmetatable({ kind = "never", initial = 0.0, factor = 1.0, max = 0.0, jitter = 0.0,
    reset_after = M.DEFAULT_RESET_AFTER + 0.0, on_failure = true }, Policy)
end

---The policy a restart string names: "always" (the default exponential
---backoff), "on-failure" (the same, but a successful exit is not restarted) or
---"never". Returns nil and an error for other strings.
---@param name string
---@return BackoffPolicy|nil
---@return string|nil error
function M.named(name)
  if name == "always" then
    return M.exponential()
  elseif name == "on-failure" then
    return M.exponential { on_failure = true }
  elseif name == "never" then
    return M.never()
  end
  return nil, string.format("unknown restart policy %q%s (use \"always\", \"on-failure\", \"never\", " ..
    "a backoff policy or a function)", name, util.did_you_mean(name, { "always", "on-failure", "never" },
    { on_failure = "on-failure", onfailure = "on-failure", no = "never", ["false"] = "never", yes = "always" }))
end

---The default policy of a oneshot service: restart on failure, at most 3
---times within 60 seconds.
---@return BackoffPolicy
function M.oneshot_default()
  return M.exponential { on_failure = true, max_restarts = 3, within = 60 }
end

---Runs `policy` for `exit` and checks what it returned. Returns the delay (or
---nil to stop restarting), whether the service is crash-looping (3 or more
---quick exits in a row, quick meaning less than the policy's reset_after, 60 s
---for functions), and a reason when it stops. A completed oneshot service is
---never restarted. Raises an error when the policy returns something other
---than a delay or nil.
---@param policy RestartPolicy
---@param svc ServiceInfo
---@param exit ExitInfo
---@return number|nil delay
---@return boolean crash_looping
---@return string reason
function M.decide(policy, svc, exit)
  if type(policy) == "string" then
    policy = assert(M.named(policy))
  end
  local reset_after = M.is_policy(policy) and policy.reset_after or M.DEFAULT_RESET_AFTER
  local delay, reason
  if exit.success and svc.oneshot then
    delay, reason = nil, "completed"
  else
    delay, reason = policy(svc, exit)
  end
  if delay ~= nil then
    if math.type(delay) == nil then
      error(string.format("restart policy returned a %s (%s); expected a delay in seconds or nil",
        type(delay), tostring(delay)), 0)
    end
    if delay ~= delay or delay < 0 or delay == math.huge then
      error("restart policy returned an invalid delay " .. tostring(delay), 0)
    end
  end
  if reason ~= nil then
    reason = tostring(reason)
  elseif delay == nil then
    reason = "restart policy gave up"
  else
    reason = ""
  end
  local crash_looping = delay ~= nil and
    quick_streak(history(svc, exit), reset_after) >= M.CRASH_LOOP_EXITS
  return delay, crash_looping, reason
end

return M
