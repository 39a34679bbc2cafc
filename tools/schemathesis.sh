#!/usr/bin/env bash
# schemathesis against a real node: one node (SQLite in a temporary folder, a port of
# its own), its /api/openapi.json, examples generated from the document (valid and
# invalid), bounded in count and in time. Fails on a 5xx, a status the document does
# not list, a body or content type that breaks the document. Writes nothing in the tree.
#
#   tools/schemathesis.sh        VOTEWIRE_BIN (target/debug/votewire), VOTEWIRE_SCHEMATHESIS_SEED
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=$(realpath "${VOTEWIRE_BIN:-target/debug/votewire}")
work=$(mktemp -d)
node=
stop() {
    if [ -n "$node" ]; then
        kill "$node" 2>/dev/null || true
        wait "$node" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap stop EXIT

# The node's launch line, the one place to change it: exempt from the abuse limits, so
# the examples are judged, not throttled.
"$bin" serve --listen 127.0.0.1:0 --data-dir "$work/data" --node-id schemathesis \
    --web-dir "$work/no-web" --rate-limit-exempt 127.0.0.0/8 2>"$work/node.log" &
node=$!

url=
for _ in $(seq 100); do
    url=$(sed -n 's/.*serving on \(http:[^ ]*\).*/\1/p' "$work/node.log")
    [ -n "$url" ] && break
    kill -0 "$node" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$url" ]; then
    echo "schemathesis.sh: the node did not start:" >&2
    cat "$work/node.log" >&2
    exit 1
fi

# From the temporary folder: hypothesis keeps its database in the working directory.
status=0
(cd "$work" && timeout 180 schemathesis run "$url/api/openapi.json" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples 60 --workers 1 --seed "${VOTEWIRE_SCHEMATHESIS_SEED:-20261201}" \
    --suppress-health-check all --warnings off) || status=$?
if [ "$status" -ne 0 ]; then
    echo "schemathesis.sh: failed ($status); the node's log:" >&2
    tail -n 50 "$work/node.log" >&2
fi
exit "$status"
