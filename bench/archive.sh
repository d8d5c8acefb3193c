#!/usr/bin/env bash
# The archive scenario (issue 21): memory and fairness with a long stored archive, old and new
# binaries side by side. Markdown on stdout, progress on stderr.
#
#   bench/archive.sh [--runs N] [--duration S] [--days D] [--alone] BINARY [BINARY ...]
#
#   --runs N        measurements of every binary (default 3), alternating the binaries
#   --duration S    seconds of each wrk (default 15)
#   --days D        days of generated upstream data, ending today (default 1000)
#   --alone         each flood with the CPU to itself: no cached feed or /healthz polled
#   env MOCK_UPSTREAM=PATH  the mock upstream binary to use instead of building
#                   examples/mock_upstream (cargo build --release --example mock_upstream)
#
# Generates D days of about 30 papers once (bench/gen_data.py, weekends empty), serves them
# from the mock upstream, and for each run, for each BINARY in turn: a fresh data directory
# filled by `BINARY fetch --from <first date>`, then `BINARY --port P --data-dir DIR` with
# default settings (run in the temporary directory, so no config file is read), and, once
# /readyz answers 200, three floods, each for S seconds:
#   digests   /digest.atom?period=month&count=12&q=<new q each request>   wrk -t2 -c32
#   searches  /feed.atom?days=30&q=<new 12-term q each request>            wrk -t2 -c64
#   sweep     /feed.atom?days=1&date=<each stored date in turn>            wrk -t2 -c16
# Before each flood the cached feed (/feed.atom, gzip) is measured alone (wrk -t1 -c4); during
# the flood it is measured again, and /healthz (wrk -t1 -c1), at the same time (with --alone,
# neither: the flood has the CPU to itself, as it would without a poller). Peak resident
# memory is VmHWM, reset before the flood (echo 5 > /proc/PID/clear_refs); 30 s after the flood
# VmRSS, RssAnon and the memory lines of /metrics are read; each flood's ratio of resident
# memory above start-up to what /metrics weighs above start-up is in the table (in KiB, then
# again with anonymous memory only, leaving out the program's code paged in). About 3.5 minutes per binary per run at the
# default duration. Installs Debian's wrk when missing; everything it starts it stops, by PID;
# the temporary directory is removed on exit.
set -euo pipefail

BENCH="$(cd "$(dirname "$0")" && pwd)"
REPO="$(dirname "$BENCH")"

usage() {
    sed -n '4,12p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
die() { echo "archive.sh: $*" >&2; exit 1; }

RUNS=3
DURATION=15
DAYS=1000
ALONE=0
BINARIES=()
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS="${2:?--runs needs a number}"; shift 2 ;;
        --duration) DURATION="${2:?--duration needs seconds}"; shift 2 ;;
        --days) DAYS="${2:?--days needs a number}"; shift 2 ;;
        --alone) ALONE=1; shift ;;
        -h | --help) usage ;;
        --) shift; BINARIES+=("$@"); break ;;
        -*) echo "archive.sh: unknown option $1" >&2; usage ;;
        *) BINARIES+=("$1"); shift ;;
    esac
