# shellcheck shell=bash
# Sourced by cluster.sh: with `up --demo`, `votewire seed` creates a few demo polls through
# nginx and votes on them, a few votes a second, until `down` (logs/seed.log names the
# polls and their join codes).

demo_parts() {
    [ -f "$DIR/demo" ] && echo seed
    return 0
}

start_seed() {
    echo on >"$DIR/demo"
    if is_running seed; then
        echo "seed already running"
        return 0
    fi
    # The seed keeps nothing in --data-dir: the folder in its command line is how
    # part_pid tells its PID from a reused one (see common.sh).
    start_bg seed "" "$BIN" seed --url "http://127.0.0.1:$HTTP_PORT" --duration-secs 0 \
        --data-dir "$DIR/seed"
}
