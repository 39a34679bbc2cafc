# shellcheck shell=bash
# Sourced by cluster.sh: nginx in front of the nodes. Renders nginx/nginx.conf.template for
# this cluster (or for compose.yaml), and starts or reloads nginx with it.

# Renders nginx/nginx.conf.template. `local`: this cluster's ports and folders;
# `compose`: the copy compose.yaml mounts as nginx/nginx.conf.
render_nginx() {
    local target=$1 conf servers='' admin='' i
    conf=$(<"$REPO/nginx/nginx.conf.template")
    if [ "$target" = compose ]; then
        # compose.yaml runs three nodes, whatever this cluster runs.
        for i in 1 2 3; do
            servers+="        server node$i:8080 max_fails=2 fail_timeout=5s;"$'\n'
            admin+="        server node$i:9090;"$'\n'
        done
        conf=${conf//@USER_LINE@/user nginx;}
        conf=${conf//@WORKER_PROCESSES@/auto}
        conf=${conf//@RLIMIT_NOFILE@/65536}
        conf=${conf//@WORKER_CONNECTIONS@/32768}
        conf=${conf//@PID_FILE@//var/run/nginx.pid}
        conf=${conf//@ERROR_LOG@//var/log/nginx/error.log}
        conf=${conf//@ACCESS_LOG@/access_log off;}
        conf=${conf//@TEMP_DIR@//var/cache/nginx}
        conf=${conf//@LISTEN@/80}
    else
        for i in $(seq 1 "$NODES"); do
            servers+="        server 127.0.0.1:$(node_port "$i") max_fails=2 fail_timeout=5s;"$'\n'
            admin+="        server 127.0.0.1:$(admin_port "$i");"$'\n'
        done
        # Descriptors: as many as this machine's hard limit allows, up to 65536.
        local nofile
        nofile=$(ulimit -Hn)
        [ "$nofile" = unlimited ] || [ "$nofile" -gt 65536 ] && nofile=65536
        if [ "$(id -u)" = 0 ]; then
            conf=${conf//@USER_LINE@/user nobody nogroup;}
        else
            conf=${conf//@USER_LINE@/# (not root: workers run as $(id -un))}
        fi
        conf=${conf//@WORKER_PROCESSES@/$NGINX_WORKERS}
        conf=${conf//@RLIMIT_NOFILE@/$nofile}
        conf=${conf//@WORKER_CONNECTIONS@/$((nofile - 512))}
        conf=${conf//@PID_FILE@/$DIR/nginx/nginx.pid}
        conf=${conf//@ERROR_LOG@/$(log_file nginx)}
        conf=${conf//@ACCESS_LOG@/access_log $(log_file nginx-access) votewire buffer=64k flush=2s;}
        conf=${conf//@TEMP_DIR@/$DIR/nginx/temp}
        conf=${conf//@LISTEN@/127.0.0.1:$HTTP_PORT}
    fi
    conf=${conf//@UPSTREAM_SERVERS@$'\n'/$servers}
    conf=${conf//@ADMIN_UPSTREAM_SERVERS@$'\n'/$admin}
    printf '%s\n' "$conf"
}

start_nginx() {
    local conf=$DIR/nginx/nginx.conf nginx
    nginx=$(command -v nginx || echo /usr/sbin/nginx)
    mkdir -p "$DIR/nginx/temp"
    # The workers (nobody when root) write request bodies and buffers here.
    [ "$(id -u)" = 0 ] && chown nobody: "$DIR/nginx/temp"
    render_nginx local >"$conf.new"
    if ! "$nginx" -t -q -p "$DIR/nginx/" -c "$conf.new" -e "$(log_file nginx)" 2>"$DIR/nginx/check.log"; then
        cat "$DIR/nginx/check.log" >&2
        fail_part nginx "the rendered configuration $conf.new does not pass nginx -t"
    fi
    local pid
    if pid=$(part_pid nginx) && cmp -s "$conf.new" "$conf"; then
        # Already up with this configuration: no reload. A reload makes the old workers
        # close their keep-alive client connections, and a request racing that close
        # fails (connection reset), e.g. during a rolling restart of the nodes.
        rm -f "$conf.new"
        echo "nginx already running"
        return 0
    fi
    mv "$conf.new" "$conf"
    if [ -n "$pid" ]; then
        # Already up: pick up the changed configuration without dropping sockets.
        echo "nginx already running: reloading its changed configuration"
        kill -HUP "$pid"
        return 0
    fi
    claim_port nginx "$HTTP_PORT"
    start_bg nginx "" "$nginx" -p "$DIR/nginx/" -c "$conf" -e "$(log_file nginx)" -g 'daemon off;'
}

nginx_ready() {
    curl -fsS -m 2 "http://127.0.0.1:$HTTP_PORT/nginx-healthz" &&
        curl -fsS -m 2 "http://127.0.0.1:$HTTP_PORT/readyz"
}
