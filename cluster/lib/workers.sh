# shellcheck shell=bash
# Sourced by cluster.sh: with `up --ingest stream`, the nodes record votes in Redis
# Streams and answer 202, and two `votewire worker` processes (worker-1, worker-2 on
# WORKER_PORT and the port after it, serving /livez, /readyz, /metrics and /api/cluster)
# commit them. Killing one leaves its pending votes to the other after
# --ingest-claim-idle-ms (VOTEWIRE_CLUSTER_WORKER_ARGS sets it, with any other flag).

WORKERS=2

ingest_mode() { cat "$DIR/ingest-mode" 2>/dev/null || echo direct; }

worker_parts() {
    [ "$(ingest_mode)" = stream ] || return 0
    seq -f 'worker-%g' 1 "$WORKERS"
}

worker_port() { echo $((WORKER_PORT + $1 - 1)); }

start_worker() {
    local i=$1 db=$2 part=worker-$1
    if is_running "$part"; then
        echo "$part already running"
        return 0
    fi
    claim_port "$part" "$(worker_port "$i")"
    mkdir -p "$DIR/workers/$part"
    local args=(worker --listen "127.0.0.1:$(worker_port "$i")" --node-id "$part"
        --key-file "$DIR/signing.key" --data-dir "$DIR/workers/$part"
        --drain-secs "$DRAIN_SECS")
    # shellcheck disable=SC2206 # word splitting of the extra arguments is the point
    [ -n "${VOTEWIRE_CLUSTER_WORKER_ARGS:-}" ] && args+=(${VOTEWIRE_CLUSTER_WORKER_ARGS})
    # The URLs carry passwords: in the environment, as the nodes' (see nodes.sh).
    (
        export VOTEWIRE_DATABASE_URL VOTEWIRE_REDIS_URL VOTEWIRE_INGEST=stream
        VOTEWIRE_DATABASE_URL=$("${db}_url" "${db}-primary")
        VOTEWIRE_REDIS_URL=$(redis_url)
        start_bg "$part" "" "$BIN" "${args[@]}"
    )
}

worker_ready() { curl -fsS -m 2 "http://127.0.0.1:$(worker_port "$1")/readyz"; }
