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
