# shellcheck shell=bash
# Sourced by cluster.sh: PostgreSQL, a primary (initdb) + 2 streaming replicas made with
# pg_basebackup, each with its own replication slot.

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
    psql_at postgres-primary -d postgres -v password="$DB_PASSWORD" >/dev/null <<'EOF' || fail_part postgres-primary "setting the nodes' password failed"
ALTER ROLE postgres PASSWORD :'password';
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

# With the password the role is given (trust on 127.0.0.1 does not ask for it; it is
# there so a leak of it into a log would show).
postgres_url() { echo "postgres://postgres:$DB_PASSWORD@127.0.0.1:$(postgres_port "$1")/votewire"; }
