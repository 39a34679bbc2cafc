#!/usr/bin/env bash
# A whole local votewire cluster without Docker, from Debian's packages:
#   Redis (pub/sub fan-out), MariaDB primary + 2 GTID replicas (default) or PostgreSQL
#   primary + 2 streaming replicas, 3 votewire nodes, and nginx in front of them.
#
#   cluster/cluster.sh up [--db mariadb|postgres] [--build]   start it all, or repair what stopped
#   cluster/cluster.sh status                    each part: port, PID, health (exit 1 if one is down)
#   cluster/cluster.sh logs [PART] [-f]          the last lines of each log (PART: a name or prefix)
#   cluster/cluster.sh down [--purge]            stop every part by PID (--purge: delete the data)
#   cluster/cluster.sh nginx-conf [local|compose]  print the rendered nginx.conf
#   cluster/cluster.sh check                     nginx -t on both renders; nginx/nginx.conf up to date
#
# Everything lives under $VOTEWIRE_CLUSTER_DIR (default: .cluster in the repository): data,
# sockets, PID files (run/), logs (logs/), the shared signing key. Every process is started
# here on its own port and stopped by its recorded PID; the machine's own PostgreSQL (5432),
# MariaDB (3306) and Redis (6379) are never touched.
#
# Settings (environment):
#   VOTEWIRE_CLUSTER_DIR          folder for everything          (.cluster in the repository)
#   VOTEWIRE_CLUSTER_HTTP_PORT    nginx, the cluster's front door (8080)
#   VOTEWIRE_CLUSTER_NODE_PORT    first node; the others follow   (18081)
#   VOTEWIRE_CLUSTER_REDIS_PORT   Redis                           (16379)
#   VOTEWIRE_CLUSTER_MARIADB_PORT MariaDB primary; replicas +1, +2 (13306)
#   VOTEWIRE_CLUSTER_POSTGRES_PORT PostgreSQL primary; replicas +1, +2 (15432)
#   VOTEWIRE_CLUSTER_DB           mariadb or postgres when --db is not given
#                                 (default: the running cluster's, else mariadb)
#   VOTEWIRE_CLUSTER_TIMEOUT      seconds each part may take to become ready (60)
#   VOTEWIRE_CLUSTER_NODE_MODE    auto | cluster | sqlite (auto; see node_mode below)
#   VOTEWIRE_CLUSTER_NODE_ARGS    extra arguments for every node, e.g. "--tick-ms 20"
#   VOTEWIRE_CLUSTER_DRAIN_SECS   the nodes' --drain-secs (3: `down` stays quick)
#   VOTEWIRE_BIN                  the votewire binary (target/release/votewire, built if missing)
#   VOTEWIRE_PG_BIN               PostgreSQL's bin folder (/usr/lib/postgresql/15/bin)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${VOTEWIRE_CLUSTER_DIR:-$REPO/.cluster}
HTTP_PORT=${VOTEWIRE_CLUSTER_HTTP_PORT:-8080}
NODE_PORT=${VOTEWIRE_CLUSTER_NODE_PORT:-18081}
REDIS_PORT=${VOTEWIRE_CLUSTER_REDIS_PORT:-16379}
MARIADB_PORT=${VOTEWIRE_CLUSTER_MARIADB_PORT:-13306}
POSTGRES_PORT=${VOTEWIRE_CLUSTER_POSTGRES_PORT:-15432}
TIMEOUT=${VOTEWIRE_CLUSTER_TIMEOUT:-60}
DRAIN_SECS=${VOTEWIRE_CLUSTER_DRAIN_SECS:-3}
BIN=${VOTEWIRE_BIN:-$REPO/target/release/votewire}
NODES=3
REPLICAS=2
# Replication account on 127.0.0.1 only; the cluster is a local test bed, not a deployment.
REPL_USER=repl
REPL_PASSWORD=votewire-repl

NAME=cluster.sh

