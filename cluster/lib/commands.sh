# shellcheck shell=bash
# Sourced by cluster.sh: the commands (up, status, logs, down, check) and what they share:
# the list of parts, which database a cluster runs, each part's port and health check.

# shellcheck disable=SC2153 # NODES is cluster.sh's setting (nodes is cmd_down's local)
all_parts() {
    redis_parts
    mariadb_parts
    postgres_parts
    for i in $(seq 1 "$NODES"); do echo "node-$i"; done
    worker_parts
    echo nginx
    demo_parts
}

# ranges_meet START1 COUNT1 START2 COUNT2: true when the two port ranges share a port.
ranges_meet() { [ "$1" -lt $(($3 + $4)) ] && [ "$3" -lt $(($1 + $2)) ]; }

# The node count, and port ranges that do not meet: two parts on one port would fight.
check_layout() {
    case "$NODES" in
        '' | *[!0-9]*) die "VOTEWIRE_CLUSTER_NODES must be a number from 1 to 16, not '$NODES'" ;;
    esac
    [ "$NODES" -ge 1 ] && [ "$NODES" -le 16 ] ||
        die "VOTEWIRE_CLUSTER_NODES must be a number from 1 to 16, not '$NODES'"
    case "$NGINX_WORKERS" in
        auto | [1-9] | 1[0-6]) ;;
        *) die "VOTEWIRE_CLUSTER_NGINX_WORKERS must be auto or a number from 1 to 16, not '$NGINX_WORKERS'" ;;
    esac
    ranges_meet "$NODE_PORT" "$NODES" "$ADMIN_PORT" "$NODES" &&
        die "$NODES nodes from port $NODE_PORT meet the admin ports from $ADMIN_PORT: set VOTEWIRE_CLUSTER_ADMIN_PORT"
    ranges_meet "$NODE_PORT" "$NODES" "$WORKER_PORT" "$WORKERS" &&
        die "$NODES nodes from port $NODE_PORT meet the worker ports from $WORKER_PORT: set VOTEWIRE_CLUSTER_WORKER_PORT"
    ranges_meet "$ADMIN_PORT" "$NODES" "$WORKER_PORT" "$WORKERS" &&
        die "the admin ports from $ADMIN_PORT meet the worker ports from $WORKER_PORT: set VOTEWIRE_CLUSTER_WORKER_PORT"
    return 0
}

current_db() { cat "$DIR/db" 2>/dev/null || true; }

running_db() {
    local part
    for part in $(mariadb_parts); do is_running "$part" && { echo mariadb; return 0; }; done
    for part in $(postgres_parts); do is_running "$part" && { echo postgres; return 0; }; done
    return 0
}

running_ingest() {
    if is_running worker-1 || is_running worker-2; then echo stream; elif is_running node-1; then ingest_mode; fi
    return 0
}

running_redis() {
    if is_running redis; then echo single; elif is_running redis-1; then echo cluster; fi
    return 0
}

