#!/usr/bin/env bash
# Soak of `asap serve`'s state store: RSS and database size over 1,000,000 or more
# `asap.send` requests, each with a fresh idempotency key (README: State: 1,000,000 requests
# with fresh keys).
#
# For each idempotency TTL given (`default` leaves the flag out: 600 s), starts
#   taskset -c 0 asap serve --workers 1 --rate-limit off --data-dir <fresh temporary dir>
# on 127.0.0.1 (SQLite state under the data dir, the default store), then runs
#   taskset -c 1 wrk -t1 -c16 -d<STEP>s -s benches/load/post.lua
# in steps until REQUESTS have been answered and MIN_SECONDS have passed, at most MAX_STEPS
# steps. After every step it prints one line: elapsed seconds, requests so far, the step's
# rate, the server's VmRSS, the size of state.db and state.db-wal, and the row count of the
# `idempotency` table (sqlite3 CLI, else python3's sqlite3 module, on the live WAL
# database). The server is stopped and its data dir deleted at the end of each run, also on
# failure or Ctrl-C.
#
# Usage: benches/load/soak.sh [TTL ...]        e.g. benches/load/soak.sh default 30s
# Environment: ASAP_BIN (default $CARGO_TARGET_DIR/release/asap, else target/release/asap),
#   PORT (18931), REQUESTS (1000000), STEP (10), MIN_SECONDS (0), MAX_STEPS (90).
# Build first: cargo build --release -p asap-cli. Needs wrk and taskset.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="${ASAP_BIN:-${CARGO_TARGET_DIR:-$here/../../target}/release/asap}"
port="${PORT:-18931}"
requests="${REQUESTS:-1000000}"
step="${STEP:-10}"
min_seconds="${MIN_SECONDS:-0}"
max_steps="${MAX_STEPS:-90}"
ttls=("$@")
((${#ttls[@]} > 0)) || ttls=(default 30s)

[[ -x "$bin" ]] || { echo "soak: no asap binary at $bin" >&2; exit 1; }
command -v wrk >/dev/null || { echo "soak: wrk is not installed" >&2; exit 1; }

server_pid=""
data_dir=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
    if [[ -n "$data_dir" ]]; then
        rm -rf "$data_dir"
        data_dir=""
    fi
}
trap cleanup EXIT INT TERM

rows() {
    local db="$1"
    if command -v sqlite3 >/dev/null; then
        sqlite3 "file:$db?mode=ro" 'SELECT count(*) FROM idempotency' 2>/dev/null || echo "?"
    else
        python3 -c 'import sqlite3,sys; c=sqlite3.connect("file:"+sys.argv[1]+"?mode=ro", uri=True); print(c.execute("SELECT count(*) FROM idempotency").fetchone()[0])' "$db" 2>/dev/null || echo "?"
    fi
}

size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

for ttl in "${ttls[@]}"; do
    data_dir="$(mktemp -d /var/tmp/asap-soak.XXXXXX)"
    flags=(serve --bind "127.0.0.1:$port" --workers 1 --rate-limit off --data-dir "$data_dir")
    [[ "$ttl" == default ]] || flags+=(--idempotency-ttl "$ttl")
    taskset -c 0 "$bin" "${flags[@]}" 2>"$data_dir/server.log" &
    server_pid=$!
    for _ in $(seq 50); do
        grep -q "serving on" "$data_dir/server.log" 2>/dev/null && break
        sleep 0.1
    done
    grep -q "serving on" "$data_dir/server.log" || {
        echo "soak: the server did not start" >&2
        cat "$data_dir/server.log" >&2
        exit 1
    }
    db="$data_dir/state.db"
    echo "# ttl=$ttl server pid $server_pid, $(sed -n 2p "$data_dir/server.log")"
    printf '%8s %10s %8s %9s %9s %9s %9s %9s\n' \
        seconds requests req/s rss_MiB db_MiB wal_MiB total_MiB rows
    total=0 errors=0 steps=0 start=$SECONDS
    while ((steps < max_steps)) && { ((total < requests)) || ((SECONDS - start < min_seconds)); }; do
        out="$(taskset -c 1 wrk -t1 -c16 "-d${step}s" -s "$here/post.lua" \
            "http://127.0.0.1:$port/asap")"
        line="$(grep '^ASAP_WRK_JSON ' <<<"$out" | sed 's/^ASAP_WRK_JSON //')"
        n="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["requests"])' "$line")"
        e="$(python3 -c 'import json,sys; e=json.loads(sys.argv[1])["errors"]; print(sum(e.values()))' "$line")"
        total=$((total + n)) errors=$((errors + e)) steps=$((steps + 1))
        rss_kib="$(awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status")"
        db_b="$(size_of "$db")" wal_b="$(size_of "$db-wal")"
        printf '%8d %10d %8d %9s %9s %9s %9s %9s\n' $((SECONDS - start)) "$total" \
            $((n / step)) "$(mib $((rss_kib * 1024)))" "$(mib "$db_b")" "$(mib "$wal_b")" \
            "$(mib $((db_b + wal_b)))" "$(rows "$db")"
    done
    echo "# ttl=$ttl: $total requests answered in $((SECONDS - start)) s, $errors wrk errors"
    cleanup
done
