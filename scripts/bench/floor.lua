-- wrk script for the fan-out FLOOR: exactly the writes the helper makes (one server-side apply of the same
-- Secret per namespace), sent by an independent C load generator. Count-based: after the N-th answer it
-- writes "<first request> <N-th answer> <answers> <non-2xx>" (CLOCK_MONOTONIC seconds, the clock Python's
-- time.monotonic() reads) to FLOOR_OUT and stops its thread. Use with one thread (-t1).
--   FLOOR_NAMES  file with one namespace per line     FLOOR_BODY  body template, "@@NS@@" = namespace
--   FLOOR_SECRET secret name    FLOOR_TOKEN bearer token (optional)    FLOOR_OUT result file
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } floor_timespec;
int clock_gettime(int clk_id, floor_timespec *tp);
]]
local function now()
  local ts = ffi.new("floor_timespec")
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local names = {}
for line in io.lines(os.getenv("FLOOR_NAMES")) do
  if line ~= "" then names[#names + 1] = line end
end
local n = #names
local template = io.open(os.getenv("FLOOR_BODY")):read("*a")
local at = template:find("@@NS@@", 1, true)
local before, after = template:sub(1, at - 1), template:sub(at + 6)
local secret = os.getenv("FLOOR_SECRET")
local out = os.getenv("FLOOR_OUT")
local headers = {
  ["Content-Type"] = "application/apply-patch+yaml",
  ["Accept"] = "application/json",
  ["User-Agent"] = "bench-floor",
}
local token = os.getenv("FLOOR_TOKEN")
if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end

local sent, done, bad = 0, 0, 0
local first

function request()
  if not first then first = now() end
  -- Past N (answers still in flight), wrap around: those extra writes land after the measurement ends.
  local ns = names[(sent % n) + 1]
  sent = sent + 1
  return wrk.format("PATCH", "/api/v1/namespaces/" .. ns .. "/secrets/" .. secret .. "?fieldManager=bench&force=true",
    headers, before .. ns .. after)
end

function response(status, _, _)
  done = done + 1
  if status < 200 or status > 299 then bad = bad + 1 end
  if done == n then
    local f = io.open(out, "w")
    f:write(string.format("%.6f %.6f %d %d\n", first, now(), done, bad))
    f:close()
    wrk.thread:stop()
  end
end
