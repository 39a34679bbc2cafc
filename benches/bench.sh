#!/usr/bin/env bash
# The benchmarks behind BENCHMARKS.md: the criterion micro-benchmarks, then every loadgen
# scenario of the performance targets, each run several times, against
#   - one SQLite node, direct, beside the in-memory reference server (bin/reference.rs)
#     at the same fan-out points, run after run, so their ratio is measured in one run;
#   - a local cluster (3 nodes, nginx, Redis, MariaDB primary + 2 replicas; then the
#     same with --ingest stream and two workers);
#   - 12 nodes reached one by one: the scale model's predictions (docs/scale.md);
#   - the Socket.IO reference stack (benches/socketio/: 3 Express + Socket.IO + Redis
#     adapter nodes behind nginx, on this machine's MariaDB and Redis) for the writes.
# Every node runs with the shipped defaults, plus only --rate-limit-exempt for loadgen's
# address. This script starts everything on ports of its own and always stops it.
# Writes BENCHMARKS.md and the plots in benches/results/.
#
#   benches/bench.sh            everything (about 40 minutes on 2 cores)
#   benches/bench.sh --quick    one short run of each scenario, small sizes, debug
#                               binaries: a check that the pipeline works, for CI (the
#                               report goes to target/bench/, not BENCHMARKS.md)
#
# Settings (environment):
#   VOTEWIRE_BENCH_RUNS         runs per scenario (3); the report gives their median
#   VOTEWIRE_BENCH_PORT         first of the ports used (28080: nginx; nodes +1..+3;
#                               Redis +100; MariaDB +200..+202; the SQLite node +10;
#                               the reference server +20; the 12-node scale check's
#                               admin ports +30..+41; the Socket.IO stack +220..+223)
# The PID helpers print "--pid N --pid M": their output is split into arguments on purpose.
# shellcheck disable=SC2046
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$PWD

QUICK=0
case "${1:-}" in
    --quick) QUICK=1 ;;
    "") ;;
    *)
        echo "bench.sh: unknown argument '$1' (use --quick or nothing)" >&2
        exit 2
        ;;
esac

RUNS=${VOTEWIRE_BENCH_RUNS:-3}
[ "$QUICK" = 1 ] && RUNS=1
case "$RUNS" in '' | *[!0-9]* | 0)
    echo "bench.sh: VOTEWIRE_BENCH_RUNS must be a positive number" >&2
    exit 2
    ;;
esac
PORT=${VOTEWIRE_BENCH_PORT:-28080}
# loadgen is one address (loopback) playing thousands of voters and sockets: every node
# the benchmarks start lifts its abuse limits from loopback, and only from there.
EXEMPT=(--rate-limit-exempt 127.0.0.0/8)
OUT=$REPO/target/bench
RESULTS=$OUT/results.jsonl
PROFILE=release
[ "$QUICK" = 1 ] && PROFILE=debug
LOADGEN=$REPO/target/$PROFILE/loadgen
VOTEWIRE=$REPO/target/$PROFILE/votewire

say() { printf '==> %s\n' "$*" >&2; }

CLUSTER_DIR=$(mktemp -d)
chmod 755 "$CLUSTER_DIR" # the databases run as their own users
SOLO_DIR=$(mktemp -d)
SOLO_PID=
REFERENCE_PID=
SOCKETIO_DIR=$(mktemp -d)
export SOCKETIO_DIR SOCKETIO_PORT=$((PORT + 220))
export VOTEWIRE_CLUSTER_DIR=$CLUSTER_DIR VOTEWIRE_BIN=$VOTEWIRE \
    VOTEWIRE_CLUSTER_HTTP_PORT=$PORT VOTEWIRE_CLUSTER_NODE_PORT=$((PORT + 1)) \
    VOTEWIRE_CLUSTER_REDIS_PORT=$((PORT + 100)) VOTEWIRE_CLUSTER_MARIADB_PORT=$((PORT + 200)) \
    VOTEWIRE_CLUSTER_NODE_ARGS="${EXEMPT[*]}"

