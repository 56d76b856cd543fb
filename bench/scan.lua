-- One phase of the scan benchmark, driven by bench/scan.sh (see bench/README.md).
--
-- Every request is `POST /api/v1/scans`. What it scans depends on SCAN_MODE:
--   accepted   each valid token once, never repeated: with T threads, thread i takes token
--              lines i, i+T, i+2T, ...; a thread that runs out stops (see "exhaustion" below)
--   duplicate  the tokens in SCAN_TOKENS (already admitted), cycled round and round
--   invalid    a random token from SCAN_TOKENS with one signature character changed
--
-- Environment: SCAN_MODE, SCAN_TOKENS (file, one token per line), SCAN_API_KEY, SCAN_THREADS
-- (the -t given to wrk; a thread cannot ask wrk for it).
--
-- done() prints one line that scan.sh parses:
--   SCAN_RESULT mode=accepted duration_us=.. active_us=.. requests=.. p50_us=.. p99_us=..
--     status_200=.. outcome_admitted=.. err_timeout=.. exhausted_threads=..
-- Responses are counted by HTTP status and by the body's "outcome" ("none" when it has none).
--
-- Exhaustion: at more than (tokens / duration) scans per second the valid tokens run out before
-- the phase ends. A thread that has no token left stops instead of repeating one, and the rate
-- must then be taken over the time the phase really ran: active_us, from the first request to
-- the last response (monotonic clock through LuaJIT's ffi), instead of wrk's duration.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } scan_timespec;
int clock_gettime(int clk_id, scan_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("scan_timespec")

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000000 + math.floor(tonumber(timespec.tv_nsec) / 1000)
end

local function required_env(name)
  local value = os.getenv(name)
  if value == nil or value == "" then
    error("scan.lua: environment variable " .. name .. " is not set")
  end
  return value
end

local mode = required_env("SCAN_MODE")
if mode ~= "accepted" and mode ~= "duplicate" and mode ~= "invalid" then
  error("scan.lua: SCAN_MODE must be accepted, duplicate or invalid, not " .. mode)
end

---------------------------------------------------------------------------------------------
-- Setup (the main Lua state): number the threads, keep them for done().

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads) -- 0-based
  table.insert(threads, thread)
end

---------------------------------------------------------------------------------------------
-- Running (one Lua state per wrk thread). Globals here are what done() reads with thread:get.

statuses = {}          -- "s200" -> count
outcomes = {}          -- "admitted" -> count
first_request_us = 0   -- when this thread built its first request
last_response_us = 0   -- when it last received a response
exhausted = 0          -- 1 once this thread ran out of fresh tokens

local tokens = {}
local next_token = 0
local headers
local scan_path = "/api/v1/scans"

