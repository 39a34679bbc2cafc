#!/usr/bin/env bash
# Refreshes the committed screenshots in web/screenshots/ (the README shows them): the
# e2e screenshot scenario alone, against a fresh node, written there, then shrunk (3x)
# with pngquant when it is installed. Takes what scripts/e2e.sh takes (VOTEWIRE_BIN, ...);
# the last line is "e2e: N passed, N failed, N skipped" (the other e2e tests are skipped).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export VOTEWIRE_E2E_OUT="$PWD/screenshots"
shrink=1
if ! command -v pngquant >/dev/null 2>&1; then
    shrink=0
    echo "==> pngquant is missing: the screenshots stay unshrunk (apt-get install -y pngquant)"
fi

status=0
bash scripts/e2e.sh e2e/single-node.e2e.ts --testNamePattern '^screenshots ' "$@" || status=$?

# Silent, so the summary line stays last.
if [ "$shrink" -eq 1 ]; then
    pngquant --force --skip-if-larger --ext .png --quality 65-90 --speed 3 screenshots/*.png 2>/dev/null || true
fi
exit "$status"
