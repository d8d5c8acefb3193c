#!/usr/bin/env bash
# The WebSub hub (contract section 16): how soon a change of today's list upstream reaches a
# subscriber, and what 10,000 subscriptions over 100 distinct feeds cost in memory and CPU.
# Markdown on stdout, progress on stderr.
#
#   bench/websub.sh [--runs N]      (also: bench/run.sh websub ...)
#
#   --runs N    runs of each scenario (default 3)
#
# PAPERBOY_BIN=<path> runs that binary instead of target/release/paperboy (an older commit's,
# to compare side by side).
#
# Generates 10 days of about 30 papers ending today (bench/gen_data.py), serves them from the
# mock upstream (examples/mock_upstream.rs, which logs each request with its time), runs a
# subscriber of its own (bench/subscriber.py: answers challenges, logs each delivery's arrival
# time) and a release paperboy (websub.callbacks = "any", cache.recent_ttl 2s so that today is
# refreshed within seconds). Per run:
#   one       one subscription to /feed.atom; today's list changes upstream (the mock
#             restarted with other content); latency = the callback receiving the feed minus
#             the moment paperboy asked upstream for the changed list (the mock's log)
#   10k       10,000 subscriptions, 100 callbacks on each of 100 feeds
#             (/feed.atom?min_upvotes=0..99): time to take and verify them; paperboy's resident
#             memory (VmRSS) and CPU time (utime + stime) before, after, and over 30 s of
#             holding them; then a change of today: latency to the first and the last of the
#             10,000 deliveries, CPU time of the round and the peak of VmRSS during it
# Everything it starts it stops, by PID; the temporary directory is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=3
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS="${2:?--runs needs a number}"; shift 2 ;;
        *) sed -n '5,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "websub.sh: --runs takes a positive whole number, not '$RUNS'" >&2; exit 2; }

echo "building release" >&2
cargo build --release --quiet --bin paperboy --example mock_upstream
PAPERBOY="${PAPERBOY_BIN:-target/release/paperboy}"

WORK="$(mktemp -d /tmp/paperboy-websub.XXXXXX)"
# shellcheck source=bench/lib.sh
. bench/lib.sh
trap 'stop_all; rm -rf "$WORK"' EXIT
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# CPU seconds (user + system) the process has used.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }

