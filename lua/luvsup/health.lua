-- luvsup.health: health probes, their validation, and the decisions on their
-- results.
--
--   health = health.http { url = "http://127.0.0.1:5001/health", interval = 10,
--                          fallback = health.tcp { port = 5001 } }
--
-- The constructors only record their arguments; `M.normalise` (called by the
-- DSL's `health` key) validates them, so that a mistake is reported at the
-- service's line with the key that is wrong. Probe I/O is C++'s: C++ runs the
-- http, tcp and exec leaves of a probe tree and gives their raw results to
-- `M.judge`, which applies the verdicts, all/any, the thresholds, the start
-- period and the fallback, and returns the new health state.

local util = require "luvsup.util"

---What a probe reports, as verdicts and on_unhealthy see it.
---@class ProbeResult
---@field ok boolean the I/O succeeded (connected, got a response, exited 0)
---@field status integer the HTTP status or the exec probe's exit code; 0 otherwise
---@field latency number seconds the probe took
---@field error string why it failed ("" when ok)
---@field output string the HTTP body or the exec probe's output (capped)
---@field timed_out boolean it ran past its timeout
---@field results? ProbeResult[] the results of the probes of health.all / health.any

---A verdict: returns whether the result passes, and why not.
---@alias Verdict fun(result: ProbeResult): boolean, string?

---The keys every probe takes (the schedule keys only on the top-level one).
---@class ProbeOptions
---@field timeout? Duration how long one probe may take (default 1)
---@field verdict? Verdict replaces the probe's own verdict
---@field interval? Duration between probes once it passed (default 10)
---@field retries? integer counted failures in a row that make it unhealthy (default 3)
---@field success_threshold? integer passes in a row that make it healthy (default 1)
---@field start_period? Duration failures after the spawn do not count for this long (default 0)
---@field start_interval? Duration between probes until the first pass (default 1)
---@field fallback? table|function a probe that excuses a primary that never passed
---@field fallback_grace? Duration how long the fallback excuses a primary that used to pass (default 60)

---@class HttpProbeOptions: ProbeOptions
---@field url string http:// or https:// URL
---@field method? string default "GET"
---@field expect_status? integer|integer[]|string statuses that pass (default "200-399")
---@field expect_body? string a Lua pattern the body must contain
---@field headers? table<string, string>
---@field tls_verify? boolean verify the certificate and host name (default true)

---@class TcpProbeOptions: ProbeOptions
---@field port integer
---@field host? string an IP address or "localhost" (default "127.0.0.1")

---@class ExecProbeOptions: ProbeOptions
---@field cmd string|string[] the command; passes when it exits 0

local M = {}

local Probe = {}
Probe.__index = Probe
Probe.__name = "luvsup.health probe"

-- Keys of the top-level probe that set the schedule (never on nested probes,
-- except `timeout`, which every probe may set for itself).
M.schedule_keys = { "interval", "timeout", "retries", "success_threshold", "start_period",
  "start_interval", "fallback", "fallback_grace" }
M.kind_keys = {
  http = { "url", "method", "expect_status", "expect_body", "headers", "timeout", "tls_verify", "verdict" },
  tcp = { "host", "port", "timeout", "verdict" },
  exec = { "cmd", "timeout", "verdict" },
  all = { "timeout", "verdict" },
  any = { "timeout", "verdict" },
}

-- Defaults, argued in luvsup-stack(5).
M.defaults = { interval = 10.0, timeout = 1.0, retries = 3, success_threshold = 1, start_period = 0.0,
  start_interval = 1.0, fallback_grace = 60.0 }

local function set_of(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end
local schedule_set = set_of(M.schedule_keys)

local function callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__call ~= nil
end

---Whether `v` is a probe: a value made by this module or any callable.
function M.is_probe(v)
  return getmetatable(v) == Probe or callable(v)
end

local function constructor(kind, short_key, short_type)
  return function(opts)
    if type(opts) == short_type then opts = { [short_key] = opts } end
    if type(opts) ~= "table" or getmetatable(opts) == Probe then
      error(string.format("health.%s expects a table { %s = ... }, got %s", kind, short_key,
        getmetatable(opts) == Probe and "a probe" or type(opts)), 2)
    end
    local copy = {}
    for k, v in pairs(opts) do copy[k] = v end
    if kind == "exec" and copy.cmd == nil and copy[1] ~= nil then
      -- health.exec { "pg_isready", "-q", timeout = 5 }: the list is the argv.
      copy.cmd = {}
      for i, a in ipairs(opts) do copy.cmd[i], copy[i] = a, nil end
    end
    return setmetatable({ kind = kind, opts = copy }, Probe)
  end
end

---An HTTP(S) request that passes when the status is in expect_status
---(default 200-399) and the body matches expect_body (a Lua pattern).
---@type fun(opts: HttpProbeOptions|string): table
M.http = constructor("http", "url", "string")
---A TCP connect that passes when the connection is accepted.
---@type fun(opts: TcpProbeOptions|integer): table
M.tcp = constructor("tcp", "port", "number")
---A command that passes when it exits 0; killed (whole group) at its timeout.
---@type fun(opts: ExecProbeOptions|string): table
M.exec = constructor("exec", "cmd", "string")

local function composite(kind)
  return function(list)
    if type(list) ~= "table" or getmetatable(list) == Probe then
      error(string.format("health.%s expects a list of probes: health.%s { p1, p2 }", kind, kind), 2)
    end
    local copy = {}
    for k, v in pairs(list) do copy[k] = v end
    return setmetatable({ kind = kind, opts = copy }, Probe)
  end
end

---Passes when every probe of the list passes.
M.all = composite("all")
---Passes when at least one probe of the list passes.
M.any = composite("any")

-- Validation ------------------------------------------------------------------

local function duration(fail, v, key)
  local d, err = util.duration(v)
  if not d then fail(err, key) end
  return d
end

local function whole(fail, v, key, min)
  if math.type(v) ~= "integer" or v < min then
    fail(string.format("expects a whole number >= %d, got %s", min, tostring(v)), key)
  end
  return v
end

local function status_ranges(fail, v)
  local function range(x)
    if math.type(x) == "integer" and x >= 100 and x <= 599 then return { x, x } end
    if type(x) == "string" then
      local lo, hi = x:match("^%s*(%d%d%d)%s*%-%s*(%d%d%d)%s*$")
      lo, hi = tonumber(lo), tonumber(hi)
      if lo and lo <= hi and lo >= 100 and hi <= 599 then return { lo, hi } end
      local one = tonumber(x:match("^%s*(%d%d%d)%s*$"))
      if one and one >= 100 and one <= 599 then return { one, one } end
    end
    fail(string.format("expects an HTTP status (100-599), a list of them or a range like \"200-399\", got %s",
      type(x) == "string" and string.format("%q", x) or tostring(x)), "expect_status")
  end
  if type(v) == "table" then
    if #v == 0 then fail("expects a non-empty list of statuses", "expect_status") end
    local out = {}
    for i, x in ipairs(v) do out[i] = range(x) end
    return out
  end
  return { range(v) }
end

local function check_pattern(fail, p, key)
  if type(p) ~= "string" then fail("expects a Lua pattern (string), got " .. type(p), key) end
  local ok, err = pcall(string.find, "", p)
  if not ok then
    fail(string.format("is not a valid Lua pattern: %s", tostring(err):gsub("^.-:%d+: ", "")), key)
  end
  return p
end
M.check_pattern = check_pattern

local function check_keys(fail, opts, allowed, top, kind)
  local list = {}
  for _, k in ipairs(allowed) do list[#list + 1] = k end
  if top then
    for _, k in ipairs(M.schedule_keys) do list[#list + 1] = k end
  end
  local ok = set_of(list)
  for k in pairs(opts) do
    if math.type(k) ~= "integer" or (kind ~= "all" and kind ~= "any") then
      if not ok[k] then
        if schedule_set[k] and not top then
          fail(string.format("'%s' belongs to the top-level probe of 'health', not to a nested %s probe",
            tostring(k), kind), tostring(k))
        end
        fail(string.format("unknown key '%s' for health.%s%s", tostring(k), kind,
          util.did_you_mean(tostring(k), list, { path = "url", status = "expect_status",
            body = "expect_body", verify = "tls_verify", command = "cmd", address = "host" })), tostring(k), true)
      end
    end
  end
end

local normalise_node

-- The URL checks libcurl would otherwise fail every probe on, at run time:
-- a mistake in the stack must be reported at load, not restart a good service.
local function check_url(fail, url)
  if type(url) ~= "string" or not url:match("^https?://[^/]") then
    fail(string.format("expects an http:// or https:// URL, got %s",
      type(url) == "string" and string.format("%q", url) or type(url)), "url")
  end
  if url:find("[%s%c]") then
    fail(string.format("expects a URL without spaces or control characters (write a space as %%20), got %q",
      url), "url")
  end
  local host_port = url:match("^https?://([^/?#]*)"):match("[^@]*$")
  local host, port = host_port:match("^(%[[^%]]+%])(.*)$")
  if not host then host, port = host_port:match("^([^:%[%]]+)(.*)$") end
  local number = port and tonumber(port:match("^:(%d+)$"))
  if not host or (port ~= "" and port ~= ":" and not (number and number >= 1 and number <= 65535)) then
    fail(string.format("expects a URL with a host and an optional port from 1 to 65535, got %q", url), "url")
  end
end

local function leaf_of(fail, kind, o, timeout, ctx)
  local node = { kind = kind, timeout = timeout }
  if kind == "http" then
    check_url(fail, o.url)
    node.url = o.url
    if o.method ~= nil and (type(o.method) ~= "string" or not o.method:match("^%u+$")) then
      fail("expects an HTTP method like \"GET\" or \"HEAD\", got " .. tostring(o.method), "method")
    end
    node.method = o.method or "GET"
    node.expect_status = o.expect_status ~= nil and status_ranges(fail, o.expect_status) or { { 200, 399 } }
    if o.expect_body ~= nil then node.expect_body = check_pattern(fail, o.expect_body, "expect_body") end
    node.headers = {}
    if o.headers ~= nil then
      if type(o.headers) ~= "table" then fail("expects a table of Name = value", "headers") end
      for _, name in ipairs(util.sorted_keys(o.headers)) do
        local val = o.headers[name]
        if type(name) ~= "string" or not name:match("^[%w%-_]+$") or type(val) ~= "string" then
          fail(string.format("expects Name = \"value\" strings, got %s = %s", tostring(name), type(val)), "headers")
        end
        if val:find("[\r\n%z]") then
          local shown = val:gsub("[\r\n%z]", { ["\r"] = "\\r", ["\n"] = "\\n", ["\0"] = "\\0" })
          fail(string.format("expects values without line breaks, got %s = \"%s\"", name, shown), "headers")
        end
        node.headers[#node.headers + 1] = { name, val }
      end
    end
    if o.tls_verify ~= nil and type(o.tls_verify) ~= "boolean" then
      fail("expects true or false, got " .. type(o.tls_verify), "tls_verify")
    end
    node.tls_verify = o.tls_verify ~= false
  elseif kind == "tcp" then
    if math.type(o.port) ~= "integer" or o.port < 1 or o.port > 65535 then
      fail("expects a port from 1 to 65535, got " .. tostring(o.port), "port")
    end
    node.port = o.port
    local host = o.host or "127.0.0.1"
    if host == "localhost" then host = "127.0.0.1" end
    if type(host) ~= "string" or not (host:match("^%d+%.%d+%.%d+%.%d+$") or host:match("^[%x:]+$")) then
      fail(string.format("expects an IP address (or \"localhost\"), got %s", tostring(host)), "host")
    end
    node.host = host
  elseif kind == "exec" then
    local cmd = o.cmd
    if type(cmd) == "string" then
      if cmd:match("^%s*$") then fail("is an empty command", "cmd") end
      cmd = { "/bin/sh", "-c", cmd }
    end
    if type(cmd) ~= "table" or #cmd == 0 then
      fail("expects a list of strings (argv) or a string run by /bin/sh -c", "cmd")
    end
    node.argv = {}
    for i, a in ipairs(cmd) do
      if type(a) ~= "string" then fail(string.format("element %d expects a string, got %s", i, type(a)), "cmd") end
      node.argv[i] = a
    end
  end
  ctx.leaves = ctx.leaves + 1
  node.leaf = ctx.leaves
  return node
end

-- Validates one probe and returns its normalised node. `top` tells whether it
-- is the probe given to `health =` (where the schedule keys belong).
normalise_node = function(v, fail, timeout, ctx, top)
  if getmetatable(v) ~= Probe then
    if callable(v) then
      -- C++ runs it like an I/O leaf, as a coroutine, so that it may wait.
      ctx.leaves = ctx.leaves + 1
      return { kind = "lua", fn = v, timeout = timeout, leaf = ctx.leaves }
    end
    fail(string.format("expects a probe (health.http{}, health.tcp{}, health.exec{}, health.all{}, " ..
      "health.any{}) or a function, got %s", type(v)))
  end
  local o = v.opts
  check_keys(fail, o, M.kind_keys[v.kind], top, v.kind)
  if o.timeout ~= nil then
    timeout = duration(fail, o.timeout, "timeout")
    if timeout <= 0 then fail("must be above 0", "timeout") end
  end
  local node
  if v.kind == "all" or v.kind == "any" then
    node = { kind = v.kind, timeout = timeout, children = {} }
    if #o == 0 then fail(string.format("health.%s needs at least one probe", v.kind)) end
    for i, child in ipairs(o) do node.children[i] = normalise_node(child, fail, timeout, ctx, false) end
  else
    node = leaf_of(fail, v.kind, o, timeout, ctx)
  end
  if o.verdict ~= nil then
    if not callable(o.verdict) then fail("expects a function(result) returning ok[, error]", "verdict") end
    node.verdict = o.verdict
  end
  return node
end

---Validates the value of a service's `health` key and returns its normalised
---definition: the schedule, `probe` and `fallback` (node trees whose I/O
---leaves are numbered by `leaf`). `fail(message, subkey, full)` must raise;
---`full` marks an "unknown key 'k' ..." message that names its own key.
---@param v any
---@param fail fun(message: string, subkey?: string)
---@return table
function M.normalise(v, fail)
  local o = getmetatable(v) == Probe and v.opts or {}
  local def = {}
  for k, d in pairs(M.defaults) do def[k] = d end
  for _, k in ipairs { "interval", "start_period", "start_interval", "fallback_grace" } do
    if o[k] ~= nil then def[k] = duration(fail, o[k], k) end
  end
  if def.interval <= 0 then fail("must be above 0", "interval") end
  if def.start_interval <= 0 then fail("must be above 0", "start_interval") end
  if o.timeout ~= nil then def.timeout = duration(fail, o.timeout, "timeout") end
  if def.timeout <= 0 then fail("must be above 0", "timeout") end
  if o.retries ~= nil then def.retries = whole(fail, o.retries, "retries", 1) end
  if o.success_threshold ~= nil then def.success_threshold = whole(fail, o.success_threshold, "success_threshold", 1) end
  def.probe = normalise_node(v, fail, def.timeout, { leaves = 0 }, true)
  if o.fallback ~= nil then
    def.fallback = normalise_node(o.fallback, function(msg, key, full)
      fail(msg, key and ("fallback." .. key) or "fallback", full)
    end, def.timeout, { leaves = 0 }, false)
  end
  return def
end

-- Verdicts --------------------------------------------------------------------

local function in_ranges(status, ranges)
  for _, r in ipairs(ranges) do
    if status >= r[1] and status <= r[2] then return true end
  end
  return false
end

local function describe_ranges(ranges)
  local parts = {}
  for _, r in ipairs(ranges) do
    parts[#parts + 1] = r[1] == r[2] and tostring(r[1]) or string.format("%d-%d", r[1], r[2])
  end
  return table.concat(parts, ", ")
end

-- The default verdict of a leaf on its raw result.
local function default_verdict(node, r)
  if not r.ok then return false, r.error ~= "" and r.error or "failed" end
  if node.kind == "http" then
    if not in_ranges(r.status, node.expect_status) then
      return false, string.format("HTTP %d (expected %s)", r.status, describe_ranges(node.expect_status))
    end
    if node.expect_body and not (r.output or ""):find(node.expect_body) then
      return false, string.format("HTTP %d but the body does not match %q", r.status, node.expect_body)
    end
  end
  return true
end

-- Summaries of http leaves by status, built once: a judge runs every round.
local http_summaries = setmetatable({}, { __index = function(t, status)
  local text = string.format("http %d", status)
  t[status] = text
  return text
end })

local function summary_of(node, r)
  if node.kind == "http" then
    local status = math.tointeger(r.status) or 0
    return status >= 0 and status < 1000 and http_summaries[status] or string.format("http %d", status)
  end
  if node.kind == "exec" then return string.format("exec exit %d", r.status or 0) end
  if node.kind == "tcp" then return string.format("tcp %s:%d", node.host, node.port) end
  return node.kind
end

-- Calls a user function under the caller's budget; a raise is a failed probe.
local function protected(fn, arg)
  local ok, a, b = pcall(fn, arg)
  if not ok then return false, "raised: " .. tostring(a) end
  if a then return true end
  return false, b ~= nil and tostring(b) or "returned false"
end

-- Evaluates a probe tree on the raw leaf results. Returns ok, error and the
-- result table handed to verdicts (ok, status, latency, error, output,
-- timed_out; `results` for all/any). `kept`: a verdict above may keep the
-- results, so a leaf hands on a copy.
local function evaluate(node, results, kept)
  local r
  if node.kind == "all" or node.kind == "any" then
    local children, oks, errs, latency = {}, 0, {}, 0
    for i, child in ipairs(node.children) do
      local ok, err, cr = evaluate(child, results, kept or node.verdict ~= nil)
      children[i] = cr
      latency = math.max(latency, cr.latency or 0)
      if ok then oks = oks + 1 else errs[#errs + 1] = err end
    end
    local ok = node.kind == "all" and oks == #node.children or node.kind == "any" and oks > 0
    r = { ok = ok, error = ok and "" or table.concat(errs, "; "), status = 0, latency = latency, output = "",
      timed_out = false, results = children }
    if node.verdict then
      local vok, verr = protected(node.verdict, r)
      r.ok, r.error = vok, verr or ""
    end
    r.summary = node.kind
    return r.ok, r.error, r
  else
    local raw = results[node.leaf] or { ok = false, error = "no result", status = 0, latency = 0 }
    if node.verdict or kept then
      -- A copy: the result tables are refilled every round (lua_health_policy.cpp),
      -- and a verdict (this leaf's, or an all/any's above it) may keep or change its table.
      r = {}
      for k, v in pairs(raw) do r[k] = v end
    else
      r = raw -- only this round's judge reads it
    end
  end
  local ok, err
  if node.verdict then
    ok, err = protected(node.verdict, r)
  else
    ok, err = default_verdict(node, r)
  end
  r.summary = summary_of(node, r)
  r.verdict_ok, r.verdict_error = ok, err
  return ok, err or "", r
end

---Judges one probe round. `c` holds the health state C++ keeps (state,
---failures, successes, fired_at, primary_passed, excused_since, started,
---in_start_period); `primary` and `fallback` the raw leaf results by leaf
---number (fallback nil when there is none). Returns the new state and what
---happened: passed, error, warning, summary, latency, status, output, fire,
---and `next`, the seconds until the next probe.
---@param def table a normalised health definition
---@param c table
---@param primary table
---@param fallback table|nil
---@param now number monotonic seconds
---@param out? table the table to answer in, refilled from round to round (default: a new one)
---@return table
function M.judge(def, c, primary, fallback, now, out)
  -- Every field of the answer is set here, so that a table of the previous
  -- round keeps nothing of it.
  out = out or {}
  out.state, out.failures, out.successes, out.fired_at = c.state, c.failures, c.successes, c.fired_at
  out.primary_passed, out.excused_since, out.in_start_period = c.primary_passed, c.excused_since, c.in_start_period
  out.fire, out.passed, out.error, out.warning, out.next = false, nil, nil, nil, nil
  local pok, perr, pres = evaluate(def.probe, primary)
  out.summary, out.latency, out.status, out.output = pres.summary, pres.latency or 0, pres.status or 0, pres.output or ""
  local passed, err = pok, perr
  if pok then
    out.primary_passed, out.excused_since = true, nil
  elseif def.fallback and fallback then
    local fok, ferr, fres = evaluate(def.fallback, fallback)
    if fok then out.summary = "fallback " .. fres.summary end
    if fok and not c.primary_passed then
      passed = true
      out.warning = string.format("the health probe looks broken (%s) but its fallback passes: " ..
        "counting the service healthy", perr)
    elseif fok then
      out.excused_since = c.excused_since or now
      if now - out.excused_since < def.fallback_grace then
        passed = true
        out.warning = string.format("health probe failing (%s); its fallback passes, excused for %s at most",
          perr, util.format_seconds(def.fallback_grace))
      else
        err = string.format("%s (the fallback passes, but its grace of %s is over)", perr,
          util.format_seconds(def.fallback_grace))
      end
    else
      err = string.format("%s; fallback: %s", perr, ferr)
    end
  end
  out.passed, out.error = passed, passed and "" or err
  if passed then
    out.failures, out.successes, out.in_start_period = 0, c.successes + 1, false
    if out.state ~= "healthy" and out.successes >= def.success_threshold then
      out.state, out.fired_at = "healthy", 0
    end
    out.next = M.next_interval(def, out, c.started, now)
    return out
  end
  out.successes = 0
  out.next = M.next_interval(def, out, c.started, now)
  if c.in_start_period and now - c.started < def.start_period then
    return out  -- failures during the start period do not count
  end
  out.failures = c.failures + 1
  if out.failures >= def.retries then
    if out.state ~= "unhealthy" then
      out.state, out.fire, out.fired_at = "unhealthy", true, out.failures
    elseif out.failures - c.fired_at >= def.retries then
      out.fire, out.fired_at = true, out.failures
    end
  end
  return out
end

---The interval until the next probe: start_interval (or interval, when it is
---shorter) until the first pass, while the start period lasts or, with no
---start period, until the first pass; then interval.
function M.next_interval(def, c, started, now)
  if c.in_start_period and (def.start_period == 0 or now - started < def.start_period) then
    return math.min(def.start_interval, def.interval)
  end
  return def.interval
end

return M
