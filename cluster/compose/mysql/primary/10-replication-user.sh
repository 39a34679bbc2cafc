#!/bin/bash
# MySQL 8.0 primary (compose.yaml): the account the replicas replicate with. Run once by the
# image's entrypoint on the first start, after it created the votewire database and user.
# Binlogged on purpose: the replicas replay it along with the database and user.
set -euo pipefail
MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mysql --protocol=socket -uroot <<EOSQL
CREATE USER IF NOT EXISTS 'repl'@'%' IDENTIFIED BY '${MYSQL_REPLICATION_PASSWORD}';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';
EOSQL