# `up` saves the ports it used; the other commands read them back, so `status` and `down`
# need only VOTEWIRE_CLUSTER_DIR to find a cluster started with other ports.
save_settings() {
    cat >"$DIR/settings" <<EOF
HTTP_PORT=$HTTP_PORT
NODE_PORT=$NODE_PORT
REDIS_PORT=$REDIS_PORT
MARIADB_PORT=$MARIADB_PORT
POSTGRES_PORT=$POSTGRES_PORT
DRAIN_SECS=$DRAIN_SECS
EOF
}
load_settings() {
    # shellcheck disable=SC1091 # written by save_settings
    [ -f "$DIR/settings" ] && . "$DIR/settings"
    return 0
}

# How to call this script again for the same cluster (for hints in messages).
self_cmd() {
    if [ -n "${VOTEWIRE_CLUSTER_DIR:-}" ]; then echo "VOTEWIRE_CLUSTER_DIR=$DIR $0"; else echo "$0"; fi
}

# ---------------------------------------------------------------------------------------
# Small helpers

say() { echo "==> $*"; }
warn() { echo "$NAME: $*" >&2; }
die() {
    warn "$*"
    exit 1
}

run_dir() { echo "$DIR/run"; }
log_file() { echo "$DIR/logs/$1.log"; }
pid_file() { echo "$DIR/run/$1.pid"; }

# The PID of a part if it is running and really ours: its command line names our folder,
# so a recycled PID (or one of the machine's own servers) is never signalled.
part_pid() {
    local file pid
    file=$(pid_file "$1")
    [ -f "$file" ] || return 1
    pid=$(cat "$file")
    [ -n "$pid" ] && alive "$pid" || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DIR" || return 1
    echo "$pid"
}
is_running() { part_pid "$1" >/dev/null; }

# Prints the end of a part's log to stderr (for errors).
log_tail() {
    local log
    log=$(log_file "$1")
    if [ -s "$log" ]; then
        echo "--- last lines of $log:" >&2
        tail -n "${2:-25}" "$log" >&2
        echo "---" >&2
    fi
}

fail_part() {
    local part=$1
    shift
    warn "$part: $*"
    log_tail "$part"
    die "up failed at '$part'. See '$(self_cmd) logs $part'; '$(self_cmd) down' stops what was started."
}

# Starts a part in the background, in its own session (so a Ctrl-C or a test harness
# killing our process group does not take the cluster with it), as `user` when one is
# given (we are root), and records its PID. setsid and setpriv exec in place, so $! is the
# server's own PID.
start_bg() {
    local part=$1 user=$2
    shift 2
    local log prefix=()
    log=$(log_file "$part")
    [ -n "$user" ] && prefix=(setpriv "--reuid=$user" "--regid=$user" --init-groups --)
    echo "---- $(date '+%F %T') starting $part: $*" >>"$log"
    setsid "${prefix[@]}" "$@" >>"$log" 2>&1 </dev/null &
    echo $! >"$(pid_file "$part")"
}

# Runs a command as a system account when we are root (MariaDB and PostgreSQL refuse to
# run as root), as ourselves otherwise.
as_user() {
    local user=$1
    shift
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"
    else
        "$@"
    fi
}

port_in_use() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# A part that is not running needs its port free: someone else's server there is an error,
# not something to stop.
claim_port() {
    local part=$1 port=$2
    if port_in_use "$port"; then
        ss -Hltnp "sport = :$port" >&2 || true
        die "$part: port $port is taken by another process (not one this script started). Free it, or pick other ports (see '$0 help')."
    fi
}

# Polls `check` (a function or command) until it succeeds, the part dies, or the deadline.
wait_for() {
    local part=$1 what=$2
    shift 2
    local deadline=$((SECONDS + TIMEOUT))
    until "$@" >/dev/null 2>&1; do
        if [ -f "$(pid_file "$part")" ] && ! is_running "$part"; then
            fail_part "$part" "the process exited while waiting for: $what"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            fail_part "$part" "not ready after ${TIMEOUT}s: $what"
        fi
        sleep 0.2
    done
}

# A process that exited but is not reaped yet (a zombie: our servers' parent is whatever
# adopted them, which may reap late) counts as gone.
alive() {
    local state
    kill -0 "$1" 2>/dev/null || return 1
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [ -n "$state" ] && [ "$state" != Z ]
}

