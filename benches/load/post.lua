-- wrk script for the asap-rs load benchmarks (`cargo xtask bench`).
--
-- Every request is the same 649-byte `asap.send` call but for its idempotency key: the
-- specification example task_request envelope, compact, without `timestamp` (the server
-- stamps it, so the body never ages out of the 300 s timestamp window), and a fresh
-- `params.idempotency_key` per request, as real clients send (a replay-caching server then
-- does the work of a fresh call every time). The harness checks that the template below is
-- the one its own generator fills in and that every server answers it with a JSON-RPC
-- result before measuring.
--
-- The key is 26 Crockford base32 characters, a valid ULID, laid out like the built-in
-- generator's (benches/src/bin/loadtest/request.rs): the run's start time (10), 30 random
-- bits drawn once per run (6), the wrk thread (4), and the thread's request counter (6).
-- Each thread builds its request once and only splices the counter per request.
--
-- Usage: wrk -t1 -c16 -d5s -s benches/load/post.lua http://127.0.0.1:PORT/asap
-- At the end one line `ASAP_WRK_JSON {...}` carries the figures (latencies in µs).

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local body = [==[{"jsonrpc":"2.0","method":"asap.send","params":{"envelope":{"id":"01KDWPVNG0DE3B4WZZ6KYE37BB","asap_version":"0.1","sender":"urn:asap:agent:coordinator","recipient":"urn:asap:agent:research-v1","payload_type":"task.request","payload":{"conversation_id":"conv_01KDWPVNG09R3M11B2QVDRPR6E","parent_task_id":null,"skill_id":"web_research","input":{"query":"AI infrastructure market trends Q3 2025"},"config":{"timeout_seconds":600,"priority":"high","streaming":false}},"correlation_id":null,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","extensions":{"nonce":"q3Jx9w0bVf2kR7tLmN4pZa"}},"idempotency_key":"00000000000000000000000000"},"id":"req-bench-1"}]==]

local placeholder = "00000000000000000000000000"
local crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
local floor = math.floor

-- `value` (an integer below 2^53) as `width` base32 characters, most significant first.
local function base32(value, width)
  local out = {}
  for i = width, 1, -1 do
    local digit = value % 32
    out[i] = crockford:sub(digit + 1, digit + 1)
    value = floor(value / 32)
  end
  return table.concat(out)
end

-- 30 random bits, from /dev/urandom when it can be read.
local function random30()
  local urandom = io.open("/dev/urandom", "rb")
  if urandom then
    local b = urandom:read(4)
    urandom:close()
    if b and #b == 4 then
      local b1, b2, b3, b4 = b:byte(1, 4)
      return ((b1 % 64 * 256 + b2) * 256 + b3) * 256 + b4
    end
  end
  math.randomseed(os.time() + floor(os.clock() * 1e6))
  return floor(math.random() * 1073741824)
end

-- Main state: one prefix per run, one lane per thread.
local run_prefix
local threads = 0

function setup(thread)
  if not run_prefix then
    run_prefix = base32(os.time() * 1000, 10) .. base32(random30(), 6)
  end
  thread:set("key_prefix", run_prefix .. base32(threads, 4))
  threads = threads + 1
end

-- Thread states: the request split around the counter, and every two-character base32
-- string, so that a key costs three table reads and one concatenation.
local head, tail
local pairs32 = {}
local counter = 0

function init(args)
  for i = 0, 1023 do
    pairs32[i] = base32(i, 2)
  end
  local request = wrk.format(nil, nil, nil, body)
  local at = request:find(placeholder, 1, true)
  head = request:sub(1, at - 1) .. key_prefix
  tail = request:sub(at + #placeholder)
end

function request()
  local n = counter
  counter = (n + 1) % 1073741824
  return head .. pairs32[floor(n / 1048576)] .. pairs32[floor(n / 1024) % 1024]
    .. pairs32[n % 1024] .. tail
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'ASAP_WRK_JSON {"duration_us":%d,"requests":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"stdev":%.1f,"min":%d,"max":%d,' ..
    '"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency.min, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
end
