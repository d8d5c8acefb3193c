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
