-- wrk script for the asap-rs load benchmarks (`cargo xtask bench`).
--
-- Every request is the same 602-byte `asap.send` call: the specification example
-- task_request envelope, compact, without `timestamp` (the server stamps it, so the body
-- never ages out of the 300 s timestamp window). The harness checks that this body is the
-- one it sends with its own generator and that every server answers it with a JSON-RPC
-- result before measuring.
--
-- Usage: wrk -t1 -c16 -d5s -s benches/load/post.lua http://127.0.0.1:PORT/asap
-- At the end one line `ASAP_WRK_JSON {...}` carries the figures (latencies in µs).

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[{"jsonrpc":"2.0","method":"asap.send","params":{"envelope":{"id":"01KDWPVNG0DE3B4WZZ6KYE37BB","asap_version":"0.1","sender":"urn:asap:agent:coordinator","recipient":"urn:asap:agent:research-v1","payload_type":"task.request","payload":{"conversation_id":"conv_01KDWPVNG09R3M11B2QVDRPR6E","parent_task_id":null,"skill_id":"web_research","input":{"query":"AI infrastructure market trends Q3 2025"},"config":{"timeout_seconds":600,"priority":"high","streaming":false}},"correlation_id":null,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","extensions":{"nonce":"q3Jx9w0bVf2kR7tLmN4pZa"}}},"id":"req-bench-1"}]==]

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
