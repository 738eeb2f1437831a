# Sourced by .ci/run: a throwaway PostgreSQL 15 cluster and a Redis server on 127.0.0.1 for
# the service-backed tests of asap-state, their URLs exported as ASAP_TEST_POSTGRES_URL and
# ASAP_TEST_REDIS_URL, and the tools of other tests (promtool for the metrics tests, Debian's
# Chromium for the browser test of `asap trace --serve`). Installs the Debian packages only
# when missing. Re-runnable: a cluster or server left by an earlier run (same fixed ports,
# same directories) is stopped and replaced. `asap_services_stop` stops both; .ci/run calls
# it from its EXIT trap.

ASAP_PG_PORT="${ASAP_PG_PORT:-55432}"
ASAP_REDIS_PORT="${ASAP_REDIS_PORT:-56379}"
ASAP_PG_BIN=/usr/lib/postgresql/15/bin
ASAP_SERVICES_DIR="${ASAP_SERVICES_DIR:-/tmp/asap-ci-services}"
ASAP_PG_DATA="$ASAP_SERVICES_DIR/pg"
ASAP_REDIS_DIR="$ASAP_SERVICES_DIR/redis"

asap_services_stop() {
    if [[ -f "$ASAP_PG_DATA/postmaster.pid" ]]; then
        runuser -u postgres -- "$ASAP_PG_BIN/pg_ctl" -D "$ASAP_PG_DATA" -m fast -w stop \
            >/dev/null 2>&1 || true
    fi
    if command -v redis-cli >/dev/null 2>&1; then
        redis-cli -h 127.0.0.1 -p "$ASAP_REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    fi
}

asap_services_start() {
    local packages=()
    [[ -x "$ASAP_PG_BIN/initdb" ]] || packages+=(postgresql-15)
    command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
    # promtool checks the /asap/metrics exposition (asap-observability's tests/metrics.rs) and
    # deploy/observability/prometheus.yml; the Prometheus server of the same package scrapes
    # agents in the transport crates' tests (metrics.rs, asap-transport-client's dashboards.rs).
    { command -v promtool && command -v prometheus; } >/dev/null 2>&1 || packages+=(prometheus)
    # Headless Chromium for asap-cli's tests/trace_ui.rs (driven by playwright-core, which
    # .ci/run installs from npm; it never downloads a browser of its own).
    [[ -x /usr/bin/chromium ]] || packages+=(chromium chromium-driver)
    # Node.js and npm run that test's script and install playwright-core.
    command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
    if ((${#packages[@]} > 0)); then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${packages[@]}"
    fi

    # A previous run's servers (warm machine): stop them and start from empty directories.
    asap_services_stop
    rm -rf "$ASAP_SERVICES_DIR"
    mkdir -p "$ASAP_PG_DATA" "$ASAP_REDIS_DIR"
    chown postgres: "$ASAP_PG_DATA"
    chmod 700 "$ASAP_PG_DATA"

    # Trust authentication on a cluster that only listens on 127.0.0.1 and a /tmp socket.
    runuser -u postgres -- "$ASAP_PG_BIN/initdb" -D "$ASAP_PG_DATA" -U postgres \
        --auth=trust --encoding=UTF8 --no-sync >/dev/null
    runuser -u postgres -- "$ASAP_PG_BIN/pg_ctl" -D "$ASAP_PG_DATA" \
        -l "$ASAP_PG_DATA/server.log" \
        -o "-k /tmp -p $ASAP_PG_PORT -c listen_addresses=127.0.0.1 -c fsync=off" -w start \
        >/dev/null
    runuser -u postgres -- "$ASAP_PG_BIN/createdb" -h 127.0.0.1 -p "$ASAP_PG_PORT" \
        -U postgres asap_test

    redis-server --port "$ASAP_REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$ASAP_REDIS_DIR" --logfile "$ASAP_REDIS_DIR/redis.log" \
        --pidfile "$ASAP_REDIS_DIR/redis.pid" --daemonize yes
    local tries=0
    until redis-cli -h 127.0.0.1 -p "$ASAP_REDIS_PORT" ping >/dev/null 2>&1; do
        tries=$((tries + 1))
        if ((tries > 50)); then
            echo "error: redis-server did not start on port $ASAP_REDIS_PORT" >&2
            cat "$ASAP_REDIS_DIR/redis.log" >&2 || true
            return 1
        fi
        sleep 0.1
    done

    export ASAP_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$ASAP_PG_PORT/asap_test"
    export ASAP_TEST_REDIS_URL="redis://127.0.0.1:$ASAP_REDIS_PORT/"
    echo "services: $ASAP_TEST_POSTGRES_URL $ASAP_TEST_REDIS_URL"
}
