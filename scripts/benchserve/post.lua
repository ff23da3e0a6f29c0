-- wrk script of `make bench-serve`: POSTs the JSON body in the file named by
-- $BENCH_BODY and, when the run is done, prints what wrk's text summary
-- lacks, one name=value a line: the non-2xx responses (counted per thread),
-- socket errors and exact latency percentiles.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(assert(os.getenv("BENCH_BODY"), "BENCH_BODY not set"), "rb"))
wrk.body = f:read("*a")
f:close()

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

non2xx = 0

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do
    n = n + t:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format("bench_requests=%d\n", summary.requests))
  io.write(string.format("bench_duration_us=%d\n", summary.duration))
  io.write(string.format("bench_non2xx=%d\n", n))
  io.write(string.format("bench_socket_errors=%d\n", e.connect + e.read + e.write + e.timeout))
  io.write(string.format("bench_p50_us=%d\n", latency:percentile(50)))
  io.write(string.format("bench_p99_us=%d\n", latency:percentile(99)))
end
