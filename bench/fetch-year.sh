#!/usr/bin/env bash
# A year of back-fill: `paperboy fetch` of 365 days against the mock upstream, with the
# upstream budget raised for the mock, then the same command again (every day stored). Prints a
# markdown table: wall time, upstream requests (counted by the mock, one line per request),
# days, papers, and the size of the data directory. See BENCHMARKS.md.
#
#   bench/fetch-year.sh [PER_DAY]        (default 30 papers a weekday, weekends empty)
#
# Everything it starts it stops, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

PER_DAY="${1:-30}"
END=2026-08-14
FROM=2025-08-15

echo "building release" >&2
cargo build --release --quiet --bin paperboy --example mock_upstream

WORK="$(mktemp -d /tmp/paperboy-fetch-year.XXXXXX)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

python3 bench/gen_data.py "$WORK/upstream" --days 365 --per-day "$PER_DAY" --end "$END" --empty-weekends >&2
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
./target/release/examples/mock_upstream "$WORK/upstream" "127.0.0.1:$PORT" >"$WORK/requests.log" 2>/dev/null &
PIDS+=($!)
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$PORT/api/daily_papers?date=$END&limit=1&p=0" >/dev/null && break
    sleep 0.05
done
: >"$WORK/requests.log"

run() {
    local started ended
    started="$(date +%s.%N)"
    PAPERBOY_UPSTREAM__BASE_URL="http://127.0.0.1:$PORT" \
    PAPERBOY_UPSTREAM__BUDGET=100000 \
    PAPERBOY_STORAGE__DATA_DIR="$WORK/data" \
        ./target/release/paperboy fetch --from "$FROM" --to "$END" >"$WORK/summary" 2>"$WORK/progress"
    ended="$(date +%s.%N)"
    python3 -c "print(f'{$ended - $started:.2f}')"
}

echo "| run | wall time (s) | upstream requests | summary |"
echo "|---|---|---|---|"
for label in "first (365 days to fetch)" "again (all stored)"; do
    before="$(wc -l <"$WORK/requests.log")"
    secs="$(run)"
    after="$(wc -l <"$WORK/requests.log")"
    echo "| $label | $secs | $((after - before)) | $(cat "$WORK/summary") |"
done
echo
echo "data directory: $(du -sh "$WORK/data" | cut -f1), $(ls "$WORK/data/days" | wc -l) files;" \
     "machine: $(nproc) cores, $(uname -m); paperboy $(./target/release/paperboy --version | cut -d' ' -f2)"