# stop PID: stops a process this script started, if there is one.
stop() {
    [ -n "$1" ] || return 0
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

cleanup() {
    stop "$SOLO_PID"
    stop "$REFERENCE_PID"
    benches/socketio/stack.sh down >/dev/null 2>&1 || true
    cluster/cluster.sh down --purge >/dev/null 2>&1 || true
    rm -rf "$CLUSTER_DIR" "$SOLO_DIR" "$SOCKETIO_DIR"
}
trap cleanup EXIT

node_pids() {
    local i
    for i in 1 2 3; do printf -- '--pid %s ' "$(cat "$CLUSTER_DIR/run/node-$i.pid")"; done
}

# The nodes' and, with --ingest stream, the workers' PIDs.
cluster_pids() {
    local f
    for f in "$CLUSTER_DIR"/run/node-*.pid "$CLUSTER_DIR"/run/worker-*.pid; do
        [ -e "$f" ] && printf -- '--pid %s ' "$(cat "$f")"
    done
    return 0
}

# run_with_primary_down NAME SECONDS-IN DOWN-FOR TARGET-URL LOADGEN-ARGS...: one run
# (per RUNS) with the primary database stopped SECONDS-IN into it for DOWN-FOR seconds,
# then started again (cluster.sh up repairs it).
run_with_primary_down() {
    local name=$1 after=$2 down=$3 i loadgen
    shift 3
    for i in $(seq 1 "$RUNS"); do
        run_once "$name" "$i" "$@" &
        loadgen=$!
        sleep "$after"
        say "stopping the primary for ${down}s"
        kill -TERM "$(cat "$CLUSTER_DIR/run/mariadb-primary.pid")"
        sleep "$down"
        cluster/cluster.sh up >/dev/null
        say "primary back"
        wait "$loadgen"
    done
}

# Fresh node processes, so a memory figure is not flattered by memory an earlier
# scenario left in the allocator; and four nginx workers, since each worker holds at most
# this machine's 20,000 descriptors, two per socket (the idle run's 20,000 sockets).
restart_nodes() {
    local i
    for i in 1 2 3; do kill "$(cat "$CLUSTER_DIR/run/node-$i.pid")"; done
    for i in 1 2 3; do
        while kill -0 "$(cat "$CLUSTER_DIR/run/node-$i.pid")" 2>/dev/null; do sleep 0.1; done
    done
    VOTEWIRE_CLUSTER_NGINX_WORKERS=4 cluster/cluster.sh up >/dev/null
}

# run_once NAME RUN TARGET-URL LOADGEN-ARGS...: one run, its result appended to RESULTS
# with its command and its plot.
run_once() {
    local name=$1 run=$2 url=$3 out plot=$OUT/$1-$2.svg
    shift 3
    local cmd=("$LOADGEN" --url "$url" "$@")
    case " $* " in *" idle "* | *" spread "*) plot='' ;; *) cmd+=(--plot "$plot") ;; esac
    say "$name, run $run of $RUNS: loadgen ${cmd[*]:1}"
    if ! out=$("${cmd[@]}"); then
        echo "bench.sh: $name run $run failed" >&2
        exit 1
    fi
    printf '%s\n' "$out" >&2
    python3 - "$name" "$run" "$(tail -n 1 <<<"$out")" "${cmd[*]:1}" "$plot" >>"$RESULTS" <<'EOF'
import json, re, sys
name, run, result, command, plot = sys.argv[1:]
# The command as a reader would type it: no PIDs, no plot path.
command = re.sub(r" --pid \d+| --plot \S+", "", command)
print(json.dumps({"name": name, "run": int(run), "command": "loadgen " + command,
                  "result": json.loads(result), "plot": plot}))
EOF
}

# run_costs [--quick]: one run of benches/costs.py on the cluster, its result appended to
# RESULTS as the scenario `costs`.
run_costs() {
    local out
    say "costs: a vote's and a frame's CPU, part by part (benches/costs.py $*)"
    out=$(python3 benches/costs.py "$CLUSTER_DIR" "$LOADGEN" "$URL" "$@") || {
        echo "bench.sh: costs.py failed" >&2
        exit 1
    }
    python3 - "$out" "$*" >>"$RESULTS" <<'EOF'
import json, sys
result, flags = sys.argv[1:]
command = ("python3 benches/costs.py CLUSTER_DIR target/release/loadgen URL " + flags).strip()
print(json.dumps({"name": "costs", "run": 1, "command": command, "result": json.loads(result), "plot": ""}))
EOF
}

