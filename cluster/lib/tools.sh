# shellcheck shell=bash
# Sourced by cluster.sh: what `up` needs before starting anything. The packages (installed
# when missing if we are root, on Debian, else named), the votewire binary, and the signing
# key every node shares.

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

# The votewire binary and the shared signing key.

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
