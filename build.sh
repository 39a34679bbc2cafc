#!/usr/bin/env bash
# votewire's test-gated build: nothing is built for release if a check fails.
#
#   ./build.sh          fmt, clippy and every test, then the release binary
#   ./build.sh check    the fast loop: fmt, clippy (-D warnings) and the Rust tests but
#                       the cluster fault scenarios (a minute or two)
#   ./build.sh test     fmt, clippy (-D warnings) and every test: Rust (fault scenarios
#                       included), schemathesis on a node, the fuzz targets (bounded), web
#                       (typecheck, unit, Chromium end to end on a node and on a cluster),
#                       deployment files, a short run of every benchmark
#   ./build.sh run ...  one node on http://127.0.0.1:8080 (extra arguments go to votewire)
#   ./build.sh bench    every benchmark (criterion, then loadgen against a local cluster
#                       and a single node it starts) into BENCHMARKS.md; --quick: a check
#   ./build.sh web      install the web client's packages and build web/dist
#   ./build.sh cluster [--db mariadb|postgres]   every check, the release binary, then
#                       the local cluster; cluster status|logs|down go to cluster/cluster.sh
#   ./build.sh help     this text
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }

need() {
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "build.sh: '$1' is not installed. $2" >&2
        exit 1
    fi
}

lint() {
    need cargo "Install Rust from https://rustup.rs (stable, with rustfmt and clippy)."
    echo "==> cargo fmt --check"
    cargo fmt --all -- --check
    cargo fmt --manifest-path fuzz/Cargo.toml -- --check
    echo "==> cargo clippy -D warnings"
    cargo clippy --workspace --all-targets --locked -- -D warnings
}

# The Python tools the tests run (the OpenAPI validator, schemathesis), at the versions
# pinned in tools/requirements.txt; pip is quick when they are already there.
ensure_python_tools() {
    need python3 "Install Python 3 with pip."
    echo "==> pip install -r tools/requirements.txt"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
        -r tools/requirements.txt
}

# The fast loop: every Rust test target but `faults`, which starts whole clusters.
quick_check() {
    lint
    ensure_python_tools
    echo "==> cargo test (without the fault scenarios)"
    cargo test --workspace --locked --lib --bins \
        --test api --test architecture --test bus --test cluster --test store --test typescript
}

check() {
    lint
    ensure_python_tools
    echo "==> cargo test"
    cargo test --workspace --locked
    api_fuzz
    web_check
    infra_check
    cluster_e2e
    bench_smoke
}

# The API and the parsers against generated input: schemathesis on a node of its own
# (tools/schemathesis.sh, about 30 s), then every cargo-fuzz target for 30 s
# (fuzz/run.sh, under 2 minutes; its first build takes minutes, later ones seconds).
api_fuzz() {
    local started=$SECONDS
    echo "==> schemathesis"
    VOTEWIRE_BIN="$PWD/target/debug/votewire" tools/schemathesis.sh
    echo "schemathesis: $((SECONDS - started)) s"
    started=$SECONDS
    echo "==> cargo fuzz"
    fuzz/run.sh
    echo "fuzz: $((SECONDS - started)) s"
}

# Installs Debian packages that are missing (as root), or says which to install.
ensure_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        echo "build.sh: missing packages: ${missing[*]} (apt-get install -y ${missing[*]})" >&2
        exit 1
    fi
    echo "==> apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# The deployment files: nginx -t on both renders of the template, compose files that
# docker-compose accepts, and the Kubernetes overlays rendered and validated against the
# schemas (no Docker engine or cluster is needed for any), with the self-test that shows
# that validation can fail.
infra_check() {
    ensure_packages nginx docker-compose
    echo "==> nginx -t"
    cluster/cluster.sh check
    echo "==> docker-compose config"
    docker-compose -f compose.yaml config -q
    docker-compose -f compose.yaml --profile stream --profile demo config -q
    docker-compose -f compose.yaml -f compose.postgres.yaml config -q
    echo "==> kubernetes: kustomize + schemas"
    tools/k8s-check.sh
    # The check is only worth something if it can fail: broken objects must be refused.
    tools/k8s-check.sh --self-test
    echo "deployment files ok"
}

# --- web client (web/) ---------------------------------------------------------------
web_deps() {
    need npm "Install Node.js 20.19+ and npm (Debian: apt-get install nodejs npm)."
    echo "==> npm install (web/)"
    if [ -f web/package-lock.json ]; then
        (cd web && npm ci --no-audit --no-fund)
    else
        (cd web && npm install --no-audit --no-fund)
    fi
}

web_build() {
    web_deps
    echo "==> vite build (web/dist)"
    (cd web && npm run build)
}

