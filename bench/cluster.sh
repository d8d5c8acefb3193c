#!/usr/bin/env bash
# The cluster scenario (contract section 15): three paperboy instances behind nginx (round
# robin, no nginx cache), sharing a local redis-server, beside the same three with no
# cluster.url (each alone). Markdown on stdout, progress on stderr.
#
#   bench/cluster.sh [--runs N] [--duration S]      (also: bench/run.sh cluster ...)
#
#   --runs N        measurements of each setup (default 3), the two setups alternating
#   --duration S    seconds of the cached-feed wrk (default 10)
#
# Generates 60 days of about 30 papers ending today (bench/gen_data.py), serves them from the
# mock upstream (examples/mock_upstream.rs, which logs each request), and for each run and
# setup: a fresh redis-server (no persistence; FLUSHALL), three fresh instances (empty data
# directories, the same server.public_url, cache.recent_ttl 4s so that today is refreshed
# within seconds), nginx in front; once every /readyz answers 200:
#   cold     200 clients at once through nginx, over 30 past dates not warmed up
#            (/feed.json?date=D&days=1): time until all are answered, errors, and the
#            upstream requests for those dates
#   cached   /feed.atom (gzip) through nginx: wrk -t2 -c32, S seconds
#   change   today's list changes upstream (the mock restarted with it); the time until
#            every instance serves the new list (its ETag polled on each instance directly),
#            and from the first instance serving it to the last
#   shared   with the cluster: the shared server's keys and used memory per stored day
# Installs Debian's wrk, nginx and redis-server when missing; everything it starts it stops,
# by PID; the temporary directory is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=3
DURATION=10
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS="${2:?--runs needs a number}"; shift 2 ;;
        --duration) DURATION="${2:?--duration needs seconds}"; shift 2 ;;
        *) sed -n '5,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
done
for n in "$RUNS" "$DURATION"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "cluster.sh: --runs and --duration take positive whole numbers, not '$n'" >&2; exit 2; }
done

need() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }
if ! need wrk || ! need nginx || ! need redis-server; then
    echo "installing wrk, nginx and redis-server" >&2
    apt-get update -qq >&2 && apt-get install -y -qq wrk nginx redis-server >&2
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

echo "building release" >&2
cargo build --release --quiet --bin paperboy --example mock_upstream

WORK="$(mktemp -d /tmp/paperboy-cluster.XXXXXX)"
chmod 755 "$WORK"
# shellcheck source=bench/lib.sh
. bench/lib.sh
trap 'stop_all; rm -rf "$WORK"' EXIT

TODAY="$(date -u +%F)"
python3 bench/gen_data.py "$WORK/days" --days 60 --per-day 30 --end "$TODAY" >&2
# 30 past dates, none of them warmed up (warm-up brings the last feeds.default_days days).
python3 -c "
import datetime, sys
today = datetime.date.fromisoformat('$TODAY')
for k in range(40, 10, -1):
    print(today - datetime.timedelta(days=k))" >"$WORK/dates"
