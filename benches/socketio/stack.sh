#!/usr/bin/env bash
# The reference stack for BENCHMARKS.md: 3 nodes of server.js (Express + Socket.IO with
# the Redis adapter + MySQL) behind nginx, on this machine's MariaDB and Redis.
#
#   SOCKETIO_DIR=$(mktemp -d) benches/socketio/stack.sh up     prints the URL, nothing else
#   SOCKETIO_DIR=...          benches/socketio/stack.sh down   stops what `up` started
#
# Settings (environment):
#   SOCKETIO_DIR        required: the run folder (PID files, logs, the rendered nginx.conf)
#   SOCKETIO_PORT       nginx (28300); the nodes listen on +1, +2 and +3
#   SOCKETIO_MYSQL_URL  mysql://root@127.0.0.1:3306/socketio_bench (the nodes create the
#                       database and its tables when missing)
#   SOCKETIO_REDIS_URL  redis://127.0.0.1:6379
#   SOCKETIO_TIMEOUT    seconds `up` waits for every node to answer (30)
#
# MariaDB and Redis are used, never started or stopped: they are the machine's own. Only
# the processes this script started are stopped, by their recorded PIDs.
set -euo pipefail

NAME=stack.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
NODES=(node1 node2 node3)
PARTS=("${NODES[@]}" nginx)

# The local cluster's helpers: messages, PID and log files, starting, finding and
# stopping the parts of a run folder.
# shellcheck source=SCRIPTDIR/../../cluster/lib/common.sh
. "$HERE/../../cluster/lib/common.sh"

usage() {
    echo "usage: SOCKETIO_DIR=<run folder> $NAME up|down" >&2
    exit 2
}

[ $# -eq 1 ] || usage
COMMAND=$1
case "$COMMAND" in
    up | down) ;;
    *)
        echo "$NAME: unknown command '$COMMAND'" >&2
        usage
        ;;
esac

[ -n "${SOCKETIO_DIR:-}" ] || die "SOCKETIO_DIR must name the run folder (e.g. SOCKETIO_DIR=\$(mktemp -d))"
PORT=${SOCKETIO_PORT:-28300}
case "$PORT" in '' | *[!0-9]*) die "SOCKETIO_PORT must be a port number, not '$PORT'" ;; esac
if [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65532 ]; then
    die "SOCKETIO_PORT must be from 1 to 65532 (the nodes take the next 3)"