# Typecheck, unit tests, then Chromium against a real node (scripts/e2e.sh installs
# Chromium when it is missing, builds the debug server and web/dist).
web_check() {
    web_deps
    echo "==> web: typecheck"
    (cd web && npm run typecheck)
    echo "==> web: unit tests"
    (cd web && npm test)
    echo "==> web: end-to-end"
    # The node binary `cargo test` just built: a plain `cargo build` would rebuild the
    # dependencies with other features for nothing.
    (cd web && VOTEWIRE_BIN="$PWD/../target/debug/votewire" npm run e2e)
}

# The browser scenario again, against a whole local cluster (MariaDB primary + 2
# replicas, Redis, 3 nodes, nginx) on ports of its own: one page per node, each shows its
# node, a vote on one shows on all with the node named. The cluster is always torn down.
cluster_e2e() {
    local dir
    dir=$(mktemp -d)
    chmod 755 "$dir" # the databases run as their own users (mysql, postgres)
    export VOTEWIRE_CLUSTER_DIR="$dir" VOTEWIRE_BIN="$PWD/target/debug/votewire" \
        VOTEWIRE_CLUSTER_HTTP_PORT=18180 VOTEWIRE_CLUSTER_NODE_PORT=18181 \
        VOTEWIRE_CLUSTER_REDIS_PORT=16479 VOTEWIRE_CLUSTER_MARIADB_PORT=13406
    # EXIT, not RETURN: with `set -e` a failure leaves the script without returning.
    trap cluster_e2e_down EXIT
    echo "==> web: end-to-end on a local cluster"
    cluster/cluster.sh up --db mariadb
    local targets="node-1=http://127.0.0.1:18181,node-2=http://127.0.0.1:18182,node-3=http://127.0.0.1:18183"
    (cd web && VOTEWIRE_E2E_TARGETS="$targets" npx --no-install vitest run --config vitest.e2e.config.ts e2e/cluster.e2e.ts)
    # The passwords cluster.sh gave Redis, the databases and the nodes (its defaults).
    no_secret_in "$dir/logs" votewire-redis-secret votewire-db-secret votewire-repl
    cluster_e2e_down
    trap - EXIT
}

# A few seconds of each benchmark scenario on a cluster and a node of their own, through
# the same script as `./build.sh bench`, so neither loadgen nor the report can rot. Speed
# is not judged here (benchmarks are not tests); correctness is: no vote error, every
# socket on the final tally, the recount equal to the acknowledged votes, every vote
# visible on the replicas.
bench_smoke() {
    echo "==> benchmarks (quick: correctness only)"
    benches/bench.sh --quick
}

# Fails, showing the lines, when a log under `dir` holds one of the passwords that follow.
no_secret_in() {
    local dir=$1 secret leaked=0
    shift
    for secret in "$@"; do
        if grep -rnF -- "$secret" "$dir" >&2; then leaked=1; fi
    done
    [ "$leaked" = 0 ] || { echo "build.sh: a password reached the logs above" >&2; return 1; }
    echo "no password in the logs of $dir"
}

cluster_e2e_down() {
    cluster/cluster.sh down --purge >/dev/null 2>&1 || true
    rm -rf "$VOTEWIRE_CLUSTER_DIR"
}
# --- end web client ------------------------------------------------------------------

# Fails, showing what changed, when the run left the working tree otherwise than it
# found it (`git status`): tests and tools write outside the tree.
tree_unchanged() {
    local before=$1 after
    git rev-parse --git-dir >/dev/null 2>&1 || return 0
    after=$(git status --porcelain)
    if [ "$after" != "$before" ]; then
        echo "build.sh: the run changed the working tree (tests must write outside it):" >&2
        diff <(echo "$before") <(echo "$after") >&2 || true
        return 1
    fi
    echo "==> the working tree is as the run found it"
}

command=${1:-release}
[ $# -gt 0 ] && shift
case "$command" in
    check)
        quick_check
        ;;
    test)
        tree_before=$(git status --porcelain 2>/dev/null || true)
        check
        tree_unchanged "$tree_before"
        ;;
    release)
        check
        echo "==> cargo build --release"
        cargo build --release --locked -p votewire-server
        echo "built target/release/votewire"
        ;;
    run)
        need cargo "Install Rust from https://rustup.rs."
        if command -v npm >/dev/null 2>&1; then web_build; else echo "build.sh: npm not found, serving without rebuilding web/dist" >&2; fi
        cargo build --release --locked -p votewire-server
        exec target/release/votewire serve "$@"
        ;;
    bench)
        need cargo "Install Rust from https://rustup.rs."
        exec benches/bench.sh "$@"
        ;;
    web)
        web_build
        ;;
    cluster)
        # The local cluster: test-gated like a release when it starts; the other
        # cluster commands (status, logs, down, ...) need no build.
        case "${1:-up}" in
            up | --db | --db=*)
                if [ "${1:-}" = up ]; then shift; fi
                check
                echo "==> cargo build --release"
                cargo build --release --locked -p votewire-server
                exec cluster/cluster.sh up "$@"
                ;;
            *)
                exec cluster/cluster.sh "$@"
                ;;
        esac
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
