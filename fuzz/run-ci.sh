#!/usr/bin/env bash
# Runs each fuzz target for a short while against its committed corpus (corpus/TARGET, minimized
# with `cargo fuzz cmin`, and the hand-written seeds/TARGET), failing on a crash.
# Fuzzing needs a nightly toolchain and cargo-fuzz: without nightly it is skipped (exit 0);
# with nightly but without cargo-fuzz, cargo-fuzz is installed first.
#
#   bash fuzz/run-ci.sh            # 30 seconds per target
#   FUZZ_SECONDS=600 bash fuzz/run-ci.sh
set -euo pipefail
cd "$(dirname "$0")"

seconds="${FUZZ_SECONDS:-30}"
targets=(query_string search_expr upstream_page host_header stored_day websub_form)

toolchains="$(rustup toolchain list 2>/dev/null || true)"
if ! grep -q '^nightly' <<<"$toolchains"; then
    echo "fuzz: no nightly toolchain (rustup toolchain list shows none), so fuzzing was skipped"
    exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
cargo +nightly fuzz --version

# One fuzzing process at a time (no -jobs/-workers): output stays on stdout.
# Build every target first, so that a build error is not mistaken for a crash.
# Without a sanitizer: paperboy is safe Rust, so AddressSanitizer finds nothing a panic would
# not, and the build takes half the time.
cargo +nightly fuzz build --sanitizer none

status=0
for target in "${targets[@]}"; do
    echo "== fuzz $target (${seconds}s)"
    mkdir -p "corpus/$target"
    # New inputs go to a scratch directory: the committed corpus is read, never grown.
    scratch="$(mktemp -d)"
    if ! cargo +nightly fuzz run --sanitizer none "$target" "$scratch" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1; then
        echo "fuzz: $target CRASHED; the reproducer is in fuzz/artifacts/$target/" >&2
        status=1
    fi
    rm -rf "$scratch"
done
exit "$status"
