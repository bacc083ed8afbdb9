#!/usr/bin/env bash
# Runs the Playwright suite against the debug build, on a fresh database of its own, with
# Debian's Chromium. Playwright starts and stops the server (end2end/playwright.config.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
set -a; . ./.env; set +a
. scripts/lib.sh

[ -x target/debug/slipway ] || { echo "e2e: target/debug/slipway is missing: run make build" >&2; exit 1; }
e2e_db=slipway_e2e
pg_recreate_db "$e2e_db"

export E2E_DATABASE_URL=${DATABASE_URL%/*}/$e2e_db
export E2E_ADDR=${E2E_ADDR:-127.0.0.1:8100}
export E2E_DATA_DIR=$PWD/.data/e2e
rm -rf "$E2E_DATA_DIR"; mkdir -p "$E2E_DATA_DIR"
exec npx playwright test --config end2end/playwright.config.ts "$@"
