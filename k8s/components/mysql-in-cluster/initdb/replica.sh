#!/bin/bash
# MySQL 8.0 replica (mysql.yaml): point it at the primary with GTID auto-positioning. Run
# once by the image's entrypoint on the first start (empty data volume); the pod's init
# container waited for the primary to answer over TCP, which it does only once its own
# setup (and so the repl account) is done.
#
# The replica is given no MYSQL_DATABASE/MYSQL_USER of its own: the database, the votewire
# user and the repl account all arrive by replaying the primary's binary log from its start.
# RESET MASTER clears any GTID this server wrote about itself during its setup, so the only
# history it has is the primary's. The same as cluster/compose/mysql/replica for compose.
set -euo pipefail
: "${MYSQL_PRIMARY_HOST:?set to the address of the primary}"
MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mysql --protocol=socket -uroot <<EOSQL
RESET MASTER;
CHANGE REPLICATION SOURCE TO
    SOURCE_HOST='${MYSQL_PRIMARY_HOST}', SOURCE_PORT=3306,
    SOURCE_USER='repl', SOURCE_PASSWORD='${MYSQL_REPLICATION_PASSWORD}',
    SOURCE_AUTO_POSITION=1, GET_SOURCE_PUBLIC_KEY=1, SOURCE_CONNECT_RETRY=5;
START REPLICA;
EOSQL