fi
MYSQL_URL=${SOCKETIO_MYSQL_URL:-mysql://root@127.0.0.1:3306/socketio_bench}
REDIS_URL=${SOCKETIO_REDIS_URL:-redis://127.0.0.1:6379}
TIMEOUT=${SOCKETIO_TIMEOUT:-30}
case "$TIMEOUT" in '' | *[!0-9]*) die "SOCKETIO_TIMEOUT must be a number of seconds" ;; esac

if [ "$COMMAND" = up ]; then
    mkdir -p "$SOCKETIO_DIR"
elif [ ! -d "$SOCKETIO_DIR" ]; then
    die "SOCKETIO_DIR $SOCKETIO_DIR is not a folder"
fi
# Physical path: it is compared with /proc/PID/cwd below.
DIR=$(cd "$SOCKETIO_DIR" && pwd -P)

node_port() { echo $((PORT + ${1#node})); }

# Stops every running part: SIGTERM to all at once, then up to 10 s for each.
stop_all() { stop_parts TERM 10 "${PARTS[@]}" >&2; }

# A part failed during `up`: say so with the end of its log, stop what was started.
abort_up() {
    local part=$1
    shift
    warn "$part: $*"
    log_tail "$part"
    stop_all
    exit 1
}

render_nginx() {
    local conf servers='' i nofile user_line
    # Descriptors: as many as the hard limit allows, up to 65536 (a proxied WebSocket
    # holds two: the client's and the node's).
    nofile=$(ulimit -Hn)
    if [ "$nofile" = unlimited ] || [ "$nofile" -gt 65536 ]; then nofile=65536; fi
    if [ "$(id -u)" = 0 ]; then
        user_line='user nobody nogroup;'
    else
        user_line="# not root: the workers run as $(id -un)"
    fi
    for i in "${NODES[@]}"; do
        servers+="        server 127.0.0.1:$(node_port "$i") max_fails=2 fail_timeout=5s;"$'\n'
    done
    conf=$(
        cat <<'EOF'
# Rendered by benches/socketio/stack.sh: nginx in front of the reference stack's nodes.
# Its own pid file, logs and temp folders, under the run folder: the machine's nginx
# is never touched.
@USER_LINE@
worker_processes auto;
worker_rlimit_nofile @NOFILE@;
pid @DIR@/nginx/nginx.pid;
error_log @DIR@/logs/nginx.log warn;

events {
    worker_connections @WORKER_CONNECTIONS@;
    multi_accept on;
}

http {
    server_tokens off;
    # Logging every vote would cost more than proxying it.
    access_log off;

    client_body_temp_path @DIR@/nginx/temp/client_body;
    proxy_temp_path       @DIR@/nginx/temp/proxy;
    fastcgi_temp_path     @DIR@/nginx/temp/fastcgi;
    uwsgi_temp_path       @DIR@/nginx/temp/uwsgi;
    scgi_temp_path        @DIR@/nginx/temp/scgi;
    # Bodies and answers stay in memory (no temp files), so the workers, nobody when
    # started as root, never need to write under the run folder.
    client_max_body_size 1m;
    client_body_buffer_size 1m;
    proxy_max_temp_file_size 0;

    # "Connection: upgrade" only for WebSocket handshakes; an empty Connection header
    # otherwise, so plain requests reuse the keepalive connections to the nodes.
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      '';
    }

    # Round robin (nginx's default), not ip_hash. Socket.IO needs sticky sessions only
    # for HTTP long-polling, whose requests must all reach the node holding the session;
    # the nodes take WebSocket only, one connection that stays on one node. And ip_hash
    # would send all of loadgen's traffic (one address, 127.0.0.1) to a single node.
    upstream socketio_nodes {
@SERVERS@
        keepalive 64;
        # Under the nodes' keepAliveTimeout (65 s): nginx lets go of an idle connection
        # first, so no request races the node closing it.
        keepalive_timeout 60s;
    }

    server {
        listen 127.0.0.1:@PORT@;

        location / {
            proxy_pass http://socketio_nodes;
            # HTTP/1.1 to the nodes: needed for keepalive and for WebSocket upgrades.
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }
    }
}
EOF
    )
    conf=${conf//@USER_LINE@/$user_line}
    conf=${conf//@NOFILE@/$nofile}
    conf=${conf//@WORKER_CONNECTIONS@/$((nofile - 512))}
    conf=${conf//@DIR@/$DIR}
    conf=${conf//@PORT@/$PORT}
    conf=${conf//@SERVERS@$'\n'/$servers}
    printf '%s\n' "$conf"
}

# Waits until `part` answers GET /api/polls/x on `port` with 404 (up, schema created,
# Redis connected), until the part dies or the deadline passes.
wait_ready() {
    local part=$1 port=$2 code
    while :; do
        code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$port/api/polls/x" || true)
        [ "$code" = 404 ] && return 0
        part_pid "$part" >/dev/null || abort_up "$part" "exited while starting (port $port)"
        if [ "$SECONDS" -ge "$DEADLINE" ]; then
            abort_up "$part" "GET http://127.0.0.1:$port/api/polls/x did not answer 404 within ${TIMEOUT}s (last status: $code)"
        fi
        sleep 0.2
    done
}

up() {
    local part port nginx
    for part in "${PARTS[@]}"; do
        if part_pid "$part" >/dev/null; then
            die "the stack is already up in $DIR ($part is running): '$NAME down' first"
        fi
    done
    command -v node >/dev/null || die "node is not installed"
    command -v curl >/dev/null || die "curl is not installed"
    nginx=$(command -v nginx || echo /usr/sbin/nginx)
    [ -x "$nginx" ] || die "nginx is not installed"
    for port in "$PORT" $((PORT + 1)) $((PORT + 2)) $((PORT + 3)); do
        if port_in_use "$port"; then
            die "port $port is taken by another process (not one of this stack's): free it or set SOCKETIO_PORT"
        fi
    done
    mkdir -p "$DIR/run" "$DIR/logs" "$DIR/nginx/temp"

    if [ ! -d "$HERE/node_modules" ]; then
        if ! (cd "$HERE" && npm ci --no-audit --no-fund) >>"$(log_file npm)" 2>&1; then
            abort_up npm "npm ci failed in $HERE"
        fi
    fi

    render_nginx >"$DIR/nginx/nginx.conf"
    if ! "$nginx" -t -q -p "$DIR/nginx/" -c "$DIR/nginx/nginx.conf" -e "$(log_file nginx)" 2>"$DIR/nginx/check.log"; then
        cat "$DIR/nginx/check.log" >&2
        die "the rendered $DIR/nginx/nginx.conf does not pass nginx -t"
    fi

    # Interrupted while starting: stop what was started.
    trap 'stop_all; exit 130' INT TERM
    # Socket.IO holds one descriptor per socket: as many as the hard limit allows.
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    # In the environment, not on the command line, which start_bg writes to the log:
    # the URLs may hold passwords.
    export MYSQL_URL REDIS_URL
    for part in "${NODES[@]}"; do
        # --run-dir is not read: it names the run folder on the command line, which is
        # how part_pid knows the process as this stack's.
        start_bg "$part" "" env NODE_ENV=production PORT="$(node_port "$part")" NODE_ID="$part" \
            node "$HERE/server.js" --run-dir "$DIR"
    done
    start_bg nginx "" "$nginx" -p "$DIR/nginx/" -c "$DIR/nginx/nginx.conf" -e "$(log_file nginx)" -g 'daemon off;'

    DEADLINE=$((SECONDS + TIMEOUT))
    for part in "${NODES[@]}"; do
        wait_ready "$part" "$(node_port "$part")"
    done
    wait_ready nginx "$PORT"
    trap - INT TERM
    echo "http://127.0.0.1:$PORT"
}

case "$COMMAND" in
    up) up ;;
    down) stop_all ;;
esac
