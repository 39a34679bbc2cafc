#!/bin/bash
# Entry point of a PostgreSQL 15 streaming replica (compose.postgres.yaml). On the first
# start (empty data volume) it clones the primary with pg_basebackup: -R writes
# primary_conninfo and standby.signal, -C -S a replication slot so the primary keeps the WAL
# a stopped replica still needs. Then the image's own entrypoint runs postgres as usual.
# Runs as the postgres user (compose sets `user: postgres`).
set -euo pipefail
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_PRIMARY_HOST:=db}"
: "${REPLICA_SLOT:?REPLICA_SLOT must name the slot of this replica}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    # compose waits for the primary to be healthy; this bound covers a manual start.
    deadline=$((SECONDS + 120))
    until pg_isready -q -h "$POSTGRES_PRIMARY_HOST" -p 5432; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "replica: primary $POSTGRES_PRIMARY_HOST:5432 not reachable after 120 s" >&2
            exit 1
        fi
        sleep 1
    done
    # A slot left by an earlier replica whose volume was deleted would make -C fail.
    PGPASSWORD="$POSTGRES_PASSWORD" psql -q -h "$POSTGRES_PRIMARY_HOST" -U "$POSTGRES_USER" -d postgres \
        -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$REPLICA_SLOT' AND NOT active" >/dev/null
    echo "replica: cloning $POSTGRES_PRIMARY_HOST into $PGDATA (slot $REPLICA_SLOT)"
    PGPASSWORD="$POSTGRES_REPLICATION_PASSWORD" pg_basebackup -h "$POSTGRES_PRIMARY_HOST" -p 5432 \
        -U replicator -D "$PGDATA" -R -X stream -C -S "$REPLICA_SLOT" --checkpoint=fast
    chmod 0700 "$PGDATA"
fi
exec docker-entrypoint.sh "$@"
