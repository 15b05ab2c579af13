-- Wraps coroutine.resume and coroutine.wrap so that a waiting call (sleep,
-- exec, http, svc:wait) made inside a coroutine the script created itself
-- suspends the whole hook, as OpenResty does: the inner coroutine yields
-- `marker`, the wrapper yields it on to the scheduler, and once the result is
-- ready the scheduler resumes the hook, whose wrapper resumes the inner
-- coroutine to receive it. Installed into each Lua state by
-- src/runbook/runtime_api.cpp before the stack file runs.
return function(marker)
  local raw_resume, raw_yield, status, create = coroutine.resume, coroutine.yield,
    coroutine.status, coroutine.create
  local pack, unpack = table.pack, table.unpack

  local function resume(co, ...)
    local r = pack(raw_resume(co, ...))
    while r[1] and r[2] == marker and status(co) == "suspended" do
      if not coroutine.isyieldable() then
        error("a waiting call inside a coroutine resumed from a C function or metamethod " ..
          "cannot wait; resume it from the hook's own code", 2)
      end
      raw_yield(marker)             -- the enclosing coroutine waits for the same result
      r = pack(raw_resume(co))      -- the inner waiting call receives it
    end
    return unpack(r, 1, r.n)
  end

  coroutine.resume = resume
  coroutine.wrap = function(f)
    local co = create(f)
    return function(...)
      local r = pack(resume(co, ...))
      if not r[1] then
        coroutine.close(co)  -- its to-be-closed variables run, as with the stock wrap
        error(r[2], 0)
      end
      return unpack(r, 2, r.n)
    end
  end
end
