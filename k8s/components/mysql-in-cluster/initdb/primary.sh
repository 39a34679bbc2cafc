#!/bin/bash
# MySQL 8.0 primary (mysql.yaml): the account the replicas replicate with. Run once by the
# image's entrypoint on the first start (empty data volume), after it created the votewire
# database and user. Binlogged on purpose: the replicas replay it along with the database
# and user. The same as cluster/compose/mysql/primary for compose.
set -euo pipefail
MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mysql --protocol=socket -uroot <<EOSQL
CREATE USER IF NOT EXISTS 'repl'@'%' IDENTIFIED BY '${MYSQL_REPLICATION_PASSWORD}';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';
EOSQL
