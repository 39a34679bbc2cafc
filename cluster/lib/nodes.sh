# shellcheck shell=bash
# Sourced by cluster.sh: the votewire nodes. Each gets the primary as --database, every
# replica as --replica, and Redis as --redis, and signs tokens with the shared key. The
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
    local primary replica
    primary=${db}-primary
    args+=(--database "$("${db}_url" "$primary")")
    for replica in $("${db}_parts"); do
        [ "$replica" = "$primary" ] || args+=(--replica "$("${db}_url" "$replica")")
    done
    args+=(--redis "redis://127.0.0.1:$REDIS_PORT")
    # shellcheck disable=SC2206 # word splitting of the extra arguments is the point
    [ -n "${VOTEWIRE_CLUSTER_NODE_ARGS:-}" ] && args+=(${VOTEWIRE_CLUSTER_NODE_ARGS})
    start_bg "$part" "" "$BIN" "${args[@]}"
}

node_ready() { curl -fsS -m 2 "http://127.0.0.1:$(node_port "$1")/readyz"; }
