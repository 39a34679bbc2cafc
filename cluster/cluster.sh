#!/usr/bin/env bash
# A whole local votewire cluster without Docker, from Debian's packages:
#   Redis (pub/sub fan-out), MariaDB primary + 2 GTID replicas (default) or PostgreSQL
#   primary + 2 streaming replicas, 3 votewire nodes, and nginx in front of them.
#
#   cluster/cluster.sh up [--db mariadb|postgres] [--redis single|cluster]
#                         [--ingest direct|stream] [--demo] [--build]
#                                                start it all, or repair what stopped
#                                                (--ingest stream: nodes answer 202 and
#                                                two workers commit the votes; --demo:
#                                                `votewire seed` votes on demo polls)
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
#   VOTEWIRE_CLUSTER_ADMIN_PORT   first node's --admin-listen (/metrics, /api/cluster);
#                                 the others follow              (node port + 10)
#   VOTEWIRE_CLUSTER_WORKER_PORT  first worker (--ingest stream); the other follows
#                                                                 (node port + 20)
#   VOTEWIRE_CLUSTER_REDIS_PORT   Redis; a Redis Cluster's six servers take it and the
#                                 five ports after it             (16379)
#   VOTEWIRE_CLUSTER_MARIADB_PORT MariaDB primary; replicas +1, +2 (13306)
#   VOTEWIRE_CLUSTER_POSTGRES_PORT PostgreSQL primary; replicas +1, +2 (15432)
#   VOTEWIRE_CLUSTER_DB           mariadb or postgres when --db is not given
#                                 (default: the running cluster's, else mariadb)
#   VOTEWIRE_CLUSTER_REDIS        single or cluster when --redis is not given (the
#                                 running cluster's, else single): one Redis, or a Redis
#                                 Cluster of three masters with a replica each
#   VOTEWIRE_CLUSTER_INGEST       direct or stream when --ingest is not given (the
#                                 running cluster's, else direct)
#   VOTEWIRE_CLUSTER_TIMEOUT      seconds each part may take to become ready (60)
#   VOTEWIRE_CLUSTER_NODES        how many votewire nodes (3; 1 to 16): the scale check
#                                 runs 12. Their ports must not meet the admin or worker
#                                 ports: with more than 10, set VOTEWIRE_CLUSTER_ADMIN_PORT
#   VOTEWIRE_CLUSTER_NGINX_WORKERS nginx's worker_processes (auto: one per core); each
#                                 worker holds at most the descriptor limit (2 per
#                                 socket), so 20,000 sockets under a limit of 20,000
#                                 need 3 or more
#   VOTEWIRE_CLUSTER_NODE_ARGS    extra arguments for every node, e.g. "--tick-ms 20"
#   VOTEWIRE_CLUSTER_WORKER_ARGS  extra arguments for every worker
#   VOTEWIRE_CLUSTER_REDIS_PASSWORD  Redis's requirepass        (votewire-redis-secret)
#   VOTEWIRE_CLUSTER_DB_PASSWORD  the nodes' database password    (votewire-db-secret)
#   VOTEWIRE_CLUSTER_DRAIN_SECS   the nodes' --drain-secs (3: `down` stays quick)
#   VOTEWIRE_BIN                  the votewire binary (target/release/votewire, built if missing)
#   VOTEWIRE_PG_BIN               PostgreSQL's bin folder (/usr/lib/postgresql/15/bin)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${VOTEWIRE_CLUSTER_DIR:-$REPO/.cluster}
HTTP_PORT=${VOTEWIRE_CLUSTER_HTTP_PORT:-8080}
NODE_PORT=${VOTEWIRE_CLUSTER_NODE_PORT:-18081}
ADMIN_PORT=${VOTEWIRE_CLUSTER_ADMIN_PORT:-$((NODE_PORT + 10))}
WORKER_PORT=${VOTEWIRE_CLUSTER_WORKER_PORT:-$((NODE_PORT + 20))}
REDIS_PORT=${VOTEWIRE_CLUSTER_REDIS_PORT:-16379}
MARIADB_PORT=${VOTEWIRE_CLUSTER_MARIADB_PORT:-13306}
POSTGRES_PORT=${VOTEWIRE_CLUSTER_POSTGRES_PORT:-15432}
TIMEOUT=${VOTEWIRE_CLUSTER_TIMEOUT:-60}
DRAIN_SECS=${VOTEWIRE_CLUSTER_DRAIN_SECS:-3}
BIN=${VOTEWIRE_BIN:-$REPO/target/release/votewire}
NODES=${VOTEWIRE_CLUSTER_NODES:-3}
NGINX_WORKERS=${VOTEWIRE_CLUSTER_NGINX_WORKERS:-auto}
REPLICAS=2
# Replication account on 127.0.0.1 only; the cluster is a local test bed, not a deployment.
REPL_USER=repl
REPL_PASSWORD=votewire-repl
# The nodes sign in to Redis and the database with passwords, as in a deployment, so the
# tests see whether one ever reaches a log line (build.sh and the fault checker grep the
# logs for these). They reach the nodes in the environment, never on a command line.
REDIS_PASSWORD=${VOTEWIRE_CLUSTER_REDIS_PASSWORD:-votewire-redis-secret}
DB_PASSWORD=${VOTEWIRE_CLUSTER_DB_PASSWORD:-votewire-db-secret}

NAME=cluster.sh

# The parts, one file each under lib/. Sourcing them only defines functions (and tools.sh's
# APT_UPDATED); the command below does the work.
#   common.sh    the settings file, messages; starting, finding, waiting for, stopping parts
#   tools.sh     packages, the votewire binary, the shared signing key
#   redis.sh, mariadb.sh, postgres.sh, nodes.sh, workers.sh, nginx.sh    one part each
#   commands.sh  up, status, logs, down, check
LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")/lib" && pwd)
# shellcheck source=SCRIPTDIR/lib/common.sh
. "$LIB/common.sh"
# shellcheck source=SCRIPTDIR/lib/tools.sh
. "$LIB/tools.sh"
# shellcheck source=SCRIPTDIR/lib/redis.sh
. "$LIB/redis.sh"
# shellcheck source=SCRIPTDIR/lib/mariadb.sh
. "$LIB/mariadb.sh"
# shellcheck source=SCRIPTDIR/lib/postgres.sh
. "$LIB/postgres.sh"
# shellcheck source=SCRIPTDIR/lib/nodes.sh
. "$LIB/nodes.sh"
# shellcheck source=SCRIPTDIR/lib/workers.sh
. "$LIB/workers.sh"
# shellcheck source=SCRIPTDIR/lib/demo.sh
. "$LIB/demo.sh"
# shellcheck source=SCRIPTDIR/lib/nginx.sh
. "$LIB/nginx.sh"
# shellcheck source=SCRIPTDIR/lib/commands.sh
. "$LIB/commands.sh"

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