-- Thread i of T keeps lines i, i+T, i+2T, ... (0-based), so no two threads share a token.
local function load_tokens(path, index, stride)
  local mine, all = {}, {}
  local line_no = 0
  for line in io.lines(path) do
    if line ~= "" then
      if line_no % stride == index then
        mine[#mine + 1] = line
      end
      all[#all + 1] = line
      line_no = line_no + 1
    end
  end
  return mine, all
end

function init(args)
  local stride = tonumber(required_env("SCAN_THREADS"))
  local mine, all = load_tokens(required_env("SCAN_TOKENS"), thread_index, stride)
  tokens = mine
  if #tokens == 0 and mode ~= "accepted" then
    -- Fewer rescannable tokens than threads: repeats are fine in these phases.
    tokens = all
  end
  if #tokens == 0 then
    error("scan.lua: no tokens for thread " .. thread_index)
  end
  headers = {
    ["Authorization"] = "Bearer " .. required_env("SCAN_API_KEY"),
    ["Content-Type"] = "application/json",
  }
  math.randomseed(os.time() * 1000 + thread_index)
end

local function scan_request(token)
  return wrk.format("POST", scan_path, headers,
    '{"token":"' .. token .. '","gate":"g1","device":"wrk"}')
end

-- A different character at a random place in the signature: a compact code's (`E` + Base45,
-- docs/api.md) last 90 characters, all of them signature; a JWT's part after the last dot. The
-- last two characters are left alone: a JWT's low bits may be padding, so changing them might
-- not change the decoded signature.
local function with_bad_signature(token)
  local first, last
  if token:sub(1, 1) == "E" then
    first, last = #token - 90, #token - 2
  else
    local dot = token:match("^.*()%.") or #token
    first, last = dot + 1, #token - 2
  end
  if first < 2 or last < first then
    return token .. "x" -- not a JWT shape at all; the server answers "malformed"
  end
  local at = math.random(first, last)
  local old = token:sub(at, at)
  local new = (old == "A") and "B" or "A"
  return token:sub(1, at - 1) .. new .. token:sub(at + 1)
end

function request()
  if first_request_us == 0 then
    first_request_us = now_us()
  end
  if mode == "accepted" then
    next_token = next_token + 1
    if next_token > #tokens then
      -- Out of fresh tokens: stop rather than repeat one. wrk still sends what this call
      -- returns, so return something harmless that is not a scan.
      if exhausted == 0 then
        exhausted = 1
        wrk.thread:stop()
      end
      return wrk.format("GET", "/healthz")
    end
    return scan_request(tokens[next_token])
  elseif mode == "duplicate" then
    next_token = next_token % #tokens + 1
    return scan_request(tokens[next_token])
  else
    return scan_request(with_bad_signature(tokens[math.random(#tokens)]))
  end
end

local function bump(counts, key)
  counts[key] = (counts[key] or 0) + 1
end

function response(status, headers, body)
  local outcome = body and body:match('"outcome"%s*:%s*"([%w_]+)"')
  if outcome == nil and exhausted == 1 then
    return -- the /healthz sent after running out of tokens; not a scan
  end
  last_response_us = now_us()
  bump(statuses, "s" .. status)
  bump(outcomes, outcome or "none")
end

---------------------------------------------------------------------------------------------
-- Done (the main Lua state): add up the threads' counters, print one parseable line.

function done(summary, latency, requests)
  local statuses_total, outcomes_total = {}, {}
  local started, finished, exhausted_threads = nil, 0, 0
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("statuses") or {}) do
      statuses_total[key] = (statuses_total[key] or 0) + n
    end
    for key, n in pairs(thread:get("outcomes") or {}) do
      outcomes_total[key] = (outcomes_total[key] or 0) + n
    end
    local first = thread:get("first_request_us") or 0
    if first > 0 and (started == nil or first < started) then
      started = first
    end
    finished = math.max(finished, thread:get("last_response_us") or 0)
    exhausted_threads = exhausted_threads + (thread:get("exhausted") or 0)
  end

  -- When no thread ran out, the phase lasted wrk's whole duration.
  local active_us = summary.duration
  if exhausted_threads > 0 and started ~= nil and finished > started then
    active_us = finished - started
  end

  local fields = {
    "SCAN_RESULT",
    "mode=" .. mode,
    "duration_us=" .. summary.duration,
    "active_us=" .. active_us,
    "requests=" .. summary.requests,
    "p50_us=" .. latency:percentile(50),
    "p99_us=" .. latency:percentile(99),
    "mean_us=" .. math.floor(latency.mean),
    "max_us=" .. latency.max,
    "err_connect=" .. summary.errors.connect,
    "err_read=" .. summary.errors.read,
    "err_write=" .. summary.errors.write,
    "err_timeout=" .. summary.errors.timeout,
    "exhausted_threads=" .. exhausted_threads,
  }
  local keys = {}
  for key in pairs(statuses_total) do keys[#keys + 1] = key end
  table.sort(keys)
  for _, key in ipairs(keys) do
    fields[#fields + 1] = "status_" .. key:sub(2) .. "=" .. statuses_total[key]
  end
  keys = {}
  for key in pairs(outcomes_total) do keys[#keys + 1] = key end
  table.sort(keys)
  for _, key in ipairs(keys) do
    fields[#fields + 1] = "outcome_" .. key .. "=" .. outcomes_total[key]
  end
  io.write(table.concat(fields, " ") .. "\n")
end
