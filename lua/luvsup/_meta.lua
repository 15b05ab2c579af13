---@meta
-- Declarations for lua-language-server: the globals a stack file sees.
-- Point the language server's workspace.library at luvsup's lua/ directory
-- (e.g. /usr/local/share/luvsup/lua) to get completion in stack.lua.

---Declares a service: `service "name" { cmd = ..., ... }`.
---@param name string letters, digits, '_' and '-', starting with a letter or '_'
---@return fun(def: ServiceDef)
function service(name) end

---Stack-wide settings; may be called once, before or after the services.
---@param def StackDef
function stack(def) end

---The body of `task "name" { ... }`.
---@class TaskDef
---@field every? Duration run once per period (at least 1s)
---@field cron? string run at the times of a 5-field cron expression, local time
---@field run fun(task: {name: string, dir: string}) the work; may call exec, sleep, log.*
---@field timeout? Duration cancel a run that takes longer (default: none)

---Declares a scheduled task: `task "name" { every = "1h", run = function(t) ... end }`.
---@param name string letters, digits, '_' and '-', starting with a letter or '_'
---@return fun(def: TaskDef)
function task(name) end