done
[ ${#BINARIES[@]} -gt 0 ] || usage
for n in "$RUNS" "$DURATION" "$DAYS"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "--runs, --duration and --days take positive whole numbers, not '$n'"
done
for i in "${!BINARIES[@]}"; do
    b="${BINARIES[$i]}"
    if [ ! -f "$b" ] || [ ! -x "$b" ]; then die "$b is not an executable file"; fi
    BINARIES[i]="$(cd "$(dirname "$b")" && pwd)/$(basename "$b")"
done

# Column names: the binaries' file names, made unique.
LABELS=()
for i in "${!BINARIES[@]}"; do
    label="$(basename "${BINARIES[$i]}")"
    for other in "${LABELS[@]}"; do
        [ "$other" = "$label" ] && label="$label#$((i + 1))"
    done
    LABELS+=("$label")
done

need() { command -v "$1" >/dev/null 2>&1; }
for tool in curl python3; do need "$tool" || die "$tool is needed"; done
if ! need wrk; then
    echo "installing wrk" >&2
    apt-get update -qq >&2 && apt-get install -y -qq wrk >&2
fi

TODAY="$(date -u +%F)"
FIRST="$(date -u -d "$TODAY -$((DAYS - 1)) days" +%F)"
[[ ! "$FIRST" < 2023-05-01 ]] ||
    die "--days $DAYS reaches back to $FIRST, before the first Daily Papers (2023-05-01, feeds.earliest_date): give at most $(( ($(date -u -d "$TODAY" +%s) - $(date -u -d 2023-05-01 +%s)) / 86400 + 1 ))"

if [ -n "${MOCK_UPSTREAM:-}" ]; then
    MOCK="$MOCK_UPSTREAM"
    [ -x "$MOCK" ] || die "MOCK_UPSTREAM=$MOCK is not executable"
else
    echo "building the mock upstream" >&2
    (cd "$REPO" && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}" \
        cargo build --release --quiet --example mock_upstream) ||
        die "building examples/mock_upstream failed; give a built one with MOCK_UPSTREAM=PATH"
    MOCK="${CARGO_TARGET_DIR:-$REPO/target}/release/examples/mock_upstream"
fi

WORK="$(mktemp -d /tmp/paperboy-archive.XXXXXX)"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
forget() { # pid: stopped, no longer ours to stop
    local kept=() pid
    for pid in "${PIDS[@]}"; do [ "$pid" = "$1" ] || kept+=("$pid"); done
    PIDS=("${kept[@]}")
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
kb() { awk -v k="$2:" '$1==k {print $2}' "/proc/$1/status"; }
mb() { [ -n "$1" ] && awk -v k="$1" 'BEGIN {printf "%.0f", k / 1024}' || echo n/a; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}'; }

# --- data and the mock upstream, once ---------------------------------------------------------
echo "generating $DAYS days ($FIRST to $TODAY)" >&2
GEN=(python3 "$BENCH/gen_data.py" "$WORK/upstream" --days "$DAYS" --per-day 30 --empty-weekends --end "$TODAY")
"${GEN[@]}" >&2
find "$WORK/upstream" -name '*.json' -printf '%f\n' | sed 's/\.json$//' | sort -r >"$WORK/dates"

UP_PORT="$(free_port)"
UP="http://127.0.0.1:$UP_PORT"
"$MOCK" "$WORK/upstream" "127.0.0.1:$UP_PORT" >"$WORK/upstream.log" 2>&1 &
MOCK_PID=$!
PIDS+=("$MOCK_PID")
for _ in $(seq 1 1500); do
    curl -fsS -o /dev/null "$UP/api/daily_papers?date=$TODAY&limit=1&p=0" 2>/dev/null && break
    kill -0 "$MOCK_PID" 2>/dev/null || { cat "$WORK/upstream.log" >&2; die "the mock upstream $MOCK exited"; }
    sleep 0.02
done
curl -fsS -o /dev/null "$UP/api/daily_papers?date=$TODAY&limit=1&p=0" || die "the mock upstream does not answer on $UP"

FLOODS=(digests searches sweep)
flood_path() {
    case "$1" in
        digests) echo "/digest.atom?period=month&count=12" ;;
        searches) echo "/feed.atom?days=30" ;;
        sweep) echo "/feed.atom?days=1" ;;
    esac
}
flood_connections() { case "$1" in digests) echo 32 ;; searches) echo 64 ;; sweep) echo 16 ;; esac; }
flood_script() { case "$1" in sweep) echo archive-sweep ;; *) echo new-query ;; esac; }
flood_args() { case "$1" in digests) echo "-- word" ;; searches) echo "-- eleven" ;; sweep) echo "-- $WORK/dates" ;; esac; }
CACHED_PATH="/feed.atom"
GZIP=(-H 'Accept-Encoding: gzip')
# A request slower than wrk's default 2 s timeout would count as a socket error and be left
# out of the latency percentiles; this bounds nothing in practice.
TIMEOUT=(--timeout 30s)