# Stops parts by their recorded PIDs: the signal to all of them at once, then waits for
# each until `grace` seconds have passed, and kills what is left.
stop_parts() {
    local signal=$1 grace=$2
    shift 2
    local part pid pids=() names=()
    for part in "$@"; do
        if pid=$(part_pid "$part"); then
            echo "stopping $part (PID $pid)"
            kill "-$signal" "$pid" 2>/dev/null || true
            pids+=("$pid")
            names+=("$part")
        fi
        rm -f "$(pid_file "$part")"
    done
    local deadline=$((SECONDS + grace)) i
    for i in "${!pids[@]}"; do
        while alive "${pids[$i]}"; do
            if [ "$SECONDS" -ge "$deadline" ]; then
                warn "${names[$i]} (PID ${pids[$i]}) still running after ${grace}s: killing it"
                kill -KILL "${pids[$i]}" 2>/dev/null || true
                break
            fi
            sleep 0.1
        done
    done
}

# ---------------------------------------------------------------------------------------
# Tools: install what is missing when root (Debian), else say what to install.

pg_bin_dir() {
    if [ -n "${VOTEWIRE_PG_BIN:-}" ]; then
        echo "$VOTEWIRE_PG_BIN"
    elif [ -x /usr/lib/postgresql/15/bin/postgres ]; then
        echo /usr/lib/postgresql/15/bin
    else
        # Another major version works the same for this; take the newest installed.
        find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1
    fi
}

mysql_client() { command -v mariadb || command -v mysql; }

APT_UPDATED=
ensure_tools() {
    local db=$1 missing=() packages=()
    command -v curl >/dev/null || packages+=(curl)
    command -v ss >/dev/null || packages+=(iproute2)
    command -v setsid >/dev/null && command -v setpriv >/dev/null || packages+=(util-linux)
    command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || packages+=(nginx)
    command -v redis-server >/dev/null && command -v redis-cli >/dev/null || packages+=(redis-server)
    case "$db" in
        mariadb)
            command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || packages+=(mariadb-server)
            command -v mariadb-install-db >/dev/null || packages+=(mariadb-server)
            mysql_client >/dev/null || packages+=(mariadb-client)
            ;;
        postgres)
            local bin
            bin=$(pg_bin_dir)
            [ -n "$bin" ] && [ -x "$bin/postgres" ] && [ -x "$bin/pg_basebackup" ] || packages+=(postgresql)
            command -v psql >/dev/null || packages+=(postgresql-client)
            ;;
    esac
    [ ${#packages[@]} -eq 0 ] && return 0
    mapfile -t missing < <(printf '%s\n' "${packages[@]}" | sort -u)
    if [ "$(id -u)" != 0 ]; then
        die "missing packages: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}"
    fi
    command -v apt-get >/dev/null || die "missing packages: ${missing[*]} (and no apt-get to install them)"
    say "installing ${missing[*]}"
    if [ -z "$APT_UPDATED" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -q
        APT_UPDATED=1
    fi
    # --no-install-recommends: only the servers, not a desktop's worth of extras.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ---------------------------------------------------------------------------------------
# The votewire binary and the shared signing key

ensure_binary() {
    local build=$1
    if [ -n "${VOTEWIRE_BIN:-}" ]; then
        [ -x "$BIN" ] || die "VOTEWIRE_BIN=$BIN is not an executable file"
        return 0
    fi
    if [ "$build" = 1 ] || [ ! -x "$BIN" ]; then
        command -v cargo >/dev/null || die "$BIN is missing and cargo is not installed (https://rustup.rs)"
        say "cargo build --release -p votewire-server"
        (cd "$REPO" && cargo build --release --locked -p votewire-server) ||
            die "cargo build failed: no cluster without a binary"
    fi
}

# Every node signs voter and owner tokens with the same key, or a token issued by one node
# would be refused by the next. 32 random bytes as 64 hex characters, mode 0600.
ensure_key() {
    local key=$DIR/signing.key
    [ -s "$key" ] && return 0
    (
        umask 077
        od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$key.tmp"
        echo >>"$key.tmp"
    )
    mv "$key.tmp" "$key"
}

# MARKED SWITCH — the node's cluster flags (--redis, --replica, --database for MySQL and
# PostgreSQL) are being added. `auto` uses them when `votewire --help` lists --redis; until
# then each node runs alone on SQLite in its own data folder (no shared state, no cross-node
# fan-out) so nginx, the scripts and the databases can still be checked end to end.
# Force either way with VOTEWIRE_CLUSTER_NODE_MODE=cluster|sqlite.
node_mode() {
    case "${VOTEWIRE_CLUSTER_NODE_MODE:-auto}" in
        cluster | sqlite) echo "$VOTEWIRE_CLUSTER_NODE_MODE" ;;
        auto)
            if "$BIN" --help 2>/dev/null | grep -q -- '--redis'; then echo cluster; else echo sqlite; fi
            ;;
        *) die "VOTEWIRE_CLUSTER_NODE_MODE must be auto, cluster or sqlite" ;;
    esac
}
node_supports() { "$BIN" serve --help 2>/dev/null | grep -q -- "$1"; }

