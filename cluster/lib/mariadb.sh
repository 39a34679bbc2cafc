# shellcheck shell=bash
# Sourced by cluster.sh: MariaDB, a primary + 2 replicas with GTID replication. One
# mariadb-install-db copied to each server, a config file per server, then the database,
# the users and the replication set up over the servers' own sockets.

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
    # Portable SQL (MariaDB 10.11 and MySQL 8.0): the nodes' database and their account
    # (with a password), root over TCP for the tests' checks, and the replication account. Binlogged, so the replicas get them too.
    mariadb_sql mariadb-primary <<EOF || fail_part mariadb-primary "setting up the database and users failed"
CREATE DATABASE IF NOT EXISTS votewire CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS 'votewire'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON votewire.* TO 'votewire'@'127.0.0.1';
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

mariadb_url() { echo "mysql://votewire:$DB_PASSWORD@127.0.0.1:$(mariadb_port "$1")/votewire"; }