# run NAME TARGET-URL LOADGEN-ARGS...: RUNS runs of one scenario.
run() {
    local name=$1 i
    shift
    for i in $(seq 1 "$RUNS"); do run_once "$name" "$i" "$@"; done
}

# wait_ready URL: until URL answers (a node's /readyz, the reference's poll).
wait_ready() {
    local _
    for _ in $(seq 1 100); do
        curl -fsS -m 1 "$1" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "bench.sh: $1 did not answer" >&2
    exit 1
}

mkdir -p "$OUT"
rm -f "$RESULTS" "$OUT"/*.svg

say "cargo build ($PROFILE: votewire, loadgen, reference)"
BINS=(-p votewire-server -p votewire-benches --bin votewire --bin loadgen --bin reference)
if [ "$QUICK" = 1 ]; then
    cargo build --locked -q "${BINS[@]}"
else
    cargo build --release --locked -q "${BINS[@]}"
fi
REFERENCE=$REPO/target/$PROFILE/reference

if [ "$QUICK" = 0 ]; then
    say "criterion micro-benchmarks"
    cargo bench --locked -q -p votewire-benches --bench fanout --bench store -- \
        --warm-up-time 1 --measurement-time 3 >&2
fi

# The fan-out points: sockets x votes/s. Quick: small sizes, a check of the pipeline.
if [ "$QUICK" = 1 ]; then
    POINTS=("100 200" "200 10" "200 100")
    QUIET="200" DURATION=2 RUNS_OF_POINTS=1
else
    POINTS=("1000 2000" "5000 10" "5000 1000")
    QUIET="5000" DURATION=15 RUNS_OF_POINTS=$RUNS
fi

say "one SQLite node on 127.0.0.1:$((PORT + 10)) and the reference server on 127.0.0.1:$((PORT + 20))"
SOLO_URL=http://127.0.0.1:$((PORT + 10))
REFERENCE_URL=http://127.0.0.1:$((PORT + 20))
"$VOTEWIRE" serve --listen "127.0.0.1:$((PORT + 10))" --data-dir "$SOLO_DIR" --node-id solo "${EXEMPT[@]}" \
    >"$OUT/solo.log" 2>&1 &
SOLO_PID=$!
"$REFERENCE" --listen "127.0.0.1:$((PORT + 20))" >"$OUT/reference.log" 2>&1 &
REFERENCE_PID=$!
wait_ready "$SOLO_URL/readyz"
wait_ready "$REFERENCE_URL/api/polls/reference"
# Run after run, the reference then votewire at each point: both meet the machine alike.
for i in $(seq 1 "$RUNS_OF_POINTS"); do
    for point in "${POINTS[@]}"; do
        read -r sockets rate <<<"$point"
        run_once "reference-fanout-${sockets}x$rate" "$i" "$REFERENCE_URL" --pid "$REFERENCE_PID" \
            fanout --sockets "$sockets" --rate "$rate" --duration "$DURATION"
        run_once "solo-fanout-${sockets}x$rate" "$i" "$SOLO_URL" --pid "$SOLO_PID" \
            fanout --sockets "$sockets" --rate "$rate" --duration "$DURATION"
    done
    # One vote every half second on a quiet poll: how long one frame takes to reach
    # every socket, what the low-load point is set against.
    run_once "solo-quiet-$QUIET" "$i" "$SOLO_URL" --pid "$SOLO_PID" \
        fanout --sockets "$QUIET" --rate 2 --duration "$((DURATION < 10 ? DURATION : 10))"
done
stop "$SOLO_PID"
stop "$REFERENCE_PID"
SOLO_PID='' REFERENCE_PID=''

say "local cluster on 127.0.0.1:$PORT (nodes: ${EXEMPT[*]})"
cluster/cluster.sh up --db mariadb >&2
URL=http://127.0.0.1:$PORT
REPLICAS=(--replica "mysql://root@127.0.0.1:$((PORT + 201))/votewire"
    --replica "mysql://root@127.0.0.1:$((PORT + 202))/votewire")

for i in $(seq 1 "$RUNS_OF_POINTS"); do
    for point in "${POINTS[@]}"; do
        read -r sockets rate <<<"$point"
        run_once "fanout-${sockets}x$rate" "$i" "$URL" $(node_pids) \
            fanout --sockets "$sockets" --rate "$rate" --duration "$DURATION"
    done
    run_once "quiet-$QUIET" "$i" "$URL" $(node_pids) \
        fanout --sockets "$QUIET" --rate 2 --duration "$((DURATION < 10 ? DURATION : 10))"
done
if [ "$QUICK" = 1 ]; then
    run write-64 "$URL" $(node_pids) write --voters 16 --duration 2
    run ingest-direct-64 "$URL" $(node_pids) ingest --voters 16 --duration 2
    run replication-64 "$URL" replication --voters 16 --duration 2 "${REPLICAS[@]}"
    run_costs --quick
    restart_nodes
    run_once idle-20000 1 "$URL" $(node_pids) idle --sockets 500 --processes 2 --hold 1
else
    run write-64 "$URL" $(node_pids) write --voters 64 --duration 10
    run ingest-direct-64 "$URL" $(node_pids) ingest --voters 64 --duration 10
    run replication-64 "$URL" replication --voters 64 --duration 10 "${REPLICAS[@]}"
    run_costs
    for i in $(seq 1 "$RUNS"); do
        restart_nodes
        run_once idle-20000 "$i" "$URL" $(node_pids) idle --sockets 20000 --processes 2 --hold 5
    done
fi
cluster/cluster.sh down --purge >/dev/null

say "the cluster again, with --ingest stream (two workers)"
cluster/cluster.sh up --db mariadb --ingest stream >&2
if [ "$QUICK" = 1 ]; then
    run ingest-stream-64 "$URL" $(cluster_pids) ingest --voters 16 --duration 2
else
    run ingest-stream-64 "$URL" $(cluster_pids) ingest --voters 64 --duration 10
    run_with_primary_down ingest-stream-db-down-64 10 20 "$URL" $(cluster_pids) ingest --voters 64 --duration 40
fi
cluster/cluster.sh down --purge >/dev/null

say "the scale check: 12 nodes on one Redis, reached node by node (docs/scale.md)"
SPREAD_ADMIN=$((PORT + 30))
VOTEWIRE_CLUSTER_NODES=12 VOTEWIRE_CLUSTER_ADMIN_PORT=$SPREAD_ADMIN cluster/cluster.sh up --db mariadb >&2
SPREAD=()
for i in $(seq 1 12); do
    SPREAD+=(--node "http://127.0.0.1:$((PORT + i))" --admin "http://127.0.0.1:$((SPREAD_ADMIN + i - 1))")
done
if [ "$QUICK" = 1 ]; then SPREAD+=(--polls 12 --votes 2); else SPREAD+=(--polls 48 --votes 3); fi
# The password reaches loadgen in its environment, never on the command line the report shows.
# shellcheck disable=SC1091 # cluster.sh writes the settings file
REDIS_PASSWORD=$(. "$CLUSTER_DIR/settings" && echo "$REDIS_PASSWORD")
LOADGEN_REDIS_URL="redis://:$REDIS_PASSWORD@127.0.0.1:$((PORT + 100))" \
    run_once spread-12 1 "$URL" spread "${SPREAD[@]}" --watchers 3
cluster/cluster.sh down --purge >/dev/null

say "the Socket.IO reference stack on 127.0.0.1:$SOCKETIO_PORT"
SOCKETIO_URL=$(benches/socketio/stack.sh up)
socketio_pids() {
    local f
    for f in "$SOCKETIO_DIR"/run/node*.pid; do printf -- '--pid %s ' "$(cat "$f")"; done
}
if [ "$QUICK" = 1 ]; then
    run socketio-write-64 "$SOCKETIO_URL" $(socketio_pids) write --voters 16 --duration 2
else
    run socketio-write-64 "$SOCKETIO_URL" $(socketio_pids) write --voters 64 --duration 10
fi
benches/socketio/stack.sh down >/dev/null

if [ "$QUICK" = 1 ]; then
    python3 benches/report.py --check "$RESULTS" "$OUT/no-criterion" "${EXEMPT[*]}" "$RUNS" \
        "$OUT/plots" >"$OUT/BENCHMARKS.quick.md"
    say "quick run done: $OUT/BENCHMARKS.quick.md"
    exit 0
fi
say "writing BENCHMARKS.md and benches/results/"
python3 benches/report.py "$RESULTS" "$REPO/target/criterion" "${EXEMPT[*]}" "$RUNS" \
    "$REPO/benches/results" >"$REPO/BENCHMARKS.md"
say "done: BENCHMARKS.md"