cmd_up() {
    local db=${VOTEWIRE_CLUSTER_DB:-} redis=${VOTEWIRE_CLUSTER_REDIS:-} build=0 started=$SECONDS
    local ingest=${VOTEWIRE_CLUSTER_INGEST:-} demo=0
    while [ $# -gt 0 ]; do
        case "$1" in
            --db) db=${2:?--db needs mariadb or postgres}; shift 2 ;;
            --db=*) db=${1#--db=}; shift ;;
            --redis) redis=${2:?--redis needs single or cluster}; shift 2 ;;
            --redis=*) redis=${1#--redis=}; shift ;;
            --ingest) ingest=${2:?--ingest needs direct or stream}; shift 2 ;;
            --ingest=*) ingest=${1#--ingest=}; shift ;;
            --build) build=1; shift ;;
            --demo) demo=1; shift ;;
            *) die "up: unknown argument '$1' (see '$0 help')" ;;
        esac
    done
    # No --db: the database of the cluster already running (so `up` repairs it), else MariaDB.
    [ -n "$db" ] || db=$(running_db)
    case "${db:-mariadb}" in
        mariadb | mysql) db=mariadb ;;
        postgres | postgresql) db=postgres ;;
        *) die "up: --db must be mariadb or postgres, not '$db'" ;;
    esac
    local running
    running=$(running_db)
    if [ -n "$running" ] && [ "$running" != "$db" ]; then
        die "the cluster in $DIR is running with $running; run '$(self_cmd) down' before switching to $db"
    fi
    [ -n "$redis" ] || redis=$(running_redis)
    case "${redis:-single}" in
        single | cluster) redis=${redis:-single} ;;
        *) die "up: --redis must be single or cluster, not '$redis'" ;;
    esac
    running=$(running_redis)
    if [ -n "$running" ] && [ "$running" != "$redis" ]; then
        die "the cluster in $DIR runs a $running Redis; run '$(self_cmd) down' before switching to $redis"
    fi
    [ -n "$ingest" ] || ingest=$(running_ingest)
    case "${ingest:-direct}" in
        direct | stream) ingest=${ingest:-direct} ;;
        *) die "up: --ingest must be direct or stream, not '$ingest'" ;;
    esac
    running=$(running_ingest)
    if [ -n "$running" ] && [ "$running" != "$ingest" ]; then
        die "the cluster in $DIR takes votes with --ingest $running; run '$(self_cmd) down' before switching to $ingest"
    fi

    check_layout
    ensure_tools "$db"
    mkdir -p "$DIR/run" "$DIR/logs"
    # The marker lets `down --purge` check it deletes a cluster folder and nothing else.
    echo "votewire local cluster (cluster/cluster.sh)" >"$DIR/.votewire-cluster"
    echo "$db" >"$DIR/db"
    echo "$redis" >"$DIR/redis-mode"
    echo "$ingest" >"$DIR/ingest-mode"
    save_settings
    ensure_binary "$build"
    ensure_key

    say "starting redis ($redis), $db primary + $REPLICAS replicas"
    start_redis
    "start_$db"
    wait_redis
    [ "$db" = mariadb ] && setup_mariadb
    "wait_$db"

    say "starting $NODES votewire nodes"
    for i in $(seq 1 "$NODES"); do start_node "$i" "$db"; done
    for i in $(seq 1 "$NODES"); do wait_for "node-$i" "GET /readyz answered 200" node_ready "$i"; done
    if [ "$ingest" = stream ]; then
        say "starting $WORKERS ingest workers"
        for i in $(seq 1 "$WORKERS"); do start_worker "$i" "$db"; done
        for i in $(seq 1 "$WORKERS"); do wait_for "worker-$i" "GET /readyz answered 200" worker_ready "$i"; done
    fi

    say "starting nginx"
    start_nginx
    wait_for nginx "GET /nginx-healthz and /readyz through nginx answered 200" nginx_ready

    if [ "$demo" = 1 ]; then
        say "seeding demo polls (logs/seed.log)"
        start_seed
    fi

    say "cluster up in $((SECONDS - started))s ($db, --ingest $ingest)"
    print_urls "$db"
}

print_urls() {
    local db=$1 part
    echo "  web + API   http://127.0.0.1:$HTTP_PORT/   (WebSocket ws://127.0.0.1:$HTTP_PORT/ws)"
    for i in $(seq 1 "$NODES"); do echo "  node-$i      http://127.0.0.1:$(node_port "$i")/"; done
    for part in $(worker_parts); do echo "  $part    http://127.0.0.1:$(worker_port "${part#worker-}")/metrics"; done
    local redis_at
    redis_at=$(redis_url)
    echo "  redis       ${redis_at//:$REDIS_PASSWORD@/:***@}   (password: VOTEWIRE_CLUSTER_REDIS_PASSWORD)"
    local url
    for part in $("${db}_parts"); do
        url=$("${db}_url" "$part")
        printf '  %-19s %s\n' "$part" "${url/:$DB_PASSWORD@/:***@}"
    done
    echo "  folder      $DIR"
    echo "  status: $(self_cmd) status   logs: $(self_cmd) logs [part]   stop: $(self_cmd) down"
}

part_health() {
    local part=$1
    case "$part" in
        redis | redis-*) redis_ready "$part" ;;
        mariadb-primary) mariadb_tcp "$part" -e 'SELECT 1' ;;
        mariadb-replica-*) mariadb_replica_ok "$part" ;;
        postgres-primary) psql_at "$part" -d postgres -c 'SELECT 1' ;;
        postgres-replica-*) postgres_replica_ok "$part" ;;
        node-*) node_ready "${part#node-}" ;;
        worker-*) worker_ready "${part#worker-}" ;;
        nginx) nginx_ready ;;
        seed) true ;;
    esac
}

part_port() {
    case "$1" in
        redis | redis-*) redis_port "$1" ;;
        mariadb-*) mariadb_port "$1" ;;
        postgres-*) postgres_port "$1" ;;
        node-*) node_port "${1#node-}" ;;
        worker-*) worker_port "${1#worker-}" ;;
        nginx) echo "$HTTP_PORT" ;;
        seed) echo - ;;
    esac
}

