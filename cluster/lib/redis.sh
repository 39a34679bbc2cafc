# shellcheck shell=bash
# Sourced by cluster.sh: Redis, which carries the live updates between the nodes (pub/sub
# only, so no persistence: nothing on disk to slow start or stop), with a password.

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
requirepass $REDIS_PASSWORD
proc-title-template "{title} {listen-addr} {config-file}"
EOF
    start_bg redis "" redis-server "$DIR/redis/redis.conf"
}

# The password through the environment: redis-cli would warn about it on a command line.
redis_cli() { REDISCLI_AUTH=$REDIS_PASSWORD redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
redis_ready() { [ "$(redis_cli ping 2>/dev/null)" = PONG ]; }
redis_url() { echo "redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT"; }