# ---------------------------------------------------------------------------------------
# Redis: pub/sub only, so no persistence (nothing on disk to slow start or stop).

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

# ---------------------------------------------------------------------------------------
# MariaDB: primary + 2 replicas with GTID replication.

mariadb_parts() { echo mariadb-primary mariadb-replica-1 mariadb-replica-2; }
mariadb_port() {
    case "$1" in
        mariadb-primary) echo "$MARIADB_PORT" ;;
        mariadb-replica-*) echo $((MARIADB_PORT + ${1##*-})) ;;
    esac
}
mariadb_socket() { echo "$DIR/mariadb/run/$1.sock"; }

# Admin SQL over the server's own socket as root (no password: local test bed).
mariadb_sql() {
    local part=$1
    shift
    "$(mysql_client)" --no-defaults --protocol=socket -S "$(mariadb_socket "$part")" -uroot -N -B "$@"
}
# The way the nodes connect: TCP, root@127.0.0.1.
mariadb_tcp() {
    local part=$1
    shift
    "$(mysql_client)" --no-defaults --protocol=tcp -h 127.0.0.1 -P "$(mariadb_port "$part")" -uroot -N -B "$@"
}

mariadb_config() {
    local part=$1 id=$2 data=$DIR/mariadb/$1
    # Settings kept to what MySQL 8 also understands, except the MariaDB GTID ones.
    cat >"$DIR/mariadb/$part.cnf" <<EOF
[mariadbd]
datadir=$data
port=$(mariadb_port "$part")
bind-address=127.0.0.1
socket=$(mariadb_socket "$part")
pid-file=$DIR/mariadb/run/$part.pid
skip-name-resolve
server-id=$id
log-bin=$part-bin
relay-log=$part-relay-bin
binlog-format=ROW
gtid-strict-mode=ON
log-slave-updates=ON
character-set-server=utf8mb4
collation-server=utf8mb4_unicode_ci
max-connections=1000
innodb-buffer-pool-size=128M
EOF
    if [ "$part" != mariadb-primary ]; then
        # Writes only through replication (root, which replicates, is exempt as an admin).
        echo "read-only=ON" >>"$DIR/mariadb/$part.cnf"
    fi
}

start_mariadb() {
    local part fresh=0 owner=''
    [ "$(id -u)" = 0 ] && owner=mysql
    mkdir -p "$DIR/mariadb/run"
    for part in $(mariadb_parts); do
        [ -d "$DIR/mariadb/$part/mysql" ] || fresh=1
    done
    if [ "$fresh" = 1 ]; then
        # One bootstrap (about 2 s) copied to every server that has no data yet, instead
        # of three. A fresh replica starts from an empty GTID position and replays the
        # primary's whole binary log, which begins right after this bootstrap.
        local template=$DIR/mariadb/template
        rm -rf "$template"
        say "mariadb-install-db"
        mariadb-install-db --no-defaults --datadir="$template" ${owner:+--user=$owner} \
            --auth-root-authentication-method=normal --skip-test-db \
            >"$(log_file mariadb-install)" 2>&1 ||
            fail_part mariadb-install "mariadb-install-db failed"
        for part in $(mariadb_parts); do
            [ -d "$DIR/mariadb/$part/mysql" ] && continue
            rm -rf "$DIR/mariadb/$part"
            cp -a "$template" "$DIR/mariadb/$part"
        done
        rm -rf "$template"
    fi
    local id=1
    for part in $(mariadb_parts); do
        mariadb_config "$part" "$id"
        id=$((id + 1))
    done
    # mariadbd runs as mysql when we are root: its data, socket and PID folder are mysql's.
    # (Its error log is its stderr, which start_bg sends to logs/PART.log.)
    [ -n "$owner" ] && chown -R "$owner:" "$DIR/mariadb"
    for part in $(mariadb_parts); do
        if is_running "$part"; then
            echo "$part already running"
            continue
        fi
        claim_port "$part" "$(mariadb_port "$part")"
        start_bg "$part" "$owner" /usr/sbin/mariadbd --defaults-file="$DIR/mariadb/$part.cnf"
    done
}

setup_mariadb() {
    local part
    for part in $(mariadb_parts); do
        wait_for "$part" "SELECT 1 over its socket" mariadb_sql "$part" -e 'SELECT 1'
    done
    # Portable SQL (MariaDB 10.11 and MySQL 8.0): the nodes' database, root over TCP for
    # the nodes, and the replication account. Binlogged, so the replicas get them too.
    mariadb_sql mariadb-primary <<EOF || fail_part mariadb-primary "setting up the database and users failed"
CREATE DATABASE IF NOT EXISTS votewire CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS '$REPL_USER'@'127.0.0.1' IDENTIFIED BY '$REPL_PASSWORD';
GRANT REPLICATION SLAVE ON *.* TO '$REPL_USER'@'127.0.0.1';
EOF
    for part in $(mariadb_parts); do
        [ "$part" = mariadb-primary ] && continue
        # Re-pointing is harmless: with MASTER_USE_GTID the position lives in gtid_slave_pos,
        # not in the CHANGE MASTER, so `up` twice just resumes where it was.
        mariadb_sql "$part" <<EOF || fail_part "$part" "CHANGE MASTER / START SLAVE failed"
STOP SLAVE;
CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$MARIADB_PORT,
    MASTER_USER='$REPL_USER', MASTER_PASSWORD='$REPL_PASSWORD',
    MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1;
START SLAVE;
EOF
    done
}

# Replicating for real: both threads running and caught up with the primary's GTID position
# as read just before. MASTER_GTID_WAIT (up to 1 s) rather than comparing the two positions
# for equality: under steady writes the primary has moved on by the time the replica is
# asked, so equality is rarely seen and `up` (e.g. bringing one node back) would wait for
# a lull in the votes or time out.
mariadb_replica_ok() {
    local part=$1 status primary_pos
    status=$(mariadb_sql "$part" --column-names -e 'SHOW SLAVE STATUS\G' 2>/dev/null) || return 1
    grep -q 'Slave_IO_Running: Yes' <<<"$status" || return 1
    grep -q 'Slave_SQL_Running: Yes' <<<"$status" || return 1
    primary_pos=$(mariadb_sql mariadb-primary -e 'SELECT @@gtid_binlog_pos') || return 1
    # GTID lists are digits, '-' and ',': safe inside the quotes.
    [[ "$primary_pos" =~ ^[0-9,-]*$ ]] || return 1
    [ "$(mariadb_sql "$part" -e "SELECT MASTER_GTID_WAIT('$primary_pos', 1)")" = 0 ]
}

wait_mariadb() {
    local part
    for part in $(mariadb_parts); do
        if [ "$part" != mariadb-primary ]; then
            wait_for "$part" "replicating from the primary (Slave_IO/SQL_Running, GTID caught up)" \
                mariadb_replica_ok "$part"
        fi
        wait_for "$part" "SELECT 1 over TCP as root@127.0.0.1, database votewire" \
            mariadb_tcp "$part" votewire -e 'SELECT 1'
    done
}

mariadb_url() { echo "mysql://root@127.0.0.1:$(mariadb_port "$1")/votewire"; }

# ---------------------------------------------------------------------------------------
# PostgreSQL: primary + 2 streaming replicas made with pg_basebackup.

postgres_parts() { echo postgres-primary postgres-replica-1 postgres-replica-2; }
postgres_port() {
    case "$1" in
        postgres-primary) echo "$POSTGRES_PORT" ;;
        postgres-replica-*) echo $((POSTGRES_PORT + ${1##*-})) ;;
    esac
}
psql_at() {
    local part=$1
    shift
    psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(postgres_port "$part")" -U postgres "$@"
}

start_postgres_server() {
    local part=$1 owner=$2 bin
    bin=$(pg_bin_dir)
    if is_running "$part"; then
        echo "$part already running"
        return 0
    fi
    claim_port "$part" "$(postgres_port "$part")"
    # Port, socket folder and name on the command line: the replicas' copied
    # postgresql.conf stays the primary's. cluster_name becomes the replica's
    # application_name in pg_stat_replication.
    start_bg "$part" "$owner" "$bin/postgres" -D "$DIR/postgres/$part" \
        -p "$(postgres_port "$part")" -k "$DIR/postgres/run" -c cluster_name="$part"
}

start_postgres() {
    local owner='' bin part
    [ "$(id -u)" = 0 ] && owner=postgres
    bin=$(pg_bin_dir)
    mkdir -p "$DIR/postgres/run"
    [ -n "$owner" ] && chown "$owner:" "$DIR/postgres" "$DIR/postgres/run"
    local primary=$DIR/postgres/postgres-primary
    if [ ! -s "$primary/PG_VERSION" ]; then
        say "initdb"
        rm -rf "$primary"
        # trust on 127.0.0.1 (and for replication): a local test bed; --no-sync: seconds saved.
        as_user "${owner:-$(id -un)}" "$bin/initdb" -D "$primary" -U postgres --auth=trust \
            -E UTF8 --locale=C.UTF-8 --no-sync >"$(log_file postgres-initdb)" 2>&1 ||
            fail_part postgres-initdb "initdb failed"
        cat >>"$primary/postgresql.conf" <<EOF

# votewire local cluster
listen_addresses = '127.0.0.1'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
hot_standby_feedback = on
max_connections = 300
shared_buffers = 128MB
EOF
    fi
    start_postgres_server postgres-primary "$owner"
    wait_for postgres-primary "SELECT 1 on 127.0.0.1:$POSTGRES_PORT" psql_at postgres-primary -d postgres -c 'SELECT 1'
    psql_at postgres-primary -d postgres >/dev/null <<'EOF' || fail_part postgres-primary "creating the database and the replication role failed"
SELECT 'CREATE DATABASE votewire' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'votewire')\gexec
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'replicator') THEN
        CREATE ROLE replicator WITH REPLICATION LOGIN;
    END IF;
END $$;
EOF
    for part in $(postgres_parts); do
        [ "$part" = postgres-primary ] && continue
        local data=$DIR/postgres/$part slot=${part//-/_}
        if [ ! -s "$data/PG_VERSION" ]; then
            say "pg_basebackup $part"
            rm -rf "$data"
            # A slot left by an earlier, deleted replica would make -C fail.
            psql_at postgres-primary -d postgres -c \
                "SELECT pg_drop_replication_slot('$slot') FROM pg_replication_slots WHERE slot_name = '$slot'" >/dev/null
            # -R writes primary_conninfo + standby.signal; -C -S: a slot, so the primary keeps
            # WAL a stopped replica still needs; fast checkpoint: no waiting for the next one.
            as_user "${owner:-$(id -un)}" "$bin/pg_basebackup" -h 127.0.0.1 -p "$POSTGRES_PORT" \
                -U replicator -D "$data" -R -X stream -C -S "$slot" --checkpoint=fast --no-sync \
                >>"$(log_file "$part")" 2>&1 || fail_part "$part" "pg_basebackup failed"
        fi
        start_postgres_server "$part" "$owner"
    done
}

postgres_replica_ok() {
    local part=$1
    [ "$(psql_at "$part" -d votewire -c 'SELECT pg_is_in_recovery()')" = t ] || return 1
    [ "$(psql_at postgres-primary -d postgres -c \
        "SELECT count(*) FROM pg_stat_replication WHERE application_name = '$part' AND state = 'streaming'")" = 1 ]
}

wait_postgres() {
    local part
    for part in $(postgres_parts); do
        [ "$part" = postgres-primary ] && continue
        wait_for "$part" "streaming from the primary (pg_stat_replication state = streaming)" \
            postgres_replica_ok "$part"
    done
}

postgres_url() { echo "postgres://postgres@127.0.0.1:$(postgres_port "$1")/votewire"; }

# ---------------------------------------------------------------------------------------
# votewire nodes

node_port() { echo $((NODE_PORT + $1 - 1)); }

start_node() {
    local i=$1 db=$2 mode=$3 part=node-$1
    if is_running "$part"; then
        echo "$part already running"
        return 0
    fi
    claim_port "$part" "$(node_port "$i")"
    mkdir -p "$DIR/nodes/$part"
    local args=(serve --listen "127.0.0.1:$(node_port "$i")" --node-id "$part"
        --key-file "$DIR/signing.key" --data-dir "$DIR/nodes/$part" --web-dir "$REPO/web/dist"
        --allowed-origin "http://127.0.0.1:$HTTP_PORT,http://localhost:$HTTP_PORT"
        --drain-secs "$DRAIN_SECS")
    if [ "$mode" = cluster ]; then
        local primary replica
        primary=${db}-primary
        args+=(--database "$("${db}_url" "$primary")")
        if node_supports --replica; then
            for replica in $("${db}_parts"); do
                [ "$replica" = "$primary" ] || args+=(--replica "$("${db}_url" "$replica")")
            done
        fi
        args+=(--redis "redis://127.0.0.1:$REDIS_PORT")
    fi
    # shellcheck disable=SC2206 # word splitting of the extra arguments is the point
    [ -n "${VOTEWIRE_CLUSTER_NODE_ARGS:-}" ] && args+=(${VOTEWIRE_CLUSTER_NODE_ARGS})
    start_bg "$part" "" "$BIN" "${args[@]}"
}

node_ready() { curl -fsS -m 2 "http://127.0.0.1:$(node_port "$1")/readyz"; }

# ---------------------------------------------------------------------------------------
# nginx

# Renders nginx/nginx.conf.template. `local`: this cluster's ports and folders;
# `compose`: the copy compose.yaml mounts as nginx/nginx.conf.
render_nginx() {
    local target=$1 conf servers='' i
    conf=$(<"$REPO/nginx/nginx.conf.template")
    if [ "$target" = compose ]; then
        for i in $(seq 1 "$NODES"); do
            servers+="        server node$i:8080 max_fails=2 fail_timeout=5s;"$'\n'
        done
        conf=${conf//@USER_LINE@/user nginx;}
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
        conf=${conf//@RLIMIT_NOFILE@/$nofile}
        conf=${conf//@WORKER_CONNECTIONS@/$((nofile - 512))}
        conf=${conf//@PID_FILE@/$DIR/nginx/nginx.pid}
        conf=${conf//@ERROR_LOG@/$(log_file nginx)}
        conf=${conf//@ACCESS_LOG@/access_log $(log_file nginx-access) votewire buffer=64k flush=2s;}
        conf=${conf//@TEMP_DIR@/$DIR/nginx/temp}
        conf=${conf//@LISTEN@/127.0.0.1:$HTTP_PORT}
    fi
    conf=${conf//@UPSTREAM_SERVERS@$'\n'/$servers}
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

# ---------------------------------------------------------------------------------------
# Commands

all_parts() {
    echo redis
    mariadb_parts
    postgres_parts
    for i in $(seq 1 "$NODES"); do echo "node-$i"; done
    echo nginx
}

current_db() { cat "$DIR/db" 2>/dev/null || true; }

running_db() {
    local part
    for part in $(mariadb_parts); do is_running "$part" && { echo mariadb; return 0; }; done
    for part in $(postgres_parts); do is_running "$part" && { echo postgres; return 0; }; done
    return 0
}

cmd_up() {
    local db=${VOTEWIRE_CLUSTER_DB:-} build=0 started=$SECONDS
    while [ $# -gt 0 ]; do
        case "$1" in
            --db) db=${2:?--db needs mariadb or postgres}; shift 2 ;;
            --db=*) db=${1#--db=}; shift ;;
            --build) build=1; shift ;;
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

    ensure_tools "$db"
    mkdir -p "$DIR/run" "$DIR/logs"
    # The marker lets `down --purge` check it deletes a cluster folder and nothing else.
    echo "votewire local cluster (cluster/cluster.sh)" >"$DIR/.votewire-cluster"
    echo "$db" >"$DIR/db"
    save_settings
    ensure_binary "$build"
    ensure_key
    local mode
    mode=$(node_mode)

    say "starting redis, $db primary + $REPLICAS replicas"
    start_redis
    "start_$db"
    wait_for redis "PING answered with PONG on 127.0.0.1:$REDIS_PORT" redis_ready
    [ "$db" = mariadb ] && setup_mariadb
    "wait_$db"

    say "starting $NODES votewire nodes ($mode mode)"
    [ "$mode" = sqlite ] && warn "nodes run on SQLite, one database each, without Redis: the binary has no --redis yet (VOTEWIRE_CLUSTER_NODE_MODE)"
    for i in $(seq 1 "$NODES"); do start_node "$i" "$db" "$mode"; done
    for i in $(seq 1 "$NODES"); do wait_for "node-$i" "GET /readyz answered 200" node_ready "$i"; done

    say "starting nginx"
    start_nginx
    wait_for nginx "GET /nginx-healthz and /readyz through nginx answered 200" nginx_ready

    echo "$mode" >"$DIR/mode"
    say "cluster up in $((SECONDS - started))s ($db, nodes in $mode mode)"
    print_urls "$db"
}

print_urls() {
    local db=$1 part
    echo "  web + API   http://127.0.0.1:$HTTP_PORT/   (WebSocket ws://127.0.0.1:$HTTP_PORT/ws)"
    for i in $(seq 1 "$NODES"); do echo "  node-$i      http://127.0.0.1:$(node_port "$i")/"; done
    echo "  redis       redis://127.0.0.1:$REDIS_PORT"
    for part in $("${db}_parts"); do printf '  %-19s %s\n' "$part" "$("${db}_url" "$part")"; done
    echo "  folder      $DIR"
    echo "  status: $(self_cmd) status   logs: $(self_cmd) logs [part]   stop: $(self_cmd) down"
}

part_health() {
    local part=$1
    case "$part" in
        redis) redis_ready ;;
        mariadb-primary) mariadb_tcp "$part" -e 'SELECT 1' ;;
        mariadb-replica-*) mariadb_replica_ok "$part" ;;
        postgres-primary) psql_at "$part" -d postgres -c 'SELECT 1' ;;
        postgres-replica-*) postgres_replica_ok "$part" ;;
        node-*) node_ready "${part#node-}" ;;
        nginx) nginx_ready ;;
    esac
}

part_port() {
    case "$1" in
        redis) echo "$REDIS_PORT" ;;
        mariadb-*) mariadb_port "$1" ;;
        postgres-*) postgres_port "$1" ;;
        node-*) node_port "${1#node-}" ;;
        nginx) echo "$HTTP_PORT" ;;
    esac
}

cmd_status() {
    local db part pid bad=0
    db=$(running_db)
    db=${db:-$(current_db)}
    echo "cluster folder $DIR (database: ${db:-none}; nodes: $(cat "$DIR/mode" 2>/dev/null || echo unknown) mode)"
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
    stop_parts TERM 10 nginx
    stop_parts TERM $((DRAIN_SECS + 10)) "${nodes[@]}"
    # shellcheck disable=SC2046 # part names are single words
    stop_parts TERM 30 redis $(mariadb_parts)
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

# The comment block at the top of this file, without its '#'.
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

command=${1:-help}
[ $# -gt 0 ] && shift
case "$command" in
    up) cmd_up "$@" ;;
    status) load_settings && cmd_status ;;
    logs) cmd_logs "$@" ;;
    down) load_settings && cmd_down "$@" ;;
    nginx-conf) render_nginx "${1:-local}" ;;
    check) cmd_check ;;
    help | -h | --help) usage ;;
    *)
        warn "unknown command '$command'"
        usage >&2
        exit 2
        ;;
esac