# --- the exact commands -------------------------------------------------------------------
{
    echo "## Archive scenario, $(date -u '+%F %H:%M UTC')"
    echo
    echo "Machine: $(nproc) cores ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) memory, Linux $(uname -r); load average at start $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "Data: $DAYS days, $FIRST to $TODAY, about 30 papers a weekday, weekends empty ($(wc -l <"$WORK/dates") files). Runs: $RUNS, wrk duration ${DURATION} s, binaries alternating in each run$([ "$ALONE" = 1 ] && echo "; --alone: each flood with nothing polled beside it")."
    echo
    echo "Binaries:"
    for i in "${!BINARIES[@]}"; do
        echo "- ${LABELS[$i]}: \`${BINARIES[$i]}\` ($(stat -c %s "${BINARIES[$i]}") bytes, sha256 $(sha256sum "${BINARIES[$i]}" | cut -c1-12))"
    done
    echo
    echo "Commands (W is the temporary directory, B a binary, P its port, U the mock upstream $UP, PID the server's):"
    echo
    echo '```'
    echo "${GEN[*]//$WORK/W}"
    echo "$MOCK W/upstream 127.0.0.1:$UP_PORT"
    echo "cd W && PAPERBOY_UPSTREAM__BASE_URL=U PAPERBOY_UPSTREAM__BUDGET=100000 RUST_LOG=warn B fetch --from $FIRST --data-dir W/data"
    echo "cd W && PAPERBOY_UPSTREAM__BASE_URL=U RUST_LOG=warn B --port P --data-dir W/data   # then poll /readyz until 200; start-up RSS = VmRSS"
    echo "curl -H 'Accept-Encoding: gzip' http://127.0.0.1:P$CACHED_PATH   # twice, so it is cached"
    for flood in "${FLOODS[@]}"; do
        echo "# $flood"
        [ "$ALONE" = 1 ] ||
            echo "wrk -t1 -c4 -d${DURATION}s --latency ${TIMEOUT[*]} -H 'Accept-Encoding: gzip' 'http://127.0.0.1:P$CACHED_PATH'   # idle"
        echo "echo 5 > /proc/PID/clear_refs   # resets VmHWM"
        echo "wrk -t2 -c$(flood_connections "$flood") -d${DURATION}s --latency ${TIMEOUT[*]} -H 'Accept-Encoding: gzip' -s bench/$(flood_script "$flood").lua 'http://127.0.0.1:P$(flood_path "$flood")' $(flood_args "$flood" | sed "s|$WORK|W|g") &"
        if [ "$ALONE" = 0 ]; then
            echo "wrk -t1 -c4 -d${DURATION}s --latency ${TIMEOUT[*]} -H 'Accept-Encoding: gzip' 'http://127.0.0.1:P$CACHED_PATH' &   # during"
            echo "wrk -t1 -c1 -d${DURATION}s --latency ${TIMEOUT[*]} 'http://127.0.0.1:P/healthz' &"
        fi
        echo "wait; grep VmHWM /proc/PID/status; sleep 30; grep VmRSS /proc/PID/status"
        echo "curl -s http://127.0.0.1:P/metrics | grep -E 'paperboy_(memory_bytes|render_cache_bytes)'"
    done
    echo '```'
    echo
}

# --- measuring -------------------------------------------------------------------------------
RESULTS="$WORK/results.tsv"
: >"$RESULTS"
put() { printf '%s\t%s\t%s\t%s\n' "$RUN" "$COL" "$1" "$2" >>"$RESULTS"; }

# weighed_in FILE: the sum of the paperboy_memory_bytes lines of a /metrics text, in KiB
weighed_in() { awk '/^paperboy_memory_bytes\{/ {s += $2} END {printf "%.0f", s / 1024}' "$1"; }
# weighed URL: the same, read from the server at URL now
weighed() {
    curl -s "$1/metrics" >"$WORK/metrics.now" || true
    weighed_in "$WORK/metrics.now"
}

# wrk_stats FILE PREFIX: puts PREFIX.rps, PREFIX.p99 (ms), PREFIX.non2xx, PREFIX.sockerr
wrk_stats() {
    local file="$1" prefix="$2"
    if ! grep -q '^Requests/sec' "$file"; then
        echo "wrk gave no result ($file):" >&2
        cat "$file" >&2
        put "$prefix.rps" "n/a"; put "$prefix.p99" "n/a"; put "$prefix.non2xx" "n/a"; put "$prefix.sockerr" "n/a"
        return 0
    fi
    put "$prefix.rps" "$(awk '/^Requests\/sec/ {print $2}' "$file")"
    put "$prefix.p99" "$(awk '$1=="99%" {
        v = $2; f = 1
        if (v ~ /us$/) { f = 0.001; sub(/us$/, "", v) }
        else if (v ~ /ms$/) { sub(/ms$/, "", v) }
        else if (v ~ /s$/) { f = 1000; sub(/s$/, "", v) }
        else if (v ~ /m$/) { f = 60000; sub(/m$/, "", v) }
        printf "%.2f", v * f }' "$file")"
    put "$prefix.non2xx" "$(awk '/Non-2xx or 3xx responses/ {print $NF}' "$file" | grep . || echo 0)"
    put "$prefix.sockerr" "$(awk '/Socket errors/ {gsub(",", ""); print $4+$6+$8+$10}' "$file" | grep . || echo 0)"
}

PB_PID=""
stop_server() {
    [ -n "$PB_PID" ] || return 0
    kill "$PB_PID" 2>/dev/null || true
    wait "$PB_PID" 2>/dev/null || true
    forget "$PB_PID"
    PB_PID=""
}

