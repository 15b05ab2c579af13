-- Parser for env files (".env"): one KEY=VALUE per line.
--
--   # comments and blank lines are ignored
--   export KEY=value          an "export " prefix is allowed
--   KEY=value # comment       unquoted values are trimmed; " #" starts a comment
--   KEY='literal $value'      single quotes: taken as they are
--   KEY="line\nnext \"q\""    double quotes: \n \t \r \" \\ \$ escapes

local M = {}

local escapes = { n = "\n", t = "\t", r = "\r", ['"'] = '"', ["\\"] = "\\", ["$"] = "$" }

-- Parses a double-quoted value starting after the opening quote at `pos`.
-- Returns the value and the position after the closing quote.
local function double_quoted(s, pos)
  local out = {}
  while pos <= #s do
    local c = s:sub(pos, pos)
    if c == '"' then
      return table.concat(out), pos + 1
    elseif c == "\\" and pos < #s then
      local e = s:sub(pos + 1, pos + 1)
      out[#out + 1] = escapes[e] or ("\\" .. e)
      pos = pos + 2
    else
      out[#out + 1] = c
      pos = pos + 1
    end
  end
  return nil
end

---Parses env file text. Returns a list of {key, value} pairs in file order
---(a key given twice keeps its last value, at its first position), or nil and
---"line N: what is wrong".
---@param text string
---@return {[1]: string, [2]: string}[]|nil pairs
---@return string|nil error
function M.parse(text)
  local pairs_out, index = {}, {}
  local n = 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    line = line:gsub("\r$", "")
    local body = line:match("^%s*(.-)%s*$")
    if body ~= "" and body:sub(1, 1) ~= "#" then
      body = body:gsub("^export%s+", "")
      local key, rest = body:match("^([%a_][%w_%.%-]*)%s*=%s*(.*)$")
      if not key then
        return nil, string.format("line %d: expected KEY=VALUE, got %q", n, line)
      end
      local value, after
      local q = rest:sub(1, 1)
      if q == '"' then
        value, after = double_quoted(rest, 2)
        if not value then
          return nil, string.format("line %d: unterminated double quote", n)
        end
      elseif q == "'" then
        local close = rest:find("'", 2, true)
        if not close then
          return nil, string.format("line %d: unterminated single quote", n)
        end
        value, after = rest:sub(2, close - 1), close + 1
      else
        value = rest:gsub("%s+#.*$", ""):match("^(.-)%s*$")
      end
      if after then
        local tail = rest:sub(after)
        if not tail:match("^%s*$") and not tail:match("^%s+#") then
          return nil, string.format("line %d: unexpected text after the closing quote: %q", n, tail)
        end
      end
      if index[key] then
        pairs_out[index[key]][2] = value
      else
        pairs_out[#pairs_out + 1] = { key, value }
        index[key] = #pairs_out
      end
    end
  end
  return pairs_out
end

---Reads and parses an env file. Returns pairs, or nil and an error.
---@param path string
---@return {[1]: string, [2]: string}[]|nil pairs
---@return string|nil error
function M.read(path)
  local f, err = io.open(path, "r")
  if not f then
    return nil, err
  end
  local text = f:read("a")
  f:close()
  local parsed, perr = M.parse(text)
  if not parsed then
    return nil, path .. ": " .. perr
  end
  return parsed
end

return M
