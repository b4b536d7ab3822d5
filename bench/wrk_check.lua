-- wrk script for bench/check_api.py --load wrk: POST /api/v1/checks with bodies from a file, or GET /healthz.
-- wrk -s bench/wrk_check.lua URL -- TARGET BODIES_FILE API_KEY GAP_MS
--   TARGET   check | health
--   GAP_MS   pause after each response on a connection (0: closed loop, as fast as the server answers);
--            connections × 1000 / GAP_MS ≈ the offered rate while the server keeps up.
local target, bodies, key, gap = "health", {}, "", 0
local counter = 0

function init(args)
  target = args[1] or "health"
  key = args[3] or ""
  gap = tonumber(args[4] or "0")
  if target == "check" then
    for line in io.lines(args[2]) do bodies[#bodies + 1] = line end
  end
  counter = math.random(1, math.max(#bodies, 1))
end

function delay()
  if gap <= 0 then return 0 end
  -- exponential pauses (Poisson-like arrivals per connection), mean GAP_MS
  return math.floor(-math.log(1 - math.random()) * gap)
end

function request()
  if target == "check" then
    counter = counter % #bodies + 1
    return wrk.format("POST", "/api/v1/checks",
                      {["Content-Type"] = "application/json", ["X-API-Key"] = key}, bodies[counter])
  end
  return wrk.format("GET", "/healthz")
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status
    + summary.errors.timeout
  io.write(string.format(
    'WRKJSON {"requests": %d, "seconds": %.3f, "errors": %d, "non2xx": %d, "p50": %.3f, "p90": %.3f, "p99": %.3f, "p999": %.3f, "max": %.3f, "mean": %.3f}\n',
    summary.requests, summary.duration / 1e6, errors, summary.errors.status,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3,
    latency:percentile(99.9) / 1e3, latency.max / 1e3, latency.mean / 1e3))
end