measure() { # binary label
    local bin="$1" label="$2" data="$WORK/data" log="$WORK/paperboy-$RUN-$COL.log" t0 code
    rm -rf "$data"
    echo "run $RUN, $label: fetching $DAYS days" >&2
    t0="$(now)"
    if ! (cd "$WORK" && PAPERBOY_UPSTREAM__BASE_URL="$UP" PAPERBOY_UPSTREAM__BUDGET=100000 RUST_LOG=warn \
        "$bin" fetch --from "$FIRST" --data-dir "$data") >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        die "$label: \`$bin fetch --from $FIRST --data-dir $data\` failed (log above)"
    fi
    put fetch_s "$(since "$t0")"

    local port pb
    port="$(free_port)"
    pb="http://127.0.0.1:$port"
    echo "run $RUN, $label: starting on port $port" >&2
    t0="$(now)"
    (cd "$WORK" && PAPERBOY_UPSTREAM__BASE_URL="$UP" RUST_LOG=warn exec "$bin" --port "$port" --data-dir "$data") >>"$log" 2>&1 &
    PB_PID=$!
    PIDS+=("$PB_PID")
    code=""
    for _ in $(seq 1 1200); do # 2 minutes
        if ! kill -0 "$PB_PID" 2>/dev/null; then
            tail -n 20 "$log" >&2
            PB_PID=""
            die "$label: \`$bin --port $port --data-dir $data\` exited before /readyz answered 200 (log above)"
        fi
        code="$(curl -s -o /dev/null -w '%{http_code}' "$pb/readyz" 2>/dev/null || true)"
        [ "$code" = 200 ] && break
        sleep 0.1
    done
    if [ "$code" != 200 ]; then
        tail -n 20 "$log" >&2
        die "$label: /readyz did not answer 200 within 2 minutes (last: ${code:-no answer})"
    fi
    put startup_s "$(since "$t0")"
    put startup_rss "$(kb "$PB_PID" VmRSS)"
    put startup_anon "$(kb "$PB_PID" RssAnon)"
    put startup_weighed "$(weighed "$pb")"
    put threads "$(find "/proc/$PB_PID/task" -mindepth 1 -maxdepth 1 | wc -l)"

    for _ in 1 2; do
        code="$(curl -s -o /dev/null -w '%{http_code}' "${GZIP[@]}" "$pb$CACHED_PATH" || true)"
        [ "$code" = 200 ] || die "$label: GET $CACHED_PATH answered ${code:-nothing}"
    done

    local flood out="$WORK/wrk" fpid cpid peak
    for flood in "${FLOODS[@]}"; do
        echo "run $RUN, $label: $flood" >&2
        if [ "$ALONE" = 0 ]; then
            wrk -t1 -c4 -d"${DURATION}s" --latency "${TIMEOUT[@]}" "${GZIP[@]}" "$pb$CACHED_PATH" >"$out.idle" 2>&1 || true
            wrk_stats "$out.idle" "$flood.idle"
        fi

        if ! echo 5 >"/proc/$PB_PID/clear_refs" 2>/dev/null; then
            echo "warning: could not reset VmHWM (clear_refs); the peak is since start-up" >&2
        fi
        # shellcheck disable=SC2046 # flood_args is two words
        wrk -t2 -c"$(flood_connections "$flood")" -d"${DURATION}s" --latency "${TIMEOUT[@]}" "${GZIP[@]}" \
            -s "$BENCH/$(flood_script "$flood").lua" "$pb$(flood_path "$flood")" $(flood_args "$flood") >"$out.flood" 2>&1 &
        fpid=$!
        PIDS+=("$fpid")
        if [ "$ALONE" = 0 ]; then
            wrk -t1 -c4 -d"${DURATION}s" --latency "${TIMEOUT[@]}" "${GZIP[@]}" "$pb$CACHED_PATH" >"$out.cached" 2>&1 &
            cpid=$!
            PIDS+=("$cpid")
            wrk -t1 -c1 -d"${DURATION}s" --latency "${TIMEOUT[@]}" "$pb/healthz" >"$out.health" 2>&1 || true
            wait "$cpid" || true
            forget "$cpid"
        fi
        wait "$fpid" || true
        forget "$fpid"
        kill -0 "$PB_PID" 2>/dev/null || { tail -n 20 "$log" >&2; die "$label exited during the $flood flood (log above)"; }
        peak="$(kb "$PB_PID" VmHWM)"
        wrk_stats "$out.flood" "$flood.flood"
        if [ "$ALONE" = 0 ]; then
            wrk_stats "$out.cached" "$flood.cached"
            wrk_stats "$out.health" "$flood.health"
        fi
        put "$flood.peak" "$peak"
        sleep 30
        put "$flood.after" "$(kb "$PB_PID" VmRSS)"
        put "$flood.after_anon" "$(kb "$PB_PID" RssAnon)"
        curl -s "$pb/metrics" | grep -E '^paperboy_(memory_bytes|render_cache_bytes)' \
            >"$WORK/metrics.$RUN.$COL.$flood" || true
        put "$flood.weighed" "$(weighed_in "$WORK/metrics.$RUN.$COL.$flood")"
    done
    stop_server
    rm -rf "$data"
}