TODAY="$(date -u +%F)"
python3 bench/gen_data.py "$WORK/days" --days 10 --per-day 30 --end "$TODAY" >&2
# Today's list in two versions, so that each change is a change every feed sees: the other
# version has one paper more, with 1,000 upvotes (above every min_upvotes of the 100 feeds).
mkdir -p "$WORK/other"
cp "$WORK"/days/*.json "$WORK/other/"
python3 -c "
import copy, json
path = '$WORK/other/$TODAY.json'
items = json.load(open(path))
extra = copy.deepcopy(items[0])
extra['paper']['id'] = '9999.99999'
extra['paper']['title'] = 'A paper that arrived later'
extra['paper']['upvotes'] = 1000
json.dump([extra] + items, open(path, 'w'))"

UP_PORT="$(free_port)"
SUB_PORT="$(free_port)"
MOCK_PID=""
VERSION=days
CHANGED_AT=0
# Restarts the mock with the other version of today; CHANGED_AT = the log's length before it.
# (Not in a command substitution: MOCK_PID and PIDS must change in this shell.)
change_today() {
    kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true
    if [ "$VERSION" = days ]; then VERSION=other; else VERSION=days; fi
    CHANGED_AT="$(wc -l <"$WORK/upstream.log")"
    start_mock "$WORK/$VERSION"
}
# The time (unix ms) paperboy first asked for today's page 0 after log line $1.
asked_at() {
    tail -n +"$(($1 + 1))" "$WORK/upstream.log" | awk -v d="$TODAY" '$2 == d && $3 == 0 {print $1; exit}'
}

start_paperboy() { # port data-dir
    PAPERBOY_UPSTREAM__BASE_URL="http://127.0.0.1:$UP_PORT" PAPERBOY_UPSTREAM__BUDGET=100000 \
        PAPERBOY_CACHE__RECENT_TTL=2s PAPERBOY_SERVER__PUBLIC_URL="http://127.0.0.1:$1" \
        PAPERBOY_WEBSUB__CALLBACKS=any PAPERBOY_WEBSUB__MAX_SUBSCRIPTIONS=100000 RUST_LOG=warn \
        "$PAPERBOY" --port "$1" --data-dir "$2" >"$WORK/paperboy.log" 2>&1 &
    PB_PID=$!
    PIDS+=("$PB_PID")
    wait_http "http://127.0.0.1:$1/readyz"
}
subscriptions() { # port
    curl -s "http://127.0.0.1:$1/metrics" | awk '$1 == "paperboy_websub_subscriptions" {print $2 + 0}'
}
wait_subscriptions() { # port count
    for _ in $(seq 1 6000); do
        [ "$(subscriptions "$1")" = "$2" ] && return 0
        sleep 0.05
    done
    echo "gave up waiting for $2 subscriptions" >&2
    return 1
}
deliveries() { grep -c ' POST ' "$WORK/subscriber.log" || true; }
wait_deliveries() { # count seconds
    for _ in $(seq 1 $(($2 * 20))); do
        [ "$(deliveries)" -ge "$1" ] && return 0
        sleep 0.05
    done
    echo "gave up waiting for $1 deliveries" >&2
    return 1
}

cat >"$WORK/subscribe.py" <<'EOF'
import http.client, sys, threading, time, urllib.parse
port, sub_port, feeds, per_feed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
jobs = [(f, c) for f in range(feeds) for c in range(per_feed)]
lock = threading.Lock()
errors = []
def worker():
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
    while True:
        with lock:
            if not jobs:
                return
            f, c = jobs.pop()
        body = urllib.parse.urlencode({
            "hub.mode": "subscribe",
            "hub.topic": f"http://127.0.0.1:{port}/feed.atom?min_upvotes={f}",
            "hub.callback": f"http://127.0.0.1:{sub_port}/cb/{f}/{c}",
        })
        conn.request("POST", "/websub", body, {"Content-Type": "application/x-www-form-urlencoded"})
        r = conn.getresponse()
        r.read()
        if r.status != 202:
            errors.append(r.status)
start = time.monotonic()
threads = [threading.Thread(target=worker) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(f"{(time.monotonic() - start) * 1000:.0f} {len(errors)}")
EOF

# Appending (O_APPEND), so that emptying the log between rounds leaves no hole of zeros.
python3 bench/subscriber.py "$SUB_PORT" >>"$WORK/subscriber.log" 2>"$WORK/subscriber.err" &
PIDS+=($!)
SUB_PID=$!
wait_http "http://127.0.0.1:$SUB_PORT/cb/ready?hub.challenge=x"
start_mock "$WORK/days"

# A paperboy on a new port with an empty data directory, and an empty subscriber log.
fresh_paperboy() {
    PB_PORT="$(free_port)"
    rm -rf "$WORK/data"
    : >"$WORK/subscriber.log"
    start_paperboy "$PB_PORT" "$WORK/data"
}

one_run() { # run
    local run="$1" port
    fresh_paperboy
    port="$PB_PORT"
    curl -s -o /dev/null "http://127.0.0.1:$port/feed.atom"
    curl -s -o /dev/null -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
        --data-urlencode "hub.mode=subscribe" --data-urlencode "hub.topic=http://127.0.0.1:$port/feed.atom" \
        --data-urlencode "hub.callback=http://127.0.0.1:$SUB_PORT/cb/one" "http://127.0.0.1:$port/websub"
    wait_subscriptions "$port" 1
    local asked arrived
    change_today
    wait_deliveries 1 60
    asked="$(asked_at "$CHANGED_AT")"
    arrived="$(awk '$2 == "POST" {print $1; exit}' "$WORK/subscriber.log")"
    echo "| $run | one subscription | $((arrived - asked)) ms |"
    stop_one
}
stop_one() {
    kill "$PB_PID"; wait "$PB_PID" 2>/dev/null || true
}

tenk_run() { # run
    local run="$1" port
    fresh_paperboy
    port="$PB_PORT"
    for f in $(seq 0 99); do curl -s -o /dev/null "http://127.0.0.1:$port/feed.atom?min_upvotes=$f"; done
    sleep 2
    local rss0 cpu0
    rss0="$(rss_kb "$PB_PID")"; cpu0="$(cpu_s "$PB_PID")"
    echo "run $run: 10,000 subscriptions" >&2
    local took errors started
    started="$(date +%s%3N)"
    read -r took errors < <(python3 "$WORK/subscribe.py" "$port" "$SUB_PORT" 100 100)
    wait_subscriptions "$port" 10000
    local verified rss1 cpu1
    verified="$(($(date +%s%3N) - started))"
    rss1="$(rss_kb "$PB_PID")"; cpu1="$(cpu_s "$PB_PID")"
    sleep 30
    local rss2 cpu2
    rss2="$(rss_kb "$PB_PID")"; cpu2="$(cpu_s "$PB_PID")"
    echo "run $run: a change of today, 10,000 deliveries" >&2
    : >"$WORK/subscriber.log"
    local peak=0
    change_today
    for _ in $(seq 1 6000); do
        local now
        now="$(rss_kb "$PB_PID")"
        [ "$now" -gt "$peak" ] && peak="$now"
        [ "$(deliveries)" -ge 10000 ] && break
        sleep 0.1
    done
    local cpu3 asked first last count
    cpu3="$(cpu_s "$PB_PID")"
    asked="$(asked_at "$CHANGED_AT")"
    count="$(deliveries)"
    first="$(awk '$2 == "POST" && (m == "" || $1 < m) {m = $1} END {print m}' "$WORK/subscriber.log")"
    last="$(awk '$2 == "POST" && $1 > m {m = $1} END {print m}' "$WORK/subscriber.log")"
    local bytes
    bytes="$(awk '$2 == "POST" {s += $4} END {printf "%.0f", s / 1048576}' "$WORK/subscriber.log")"
    echo "| $run | 10,000 over 100 feeds | 202s in $took ms ($errors not 202), all verified in $verified ms | RSS idle $((rss0 / 1024)) MB → $((rss1 / 1024)) MB with them, $((rss2 / 1024)) MB 30 s later | CPU $(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN {printf "%.1f", b - a}') s to take them, $(awk -v a="$cpu1" -v b="$cpu2" 'BEGIN {printf "%.2f", b - a}') s over 30 s holding them | change: first $((first - asked)) ms, last $((last - asked)) ms, $count delivered ($bytes MiB), CPU $(awk -v a="$cpu2" -v b="$cpu3" 'BEGIN {printf "%.1f", b - a}') s, peak RSS $((peak / 1024)) MB |"
    stop_one
}

echo "## WebSub hub: $(nproc) cores, $(date -u +%F)"
echo
echo "| run | scenario | latency: upstream change → callback has the feed |"
echo "|---|---|---|"
for run in $(seq 1 "$RUNS"); do one_run "$run"; done
echo
echo "| run | scenario | taking them | memory | CPU | a change of today |"
echo "|---|---|---|---|---|---|"
for run in $(seq 1 "$RUNS"); do tenk_run "$run"; done