cmd_status() {
    local db part pid bad=0
    db=$(running_db)
    db=${db:-$(current_db)}
    echo "cluster folder $DIR (database: ${db:-none})"
    printf '%-20s %-6s %-8s %s\n' PART PORT PID HEALTH
    for part in $(all_parts); do
        case "$part" in
            mariadb-*) [ "$db" = mariadb ] || continue ;;
            postgres-*) [ "$db" = postgres ] || continue ;;
        esac
        if pid=$(part_pid "$part"); then
            if part_health "$part" >/dev/null 2>&1; then
                printf '%-20s %-6s %-8s %s\n' "$part" "$(part_port "$part")" "$pid" ok
            else
                printf '%-20s %-6s %-8s %s\n' "$part" "$(part_port "$part")" "$pid" "NOT READY"
                bad=1
            fi
        else
            printf '%-20s %-6s %-8s %s\n' "$part" "$(part_port "$part")" - stopped
            bad=1
        fi
    done
    return "$bad"
}

cmd_logs() {
    local pattern='' follow=0 lines=${LINES_SHOWN:-40} files=() log
    for arg in "$@"; do
        case "$arg" in
            -f | --follow) follow=1 ;;
            *) pattern=$arg ;;
        esac
    done
    [ -d "$DIR/logs" ] || die "no logs in $DIR/logs: the cluster was never started there"
    for log in "$DIR"/logs/*.log; do
        [ -e "$log" ] || continue
        case "$(basename "$log" .log)" in "$pattern"*) files+=("$log") ;; esac
    done
    [ ${#files[@]} -gt 0 ] || die "no log matches '$pattern'; parts: $(all_parts | tr '\n' ' ')"
    if [ "$follow" = 1 ]; then
        exec tail -n "$lines" -F "${files[@]}"
    fi
    tail -n "$lines" "${files[@]}"
}

cmd_down() {
    local purge=0 part
    [ "${1:-}" = --purge ] && purge=1
    [ -d "$DIR" ] || {
        echo "nothing to stop: $DIR does not exist"
        return 0
    }
    # Front to back: no new traffic, then the nodes drain (1001 to their sockets), then the
    # services they use, all at once. PostgreSQL gets SIGINT, its "fast" shutdown (SIGTERM
    # would wait for every client to leave).
    local nodes=()
    for i in $(seq 1 "$NODES"); do nodes+=("node-$i"); done
    # shellcheck disable=SC2046 # part names are single words
    stop_parts TERM 10 $(demo_parts) nginx
    rm -f "$DIR/demo"
    # shellcheck disable=SC2046 # part names are single words
    stop_parts TERM $((DRAIN_SECS + 10)) "${nodes[@]}" $(worker_parts)
    # shellcheck disable=SC2046 # part names are single words
    stop_parts TERM 30 $(redis_parts) $(mariadb_parts)
    # shellcheck disable=SC2046
    stop_parts INT 30 $(postgres_parts)
    if [ "$purge" = 1 ]; then
        [ -f "$DIR/.votewire-cluster" ] || die "not deleting $DIR: it has no .votewire-cluster marker"
        echo "deleting $DIR"
        rm -rf "$DIR"
    fi
    echo "cluster down"
}

cmd_check() {
    local tmp nginx rc=0
    nginx=$(command -v nginx || echo /usr/sbin/nginx)
    tmp=$(mktemp -d)
    mkdir -p "$tmp/temp" "$tmp/logs" "$tmp/run" "$tmp/nginx/temp"
    # The local render, pointed at a scratch folder so the check touches nothing real.
    (DIR=$tmp && render_nginx local) >"$tmp/local.conf"
    "$nginx" -t -q -p "$tmp/" -c "$tmp/local.conf" -e "$tmp/error.log" && echo "nginx -t: local render ok" || rc=1
    # The compose render names hosts node1..3, unknown here: check it with them resolved
    # to 127.0.0.1 and its paths moved into the scratch folder.
    render_nginx compose |
        sed -e "s|server node\([0-9]\):8080|server 127.0.0.1:1808\1|" \
            -e "s|server node\([0-9]\):9090|server 127.0.0.1:1809\1|" \
            -e "s|/var/run/nginx.pid|$tmp/compose.pid|" -e "s|/var/log/nginx/error.log|$tmp/error.log|" \
            -e "s|/var/cache/nginx|$tmp/temp|" -e "s|^user nginx;|# user|" >"$tmp/compose.conf"
    "$nginx" -t -q -p "$tmp/" -c "$tmp/compose.conf" -e "$tmp/error.log" && echo "nginx -t: compose render ok" || rc=1
    if render_nginx compose | cmp -s - "$REPO/nginx/nginx.conf"; then
        echo "nginx/nginx.conf is up to date with the template"
    else
        warn "nginx/nginx.conf differs from the template: run '$0 nginx-conf compose > nginx/nginx.conf'"
        rc=1
    fi
    rm -rf "$tmp"
    return "$rc"
}
