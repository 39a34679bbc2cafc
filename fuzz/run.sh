#!/usr/bin/env bash
# Every cargo-fuzz target for a bounded time (VOTEWIRE_FUZZ_SECS each, 30 by default),
# from the seeds in fuzz/seeds; fails on the first crash, and prints the input that made
# it. The corpus and artifacts go to a temporary folder. The build goes to a cache
# outside the checkout (VOTEWIRE_FUZZ_TARGET_DIR, default ~/.cache/votewire/fuzz-target):
# its instrumented dependencies take about 13 CPU-minutes to build once, and every clone
# on the machine (CI's included) then reuses them and rebuilds only votewire's crates.
# Installs cargo-fuzz when it is missing; needs the nightly toolchain.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
secs=${VOTEWIRE_FUZZ_SECS:-30}
target_dir=${VOTEWIRE_FUZZ_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/votewire/fuzz-target}
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "==> cargo install cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# No sanitizer: the code is safe Rust (`unsafe_code = "forbid"`), so AddressSanitizer
# would only slow every run down; libFuzzer still finds panics and hangs.
fuzz=(cargo +nightly fuzz run --sanitizer none --target-dir "$target_dir")
cargo +nightly fuzz build --sanitizer none --target-dir "$target_dir"
for target in $(cargo +nightly fuzz list); do
    echo "==> fuzz $target (${secs}s)"
    mkdir -p "$work/$target/corpus" "$work/$target/artifacts"
    if ! "${fuzz[@]}" "$target" "$work/$target/corpus" "fuzz/seeds/$target" -- \
        -max_total_time="$secs" -artifact_prefix="$work/$target/artifacts/" \
        -print_final_stats=1 >"$work/$target/log" 2>&1; then
        tail -n 40 "$work/$target/log" >&2
        for input in "$work/$target/artifacts"/*; do
            echo "fuzz/run.sh: $target crashed on (hex): $(od -An -v -tx1 "$input" | tr -d ' \n')" >&2
        done
        exit 1
    fi
    grep -E "stat::number_of_executed_units|stat::new_units_added" "$work/$target/log" | tr '\n' ' '
    echo
done
