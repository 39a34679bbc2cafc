# shellcheck shell=bash
# Sourced by cluster.sh: Redis, which carries the live updates between the nodes (pub/sub
# only, so no persistence: nothing on disk to slow start or stop).

start_redis() {
    if is_running redis; then
        echo "redis already running"
        return 0
    fi
    claim_port redis "$REDIS_PORT"
    mkdir -p "$DIR/redis"
    # proc-title keeps the config path in the process title, which part_pid relies on.
    cat >"$DIR/redis/redis.conf" <<EOF
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize no
dir $DIR/redis
save ""
appendonly no
maxclients 10000
proc-title-template "{title} {listen-addr} {config-file}"
EOF
    start_bg redis "" redis-server "$DIR/redis/redis.conf"
}

redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }
