# Shell helpers the benchmark scripts share (sourced, not run).

# A loopback port free a moment ago.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits (up to 20 s) until URL answers 2xx.
wait_http() { # url
    for _ in $(seq 1 1000); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.02
    done
    echo "gave up waiting for $1" >&2
    return 1
}

# The processes a script started (it adds their PIDs), and how they are stopped: by PID,
# then waited for.
PIDS=()
stop_all() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
}

# Starts the mock upstream (examples/mock_upstream.rs) on 127.0.0.1:$UP_PORT serving the days
# in folder $1, appending its request log to $WORK/upstream.log; MOCK_PID is its PID.
start_mock() { # folder
    target/release/examples/mock_upstream "$1" "127.0.0.1:$UP_PORT" >>"$WORK/upstream.log" 2>&1 &
    MOCK_PID=$!
    PIDS+=("$MOCK_PID")
    wait_http "http://127.0.0.1:$UP_PORT/api/daily_papers?date=2000-01-01&limit=1&p=0"
}
