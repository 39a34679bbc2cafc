#!/usr/bin/env bash
# The end-to-end tests: builds what they run against (the server binary, web/dist),
# makes sure Chromium is there (CI starts from a fresh machine, as root), then runs them.
# What they write (screenshots) goes to $VOTEWIRE_E2E_OUT, else to a fresh folder under the
# system temp dir, never the work tree; the run says where (see e2e/output.ts).
# `npm run screenshots` (scripts/screenshots.sh) refreshes the committed web/screenshots/.
# Exits non-zero on any failure; the last line is "e2e: N passed, N failed".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "e2e: Chromium is missing; install it with: sudo apt-get install -y chromium" >&2
        exit 1
    fi
    echo "==> apt-get install chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

if [ -z "${VOTEWIRE_BIN:-}" ]; then
    echo "==> cargo build -p votewire-server"
    (cd .. && cargo build --locked -p votewire-server)
fi

echo "==> vite build"
npx --no-install vite build --logLevel warn

echo "==> e2e (Chromium against a real node)"
exec npx --no-install vitest run --config vitest.e2e.config.ts "$@"
