# shellcheck shell=bash
# Sourced by cluster.sh: the settings file, messages, and running the parts. Each part is a
# process started in the background with its PID in run/PART.pid and its output in
# logs/PART.log; these helpers start it, find it again, wait for it, and stop it.

# `up` saves the ports it used; the other commands read them back, so `status` and `down`
# need only VOTEWIRE_CLUSTER_DIR to find a cluster started with other ports.
save_settings() {
    cat >"$DIR/settings" <<EOF
HTTP_PORT=$HTTP_PORT
NODES=$NODES
NODE_PORT=$NODE_PORT
ADMIN_PORT=$ADMIN_PORT
WORKER_PORT=$WORKER_PORT
REDIS_PORT=$REDIS_PORT
MARIADB_PORT=$MARIADB_PORT
POSTGRES_PORT=$POSTGRES_PORT
DRAIN_SECS=$DRAIN_SECS
REDIS_PASSWORD=$REDIS_PASSWORD
DB_PASSWORD=$DB_PASSWORD
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

say() { echo "==> $*"; }
warn() { echo "$NAME: $*" >&2; }
die() {
    warn "$*"
    exit 1
}

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
