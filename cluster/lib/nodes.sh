# shellcheck shell=bash
# Sourced by cluster.sh: the votewire nodes. Each gets the primary, every replica and
# Redis (VOTEWIRE_DATABASE_URL, _REPLICA_URLS, _REDIS_URL), the ingest mode
# (VOTEWIRE_INGEST: direct, or stream with workers.sh's workers), and signs tokens with the
# shared key. The
# nodes trust loopback as a proxy (--trusted-proxy): nginx reaches them from 127.0.0.1 and
# appends the client it saw to X-Forwarded-For, which the abuse limits then count against.
# Load (the benchmarks, the fault tests) adds --rate-limit-exempt through
# VOTEWIRE_CLUSTER_NODE_ARGS; a cluster started by hand keeps the limits.

node_port() { echo $((NODE_PORT + $1 - 1)); }
# Each node's admin listener (/metrics, /api/cluster), off the port nginx exposes.
admin_port() { echo $((ADMIN_PORT + $1 - 1)); }

start_node() {
    local i=$1 db=$2 part=node-$1
    if is_running "$part"; then
        echo "$part already running"
        return 0
    fi
    claim_port "$part" "$(node_port "$i")"
    claim_port "$part" "$(admin_port "$i")"
    mkdir -p "$DIR/nodes/$part"
    local args=(serve --listen "127.0.0.1:$(node_port "$i")" --node-id "$part"
        --admin-listen "127.0.0.1:$(admin_port "$i")"
        --key-file "$DIR/signing.key" --data-dir "$DIR/nodes/$part" --web-dir "$REPO/web/dist"
        --allowed-origin "http://127.0.0.1:$HTTP_PORT,http://localhost:$HTTP_PORT"
        --drain-secs "$DRAIN_SECS" --trusted-proxy 127.0.0.1/32)
    # shellcheck disable=SC2206 # word splitting of the extra arguments is the point
    [ -n "${VOTEWIRE_CLUSTER_NODE_ARGS:-}" ] && args+=(${VOTEWIRE_CLUSTER_NODE_ARGS})
    # The URLs carry passwords: in the environment, not on the command line, which any
    # user sees in `ps` and start_bg writes to the log.
    local primary replica replicas=()
    primary=${db}-primary
    for replica in $("${db}_parts"); do
        [ "$replica" = "$primary" ] || replicas+=("$("${db}_url" "$replica")")
    done
    (
        IFS=,
        export VOTEWIRE_DATABASE_URL VOTEWIRE_REPLICA_URLS VOTEWIRE_REDIS_URL VOTEWIRE_INGEST
        VOTEWIRE_INGEST=$(ingest_mode)
        VOTEWIRE_DATABASE_URL=$("${db}_url" "$primary")
        VOTEWIRE_REPLICA_URLS="${replicas[*]}"
        VOTEWIRE_REDIS_URL=$(redis_url)
        start_bg "$part" "" "$BIN" "${args[@]}"
    )
}

node_ready() { curl -fsS -m 2 "http://127.0.0.1:$(node_port "$1")/readyz"; }