# Today's list as it will change: its last third of papers gone.
mkdir -p "$WORK/changed"
cp "$WORK"/days/*.json "$WORK/changed/"
python3 -c "
import json
path = '$WORK/changed/$TODAY.json'
items = json.load(open(path))
json.dump(items[: max(1, len(items) * 2 // 3)], open(path, 'w'))"

UP_PORT="$(free_port)"
upstream_requests_for_dates() { # the requests logged for the 30 dates
    grep -c -F -f "$WORK/dates" "$WORK/upstream.log" || true
}

cat >"$WORK/cold.py" <<'EOF'
import sys, threading, time, urllib.request
base, dates = sys.argv[1], open(sys.argv[2]).read().split()
n = 200
barrier = threading.Barrier(n + 1)
errors = []
def client(i):
    barrier.wait()
    try:
        with urllib.request.urlopen(f"{base}/feed.json?date={dates[i % len(dates)]}&days=1", timeout=60) as r:
            r.read()
    except Exception as e:
        errors.append(str(e))
threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
for t in threads: t.start()
barrier.wait()
start = time.monotonic()
for t in threads: t.join()
print(f"{(time.monotonic() - start) * 1000:.0f} {len(errors)}")
EOF

cat >"$WORK/change.py" <<'EOF'
import sys, time, urllib.request
ports, before = sys.argv[1].split(","), sys.argv[2]
def etag(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/feed.atom?days=1", timeout=10) as r:
        return r.headers["ETag"]
start = time.monotonic()
pending = set(ports)
first = None
while pending and time.monotonic() - start < 60:
    pending = {p for p in pending if etag(p) == before}
    if first is None and len(pending) < len(ports):
        first = time.monotonic()
    time.sleep(0.01)
if pending:
    print("over 60000 ms")
else:
    end = time.monotonic()
    print(f"{(end - start) * 1000:.0f} ms (first to last: {(end - first) * 1000:.0f} ms)")
EOF

run_setup() { # setup run
    local setup="$1" run="$2"
    : >"$WORK/upstream.log"
    start_mock "$WORK/days"
    local cluster_url="" redis_port=""
    if [ "$setup" = cluster ]; then
        redis_port="$(free_port)"
        redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" >"$WORK/redis.log" 2>&1 &
        PIDS+=($!)
        for _ in $(seq 1 500); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.02; done
        redis-cli -p "$redis_port" flushall >/dev/null
        cluster_url="redis://127.0.0.1:$redis_port"
    fi
    local ports=()
    for i in 1 2 3; do
        local port
        port="$(free_port)"
        ports+=("$port")
        rm -rf "$WORK/data$i"
        (cd "$WORK" && PAPERBOY_UPSTREAM__BASE_URL="http://127.0.0.1:$UP_PORT" \
            PAPERBOY_UPSTREAM__BUDGET=100000 PAPERBOY_CACHE__RECENT_TTL=4s \
            PAPERBOY_SERVER__PUBLIC_URL=http://papers.example PAPERBOY_CLUSTER__URL="$cluster_url" \
            RUST_LOG=warn exec "$OLDPWD/target/release/paperboy" --port "$port" --data-dir "$WORK/data$i") \
            >"$WORK/paperboy$i.log" 2>&1 &
        PIDS+=($!)
    done
    for port in "${ports[@]}"; do wait_http "http://127.0.0.1:$port/readyz"; done
    local nginx_port
    nginx_port="$(free_port)"
    mkdir -p "$WORK/nginx"
    cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 2;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    upstream paperboy {
        server 127.0.0.1:${ports[0]};
        server 127.0.0.1:${ports[1]};
        server 127.0.0.1:${ports[2]};
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$nginx_port;
        location / {
            proxy_pass http://paperboy;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
    "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' >"$WORK/nginx/out.log" 2>&1 &
    PIDS+=($!)
    local base="http://127.0.0.1:$nginx_port"
    wait_http "$base/healthz"
    local used_before=0
    if [ "$setup" = cluster ]; then
        used_before="$(redis-cli -p "$redis_port" info memory | awk -F: '/^used_memory:/ {print $2+0}')"
    fi

    echo "run $run, $setup: cold fetch of 30 dates, 200 clients" >&2
    read -r cold_ms cold_errors < <(python3 "$WORK/cold.py" "$base" "$WORK/dates")
    sleep 0.5
    local cold_upstream
    cold_upstream="$(upstream_requests_for_dates)"

    echo "run $run, $setup: cached feed through nginx" >&2
    curl -s -o /dev/null -H 'Accept-Encoding: gzip' "$base/feed.atom"
    curl -s -o /dev/null -H 'Accept-Encoding: gzip' "$base/feed.atom"
    local cached
    cached="$(wrk -t2 -c32 -d"${DURATION}s" -H 'Accept-Encoding: gzip' "$base/feed.atom" | awk '/^Requests\/sec/ {printf "%.0f", $2}')"

    echo "run $run, $setup: a change of today upstream" >&2
    local before
    before="$(curl -s -D - -o /dev/null "http://127.0.0.1:${ports[0]}/feed.atom?days=1" | awk 'tolower($1)=="etag:" {print $2}' | tr -d '\r')"
    kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true
    start_mock "$WORK/changed"
    local change_ms
    change_ms="$(python3 "$WORK/change.py" "$(IFS=,; echo "${ports[*]}")" "$before")"

    local keys="" per_day=""
    if [ "$setup" = cluster ]; then
        keys="$(redis-cli -p "$redis_port" dbsize)"
        local used_after days_held
        used_after="$(redis-cli -p "$redis_port" info memory | awk -F: '/^used_memory:/ {print $2+0}')"
        days_held="$(redis-cli -p "$redis_port" --scan --pattern 'paperboy:day:*' | wc -l)"
        per_day="$(( (used_after - used_before) / (days_held > 0 ? days_held : 1) ))"
        keys="$keys keys ($days_held days)"
    fi
    echo "| $run | $setup | $cold_ms ms, $cold_errors errors | $cold_upstream | $cached | $change_ms | $keys | $per_day |"
    stop_all
}

echo "## Cluster: three instances behind nginx, $(nproc) cores, $(date -u +%F)"
echo
echo "Release build of $(git rev-parse --short HEAD); 60 generated days; runs: $RUNS; wrk duration ${DURATION} s; cache.recent_ttl 4s."
echo
echo "| run | setup | cold: 200 clients, 30 dates | upstream requests for them | cached feed via nginx (req/s) | upstream change → every instance | shared server keys | bytes per stored day |"
echo "|---|---|---|---|---|---|---|---|"
for run in $(seq 1 "$RUNS"); do
    for setup in cluster alone; do
        run_setup "$setup" "$run"
    done
done
