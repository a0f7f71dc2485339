-- wrk script for the OTLP ingest benchmark: POSTs $BENCH_BODY (an OTLP protobuf export of one
-- 10-span GenAI trace whose trace id is the 16 bytes "TRACEIDPLACEHOLD") to /v1/traces, each
-- request with a trace id of its own (wrk thread and counter in hex), so every request is a new
-- trace rather than a retry of the last one. $BENCH_OTLP_KEY, when set, is sent as the function
-- key (the bench's servers run in the open mode and need none).
local path = os.getenv("BENCH_BODY")
local file = assert(io.open(path, "rb"))
local template = file:read("*a")
file:close()
local key = os.getenv("BENCH_OTLP_KEY") or ""

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

local counter = 0
function request()
  counter = counter + 1
  local trace = string.format("%08x%08x", id, counter)
  local body = template:gsub("TRACEIDPLACEHOLD", trace)
  local headers = {["Content-Type"] = "application/x-protobuf"}
  if key ~= "" then headers["x-functions-key"] = key end
  return wrk.format("POST", "/v1/traces", headers, body)
end