# table RUN|all: the markdown table of one run (or the medians over all runs)
table() {
    python3 - "$RESULTS" "$1" "$DURATION" "${LABELS[@]}" <<'PY'
import statistics, sys
path, which, duration, labels = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
values = {}
for line in open(path, encoding="utf-8"):
    run, col, key, value = line.rstrip("\n").split("\t")
    if which in ("all", run):
        values.setdefault((col, key), []).append(value)

def number(col, key):
    xs = []
    for v in values.get((col, key), []):
        try:
            xs.append(float(v))
        except ValueError:
            pass
    if not xs:
        return None
    return statistics.median(xs)

def cell(col, key, kind):
    if kind == "ratio":
        a, b = number(col, key[0]), number(col, key[1])
        return f"{a / b:.2f}" if a is not None and b else "n/a"
    if kind == "growth":
        # (memory after - at start-up) / (weighed after - at start-up), all in KiB
        after, start, w_after, w_start = (number(col, k) for k in key)
        if None in (after, start, w_after, w_start) or w_after <= w_start:
            return "n/a"
        return f"{(after - start) / (w_after - w_start):.2f}"
    x = number(col, key)
    if x is None:
        return "n/a"
    if kind == "mb":
        return f"{x / 1024:.0f}"
    if kind == "rate":
        return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"
    if kind == "ms":
        return f"{x:,.2f}" if x < 10 else f"{x:,.0f}"
    if kind == "s":
        return f"{x:.1f}"
    return f"{x:,.0f}"

flood_names = {
    "digests": "digests (month, count=12, new q; c32)",
    "searches": "one-off searches (days=30, new 12-term q; c64)",
    "sweep": "date= sweep (days=1, every stored day; c16)",
}
rows = [
    ("fetch of the archive (s)", "fetch_s", "s"),
    ("start-up to /readyz 200 (s)", "startup_s", "s"),
    ("RSS at start-up (MB)", "startup_rss", "mb"),
    ("threads at start-up", "threads", "count"),
]
for f, name in flood_names.items():
    rows += [
        (f"**{name}**: req/s", f"{f}.flood.rps", "rate"),
        (f"{f}: p99 (ms)", f"{f}.flood.p99", "ms"),
        (f"{f}: non-2xx (503)", f"{f}.flood.non2xx", "count"),
        (f"{f}: socket errors", f"{f}.flood.sockerr", "count"),
        (f"{f}: cached feed idle req/s", f"{f}.idle.rps", "rate"),
        (f"{f}: cached feed idle p99 (ms)", f"{f}.idle.p99", "ms"),
        (f"{f}: cached feed during req/s", f"{f}.cached.rps", "rate"),
        (f"{f}: cached feed during p99 (ms)", f"{f}.cached.p99", "ms"),
        (f"{f}: cached during / idle", (f"{f}.cached.rps", f"{f}.idle.rps"), "ratio"),
        (f"{f}: cached feed non-2xx during", f"{f}.cached.non2xx", "count"),
        (f"{f}: /healthz p99 during (ms)", f"{f}.health.p99", "ms"),
        (f"{f}: RSS peak during (MB)", f"{f}.peak", "mb"),
        (f"{f}: RSS 30 s after (MB)", f"{f}.after", "mb"),
        (f"{f}: weighed 30 s after (MB)", f"{f}.weighed", "mb"),
        (f"{f}: RSS above start-up / weighed above start-up",
         (f"{f}.after", "startup_rss", f"{f}.weighed", "startup_weighed"), "growth"),
        (f"{f}: the same, anonymous RSS only (not the program's code)",
         (f"{f}.after_anon", "startup_anon", f"{f}.weighed", "startup_weighed"), "growth"),
    ]
cols = labels
print("| figure | " + " | ".join(cols) + " |")
print("|---|" + "---|" * len(cols))
for name, key, kind in rows:
    print(f"| {name} | " + " | ".join(cell(c, key, kind) for c in cols) + " |")
PY
}

for RUN in $(seq 1 "$RUNS"); do
    for i in "${!BINARIES[@]}"; do
        COL="${LABELS[$i]}"
        put load1 "$(cut -d' ' -f1 /proc/loadavg)"
        measure "${BINARIES[$i]}" "$COL"
    done
    echo "### Run $RUN of $RUNS"
    echo
    table "$RUN"
    echo
    echo "Load average (1 min) before each binary: $(awk -F'\t' -v r="$RUN" '$1==r && $3=="load1" {printf "%s %s; ", $2, $4}' "$RESULTS")"
    echo
    echo "/metrics 30 s after each flood:"
    echo
    echo '```'
    for i in "${!BINARIES[@]}"; do
        for flood in "${FLOODS[@]}"; do
            echo "# ${LABELS[$i]}, $flood"
            cat "$WORK/metrics.$RUN.${LABELS[$i]}.$flood" 2>/dev/null || true
        done
    done
    echo '```'
    echo
done

if [ "$RUNS" -gt 1 ]; then
    echo "### Median of $RUNS runs"
    echo
    table all
    echo
fi
