#!/usr/bin/env bash
# Runs the Playwright suite against the debug build, on fresh databases of its own, with
# Debian's Chromium. Playwright starts and stops the servers (end2end/playwright.config.ts):
# one for the accounts and shell specs, one with a bootstrapped admin that deploys a fixture
# repository (served here over git's dumb HTTP protocol) through the project's nginx.
set -euo pipefail
cd "$(dirname "$0")/.."
set -a; . ./.env; set +a
. scripts/lib.sh

[ -x target/debug/slipway ] || { echo "e2e: target/debug/slipway is missing: run make build" >&2; exit 1; }
# What an earlier run that stopped half way left behind: its containers, images and nginx
# sites (the database that knew them is about to be recreated).
sites=${NGINX_SITES_DIR:-${DATA_DIR:-.data}/nginx/sites}
case $sites in /*) ;; *) sites=$PWD/$sites ;; esac
old_db=${DATABASE_URL%/*}/slipway_e2e_deploy
if old_instance=$(psql -qtAX "$old_db" -c "SELECT instance_id FROM instance" 2>/dev/null) && [ -n "$old_instance" ]; then
  for id in $(psql -qtAX "$old_db" -c "SELECT id FROM deployments" 2>/dev/null); do
    rm -f "$sites/slipway-$id.conf"
  done
  docker ps -aq --filter "label=slipway.instance=$old_instance" | xargs -r docker rm -f >/dev/null
  docker images -q --filter "label=slipway.instance=$old_instance" | xargs -r docker rmi -f >/dev/null 2>&1 || true
fi
pg_recreate_db slipway_e2e
pg_recreate_db slipway_e2e_deploy
pg_recreate_db slipway_e2e_oauth

export E2E_DATABASE_URL=${DATABASE_URL%/*}/slipway_e2e
export E2E_DEPLOY_DATABASE_URL=${DATABASE_URL%/*}/slipway_e2e_deploy
export E2E_OAUTH_DATABASE_URL=${DATABASE_URL%/*}/slipway_e2e_oauth
export E2E_ADDR=${E2E_ADDR:-127.0.0.1:8100}
export E2E_DEPLOY_ADDR=${E2E_DEPLOY_ADDR:-127.0.0.1:8101}
export E2E_OAUTH_ADDR=${E2E_OAUTH_ADDR:-127.0.0.1:8103}
export E2E_OAUTH_PORT=${E2E_OAUTH_PORT:-8104}
export E2E_DATA_DIR=$PWD/.data/e2e
export E2E_DEPLOY_DATA_DIR=$PWD/.data/e2e-deploy
export E2E_OAUTH_DATA_DIR=$PWD/.data/e2e-oauth
export E2E_NGINX_CONF=$(scripts/services.sh nginx-conf)
# The sites directory the project's nginx includes (as scripts/services.sh computes it).
export E2E_NGINX_SITES_DIR=$sites
rm -rf "$E2E_DATA_DIR" "$E2E_DEPLOY_DATA_DIR" "$E2E_OAUTH_DATA_DIR"
mkdir -p "$E2E_DATA_DIR" "$E2E_DEPLOY_DATA_DIR" "$E2E_OAUTH_DATA_DIR"

# The fixture app's base image: busybox, imported (no registry here).
export E2E_BASE_IMAGE=slipway-e2e/busybox:1
if ! docker image inspect "$E2E_BASE_IMAGE" >/dev/null 2>&1; then
  rootfs=$E2E_DEPLOY_DATA_DIR/rootfs; mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/www"
  cp /bin/busybox "$rootfs/bin/"
  for applet in sh httpd echo cat mkdir sleep printf env; do ln -sf busybox "$rootfs/bin/$applet"; done
  tar -C "$rootfs" -c . | docker import - "$E2E_BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
fi

# The fixture repository: a build that writes its output over a few seconds, and an app
# that greets with $GREETING and ticks once a second.
repo=$E2E_DEPLOY_DATA_DIR/src
mkdir -p "$repo" && git -C "$repo" init -q -b main
# A new nonce each run, so the build really runs instead of coming from Docker's cache.
date +%s%N > "$repo/nonce"
cat > "$repo/Dockerfile" <<DOCKERFILE
FROM $E2E_BASE_IMAGE
COPY nonce /nonce
RUN for step in 1 2 3 4 5 6; do echo "build step \$step of 6"; sleep 1; done
RUN mkdir -p /www && echo '<h1>e2e app</h1>' > /www/index.html
COPY run.sh /run.sh
EXPOSE 8080
CMD ["/bin/sh", "/run.sh"]
DOCKERFILE
cat > "$repo/run.sh" <<'RUN'
# The value itself is masked in logs, as every variable's is; its length is not.
echo "greeting of ${#GREETING} letters: $GREETING"
(i=0; while true; do printf 'tick %s \033[32mok\033[0m\n' "$i"; i=$((i+1)); sleep 1; done) &
exec /bin/httpd -f -p "${PORT:-8080}" -h /www
RUN
git -C "$repo" add -A
git -C "$repo" -c user.name=e2e -c user.email=e2e@example.com commit -qm "The e2e fixture app"
git clone -q --bare "$repo" "$E2E_DEPLOY_DATA_DIR/git/app.git"
git -C "$E2E_DEPLOY_DATA_DIR/git/app.git" update-server-info
export E2E_GIT_PORT=${E2E_GIT_PORT:-8102}
busybox httpd -f -p "127.0.0.1:$E2E_GIT_PORT" -h "$E2E_DEPLOY_DATA_DIR/git" &
git_pid=$!
trap 'kill $git_pid 2>/dev/null || true' EXIT
mkdir -p docs/screenshots
npx playwright test --config end2end/playwright.config.ts "$@"
