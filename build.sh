#!/usr/bin/env bash
# votewire's test-gated build: nothing is built for release if a check fails.
#
#   ./build.sh          fmt, clippy and every test, then the release binary
#   ./build.sh test     fmt, clippy (-D warnings) and every test
#   ./build.sh run ...  one node on http://127.0.0.1:8080 (extra arguments go to votewire)
#   ./build.sh bench    the criterion micro-benchmarks
#   ./build.sh help     this text
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; }

need() {
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "build.sh: '$1' is not installed. $2" >&2
        exit 1
    fi
}

check() {
    need cargo "Install Rust from https://rustup.rs (stable, with rustfmt and clippy)."
    echo "==> cargo fmt --check"
    cargo fmt --all -- --check
    echo "==> cargo clippy -D warnings"
    cargo clippy --workspace --all-targets --locked -- -D warnings
    echo "==> cargo test"
    cargo test --workspace --locked
}

command=${1:-release}
[ $# -gt 0 ] && shift
case "$command" in
    test)
        check
        ;;
    release)
        check
        echo "==> cargo build --release"
        cargo build --release --locked -p votewire-server
        echo "built target/release/votewire"
        ;;
    run)
        need cargo "Install Rust from https://rustup.rs."
        cargo build --release --locked -p votewire-server
        exec target/release/votewire serve "$@"
        ;;
    bench)
        need cargo "Install Rust from https://rustup.rs."
        cargo bench --locked -p votewire-benches --bench fanout
        ;;
    help | -h | --help)
        usage
        ;;
    *)
        echo "build.sh: unknown command '$command'" >&2
        usage >&2
        exit 2
        ;;
esac
