#!/bin/bash
# PostgreSQL 15 primary (compose.postgres.yaml): the role the replicas stream with, and the
# pg_hba line that lets it connect for replication. Run once by the image's entrypoint on
# the first start. pg_basebackup copies pg_hba.conf, so the replicas get the line too.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<EOSQL
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '${POSTGRES_REPLICATION_PASSWORD}';
EOSQL
echo "host replication replicator all scram-sha-256" >>"$PGDATA/pg_hba.conf"
