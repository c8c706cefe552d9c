-- wrk script of `npm run bench`. GET when <events per request> is 0, else POST /v1/usage-shaped
-- bodies whose idempotency keys are unique per request, so every event is a real insert:
--   wrk -t2 -c20 -d15s --timeout 10s -s test/bench/wrk.lua <url> -- <events per request> <run id> <accounts,comma,separated>
-- done() prints one line `WRK_RESULT {json}` with requests, duration, errors and p50/p99 in µs.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local batch, run, accounts, n
function init(args)
  batch = tonumber(args[1] or "0")
  run = args[2] or "run"
  accounts = {}
  for a in string.gmatch(args[3] or "acme", "[^,]+") do accounts[#accounts + 1] = a end
  n = 0
  if batch > 0 then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
  end
end

function request()
  if batch == 0 then return wrk.format() end
  n = n + 1
  local parts = {}
  for i = 1, batch do
    parts[i] = string.format('{"account_id":"%s","metric":"api_calls","value":1,"idempotency_key":"%s-%d-%d-%d"}',
      accounts[(n + i) % #accounts + 1], run, tid, n, i)
  end
  return wrk.format(nil, nil, nil, '{"events":[' .. table.concat(parts, ",") .. ']}')
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
