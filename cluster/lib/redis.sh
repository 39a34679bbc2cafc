# shellcheck shell=bash
# Sourced by cluster.sh: Redis, which carries the live updates between the nodes and, with
# `up --ingest stream`, the votes waiting to be committed, with a password. Redis keeps
# what it acknowledged: AOF with `appendfsync everysec` (a Redis process killed loses
# nothing it answered, the kernel has it; a machine that loses power loses up to the last
# second; `always` would lose nothing, at a disk flush per write).
# Either one server (`redis`, the default) or, with `up --redis cluster`, a Redis Cluster
# of three masters with a replica each (`redis-1` to `redis-6`, on REDIS_PORT and the
# five ports after it; each also uses its port + 10000 for the cluster bus), which the
# nodes reach through a `redis-cluster://` URL and use with sharded pub/sub.

REDIS_CLUSTER_SERVERS=6

redis_mode() { cat "$DIR/redis-mode" 2>/dev/null || echo single; }

redis_parts() {
    if [ "$(redis_mode)" = cluster ]; then
        seq -f 'redis-%g' 1 "$REDIS_CLUSTER_SERVERS"
    else
        echo redis
    fi
}

redis_port() {
    case "$1" in
        redis) echo "$REDIS_PORT" ;;
        redis-*) echo $((REDIS_PORT + ${1#redis-} - 1)) ;;
    esac
}

start_redis() {
    local part
    for part in $(redis_parts); do start_redis_server "$part"; done
}

start_redis_server() {
    local part=$1 port
    if is_running "$part"; then
        echo "$part already running"
        return 0
    fi
    port=$(redis_port "$part")
    claim_port "$part" "$port"
    mkdir -p "$DIR/$part"
    # proc-title keeps the config path in the process title, which part_pid relies on.
    cat >"$DIR/$part/redis.conf" <<EOF
bind 127.0.0.1
port $port
protected-mode yes
daemonize no
dir $DIR/$part
save ""
appendonly yes
appendfsync everysec
maxclients 10000
requirepass $REDIS_PASSWORD
proc-title-template "{title} {listen-addr} {config-file}"
EOF
    if [ "$(redis_mode)" = cluster ]; then
        # A replica signs in to its master with the same password; a master silent for
        # 5 s is failed over to its replica (less would fail over a master that a busy
        # machine merely starved).
        cat >>"$DIR/$part/redis.conf" <<EOF
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout 5000
masterauth $REDIS_PASSWORD
EOF
    fi
    start_bg "$part" "" redis-server "$DIR/$part/redis.conf"
}

# Waits for every server; a new Redis Cluster is then joined (the first three servers
# become the masters) and waited for until every slot is served.
wait_redis() {
    local part
    for part in $(redis_parts); do
        wait_for "$part" "PING answered with PONG on 127.0.0.1:$(redis_port "$part")" redis_ready "$part"
    done
    [ "$(redis_mode)" = cluster ] || return 0
    if [ "$(redis_cli_at "$REDIS_PORT" cluster info | tr -d '\r' | grep cluster_known_nodes)" = cluster_known_nodes:1 ]; then
        local addresses=()
        for part in $(redis_parts); do addresses+=("127.0.0.1:$(redis_port "$part")"); done
        say "joining the Redis Cluster"
        REDISCLI_AUTH=$REDIS_PASSWORD redis-cli --cluster create "${addresses[@]}" \
            --cluster-replicas 1 --cluster-yes >>"$(log_file redis-cluster-create)" 2>&1 ||
            fail_part redis-cluster-create "redis-cli --cluster create failed"
    fi
    wait_for redis-1 "CLUSTER INFO says cluster_state:ok" redis_cluster_ok
}

# The password through the environment: redis-cli would warn about it on a command line.
redis_cli_at() { REDISCLI_AUTH=$REDIS_PASSWORD redis-cli -h 127.0.0.1 -p "$1" "${@:2}"; }
redis_ready() { [ "$(redis_cli_at "$(redis_port "${1:-redis}")" ping 2>/dev/null)" = PONG ]; }
redis_cluster_ok() { redis_cli_at "$REDIS_PORT" cluster info | tr -d '\r' | grep -qx cluster_state:ok; }

# The nodes' Redis URL (with the password: it goes in their environment only). Callers
# may have changed IFS (start_node joins replica URLs with commas).
redis_url() {
    if [ "$(redis_mode)" = cluster ]; then
        local IFS=$' \t\n' part others=''
        for part in $(redis_parts); do
            [ "$part" = redis-1 ] || others+="${others:+&}node=127.0.0.1:$(redis_port "$part")"
        done
        echo "redis-cluster://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT?$others"
    else
        echo "redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT"
    fi
}
