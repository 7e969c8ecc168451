-- wrk script for the fan-out FLOOR: exactly the writes the helper makes (one server-side apply of the same
-- Secret per namespace), sent by an independent C load generator. Count-based: once N answers said 201
-- Created (every namespace now holds the secret; the namespaces are fresh, so each is created exactly once)
-- it writes "<first request> <that answer> <answers> <non-2xx> <created>" (CLOCK_MONOTONIC seconds, the
-- clock Python's time.monotonic() reads) to FLOOR_OUT and stops its thread. Counting answers instead would
-- stop early on a server that answers out of order (a real kube-apiserver does): a wrapped-around write can
-- be answered before an original one. It also stops after 2N + 64 answers if errors keep some namespace
-- from being created. Use with one thread (-t1).
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

local sent, done, bad, created = 0, 0, 0, 0
local first

function request()
  if not first then first = now() end
  -- Past N (answers still in flight), wrap around: those extra writes (200, the secret exists) are the same
  -- work as the measured ones, and a few land after the measurement ends.
  local ns = names[(sent % n) + 1]
  sent = sent + 1
  return wrk.format("PATCH", "/api/v1/namespaces/" .. ns .. "/secrets/" .. secret .. "?fieldManager=bench&force=true",
    headers, before .. ns .. after)
end

function response(status, _, _)
  done = done + 1
  if status < 200 or status > 299 then bad = bad + 1 end
  if status == 201 then created = created + 1 end
  if created == n or done == 2 * n + 64 then
    local f = io.open(out, "w")
    f:write(string.format("%.6f %.6f %d %d %d\n", first, now(), done, bad, created))
    f:close()
    wrk.thread:stop()
  end
end
