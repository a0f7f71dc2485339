-- wrk script for the ingest benchmark: POSTs bench/interaction.json (or $BENCH_BODY) to the
-- target URL, one user per wrk thread. The request is built once per thread: there is no
-- request() function, so wrk formats it after init() and reuses the same bytes every time.
local path = os.getenv("BENCH_BODY") or "bench/interaction.json"
local file = assert(io.open(path, "rb"))
local body = file:read("*a")
file:close()

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("user", "bench_user_" .. threads)
end

function init(args)
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-User-Id"] = user
end
