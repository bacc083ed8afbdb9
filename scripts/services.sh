#!/usr/bin/env bash
# Starts (or stops, or reports) the services Slipway needs: PostgreSQL, Redis, nginx and the
# Docker engine. A service that already answers is used as it is; one this script starts keeps
# its data and logs under $SERVICES_DIR (default .data/services, git-ignored).
#
#   scripts/services.sh start | stop | status
#
# Reads DATABASE_URL, REDIS_URL, NGINX_LISTEN_PORT and NGINX_SITES_DIR from .env (see
# scripts/env.sh, which writes it).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# shellcheck source=/dev/null
set -a; [ -f .env ] && . ./.env; set +a

# Postgres runs as the `postgres` user and nginx workers as `nobody`: both must reach the data
# directory. A clone inside a private home (/root is 0700) cannot give them that, so its
# services keep their data under /var/tmp instead, one directory per clone.
if [ -z "${SERVICES_DIR:-}" ]; then
  SERVICES_DIR=$root/.data/services
  if [ "$(id -u)" -eq 0 ] && ! runuser -u nobody -- test -x "$root" 2>/dev/null; then
    SERVICES_DIR=/var/tmp/slipway-services/$(printf '%s' "$root" | sha256sum | cut -c1-12)
  fi
fi
services_dir=$SERVICES_DIR
mkdir -p "$services_dir"
log() { printf '  %-9s %s\n' "$1" "$2"; }
die() { printf 'services: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# ---------------------------------------------------------------------------------------------
# PostgreSQL: host, port, user, password and database come from DATABASE_URL.
db_url=${DATABASE_URL:?DATABASE_URL is not set: run scripts/env.sh first}
db_rest=${db_url#*://}
db_auth=${db_rest%%@*}
db_user=${db_auth%%:*}
db_pass=${db_auth#*:}
db_hostport=${db_rest#*@}; db_hostport=${db_hostport%%/*}
db_host=${db_hostport%%:*}
db_port=${db_hostport##*:}; [ "$db_port" = "$db_hostport" ] && db_port=5432
db_name=${db_rest##*/}; db_name=${db_name%%\?*}

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$pg_bin" ] || pg_bin=$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/pg_ctl)")
pg_dir=$services_dir/postgres
pg_sock=$services_dir/pg-socket
pg_log=$services_dir/pg-log
# initdb and postgres refuse to run as root: as root, run them as the `postgres` user.
pg_as() { if is_root; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_super() { if is_root; then echo postgres; else id -un; fi; }

pg_ready() { "$pg_bin/pg_isready" -q -h "$db_host" -p "$db_port" -t 2 >/dev/null 2>&1; }

pg_start() {
  if pg_ready; then log postgres "already running on $db_host:$db_port"; else
    [ -x "$pg_bin/initdb" ] || die "PostgreSQL is not installed (run scripts/setup.sh)"
    mkdir -p "$pg_sock" "$pg_log"
    if [ ! -f "$pg_dir/PG_VERSION" ]; then
      mkdir -p "$pg_dir"
      is_root && chown postgres:postgres "$pg_dir" "$pg_sock" "$pg_log"
      pg_as "$pg_bin/initdb" -D "$pg_dir" -U "$(pg_super)" --auth-local=peer \
        --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$pg_log/initdb.log" 2>&1 \
        || { cat "$pg_log/initdb.log" >&2; die "initdb failed"; }
    fi
    is_root && chown postgres:postgres "$pg_sock" "$pg_log"
    # Many test databases at once need more than the default 100 connections.
    pg_as "$pg_bin/pg_ctl" -D "$pg_dir" -l "$pg_log/postgres.log" -w -t 60 start \
      -o "-c listen_addresses=$db_host -c port=$db_port -c unix_socket_directories=$pg_sock -c max_connections=500 -c fsync=off -c full_page_writes=off" \
      >/dev/null || { tail -n 20 "$pg_log/postgres.log" >&2; die "PostgreSQL did not start"; }
    log postgres "started on $db_host:$db_port (data in $pg_dir)"
  fi
  pg_ensure_role
}

# Creates the app's role (with CREATEDB, which the tests need) and database, and sets the
# password .env names, so a regenerated .env keeps working with old data.
pg_ensure_role() {
  # SQL goes through stdin with psql variables (:'pass' is quoted by psql), so the password
  # never shows in `ps` and no value is pasted into SQL unquoted.
  local sql="SELECT format(CASE WHEN EXISTS (SELECT FROM pg_roles WHERE rolname = :'user')
      THEN 'ALTER ROLE %I LOGIN CREATEDB PASSWORD %L' ELSE 'CREATE ROLE %I LOGIN CREATEDB PASSWORD %L' END,
      :'user', :'pass') \\gexec"
  local as_super=()
  if [ -S "$pg_sock/.s.PGSQL.$db_port" ]; then
    as_super=(pg_as psql -h "$pg_sock" -p "$db_port" -U "$(pg_super)")
  elif is_root && runuser -u postgres -- psql -q -p "$db_port" -d postgres -c 'SELECT 1' >/dev/null 2>&1; then
    as_super=(runuser -u postgres -- psql -p "$db_port")
  fi
  if [ ${#as_super[@]} -gt 0 ]; then
    printf '%s\n' "$sql" | "${as_super[@]}" -q -d postgres -v ON_ERROR_STOP=1 \
      -v user="$db_user" -v pass="$db_pass" >/dev/null
  elif ! PGPASSWORD=$db_pass psql -q -h "$db_host" -p "$db_port" -U "$db_user" -d postgres -c 'SELECT 1' >/dev/null 2>&1; then
    die "PostgreSQL on $db_host:$db_port is not ours and role $db_user cannot log in: create it with CREATEDB and the password in .env"
  fi
  export PGPASSWORD=$db_pass
  if ! psql -qtA -h "$db_host" -p "$db_port" -U "$db_user" -d postgres -v name="$db_name" \
      <<<"SELECT 1 FROM pg_database WHERE datname = :'name'" | grep -q 1; then
    psql -q -h "$db_host" -p "$db_port" -U "$db_user" -d postgres -v name="$db_name" \
      <<<"SELECT format('CREATE DATABASE %I', :'name') \\gexec" >/dev/null
  fi
}

pg_stop() {
  if [ -f "$pg_dir/postmaster.pid" ]; then
    pg_as "$pg_bin/pg_ctl" -D "$pg_dir" -m fast -w stop >/dev/null && log postgres stopped
  else log postgres "not started by us"; fi
}

# ---------------------------------------------------------------------------------------------
# Redis: host and port from REDIS_URL.
redis_url=${REDIS_URL:-redis://127.0.0.1:6379/0}
redis_hostport=${redis_url#*://}; redis_hostport=${redis_hostport##*@}; redis_hostport=${redis_hostport%%/*}
redis_host=${redis_hostport%%:*}
redis_port=${redis_hostport##*:}; [ "$redis_port" = "$redis_hostport" ] && redis_port=6379
redis_dir=$services_dir/redis

redis_ready() { [ "$(redis-cli -h "$redis_host" -p "$redis_port" ping 2>/dev/null)" = PONG ]; }

redis_start() {
  if redis_ready; then log redis "already running on $redis_host:$redis_port"; return; fi
  command -v redis-server >/dev/null || die "Redis is not installed (run scripts/setup.sh)"
  mkdir -p "$redis_dir"
  redis-server --bind "$redis_host" --port "$redis_port" --daemonize yes --dir "$redis_dir" \
    --pidfile "$redis_dir/redis.pid" --logfile "$redis_dir/redis.log" --save '' --appendonly no
  for _ in $(seq 100); do redis_ready && break; sleep 0.1; done
  redis_ready || die "Redis did not start (see $redis_dir/redis.log)"
  log redis "started on $redis_host:$redis_port"
}

redis_stop() {
  if [ -f "$redis_dir/redis.pid" ] && kill -0 "$(cat "$redis_dir/redis.pid")" 2>/dev/null; then
    redis-cli -h "$redis_host" -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
    log redis stopped
  else log redis "not started by us"; fi
}

# ---------------------------------------------------------------------------------------------
# nginx: a project-local instance that includes NGINX_SITES_DIR/*.conf, so Slipway's virtual
# hosts never touch the system's nginx configuration.
nginx_dir=$services_dir/nginx
nginx_port=${NGINX_LISTEN_PORT:-80}
sites_dir=${NGINX_SITES_DIR:-${DATA_DIR:-.data}/nginx/sites}
case $sites_dir in /*) ;; *) sites_dir=$root/$sites_dir ;; esac
nginx_bin=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}

nginx_running() { [ -f "$nginx_dir/nginx.pid" ] && kill -0 "$(cat "$nginx_dir/nginx.pid")" 2>/dev/null; }

nginx_start() {
  [ -x "$nginx_bin" ] || die "nginx is not installed (run scripts/setup.sh)"
  mkdir -p "$nginx_dir/logs" "$nginx_dir/tmp" "$sites_dir"
  cat >"$nginx_dir/nginx.conf" <<EOF
# Written by scripts/services.sh; changes are overwritten.
worker_processes 1;
pid $nginx_dir/nginx.pid;
error_log $nginx_dir/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log $nginx_dir/logs/access.log;
    client_body_temp_path $nginx_dir/tmp/body;
    proxy_temp_path $nginx_dir/tmp/proxy;
    fastcgi_temp_path $nginx_dir/tmp/fastcgi;
    uwsgi_temp_path $nginx_dir/tmp/uwsgi;
    scgi_temp_path $nginx_dir/tmp/scgi;
    server_names_hash_bucket_size 128;
    map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
    server {
        listen 127.0.0.1:$nginx_port default_server;
        server_name _;
        return 404;
    }
    include $sites_dir/*.conf;
}
EOF
  if nginx_running; then
    "$nginx_bin" -p "$nginx_dir" -c "$nginx_dir/nginx.conf" -s reload 2>/dev/null
    log nginx "already running on 127.0.0.1:$nginx_port"
    return
  fi
  "$nginx_bin" -p "$nginx_dir" -c "$nginx_dir/nginx.conf" -t -q 2>"$nginx_dir/logs/test.log" \
    || { cat "$nginx_dir/logs/test.log" >&2; die "nginx configuration is invalid"; }
  "$nginx_bin" -p "$nginx_dir" -c "$nginx_dir/nginx.conf" 2>"$nginx_dir/logs/start.log" \
    || { cat "$nginx_dir/logs/start.log" >&2; die "nginx did not start (is port $nginx_port taken? set NGINX_LISTEN_PORT)"; }
  log nginx "started on 127.0.0.1:$nginx_port (sites in $sites_dir)"
}

nginx_stop() {
  if nginx_running; then "$nginx_bin" -p "$nginx_dir" -c "$nginx_dir/nginx.conf" -s quit && log nginx stopped
  else log nginx "not started by us"; fi
}

# ---------------------------------------------------------------------------------------------
# Docker engine at DOCKER_HOST (default /var/run/docker.sock).
docker_dir=$services_dir/docker

docker_ready() { timeout 5 docker info >/dev/null 2>&1; }

docker_start() {
  if docker_ready; then log docker "engine already running"; return; fi
  is_root || die "the Docker engine is not running and only root can start it: start dockerd, or add your user to the docker group"
  command -v dockerd >/dev/null || die "Docker is not installed (run scripts/setup.sh)"
  mkdir -p "$docker_dir"
  # setsid: the engine outlives this script and the make that ran it.
  setsid dockerd --data-root "$docker_dir/data" --pidfile "$docker_dir/dockerd.pid" \
    >"$docker_dir/dockerd.log" 2>&1 < /dev/null &
  for _ in $(seq 120); do docker_ready && break; sleep 0.5; done
  docker_ready || { tail -n 20 "$docker_dir/dockerd.log" >&2; die "dockerd did not start"; }
  log docker "engine started (data in $docker_dir)"
}

docker_stop() {
  if [ -f "$docker_dir/dockerd.pid" ] && kill -0 "$(cat "$docker_dir/dockerd.pid")" 2>/dev/null; then
    kill "$(cat "$docker_dir/dockerd.pid")"
    for _ in $(seq 60); do kill -0 "$(cat "$docker_dir/dockerd.pid" 2>/dev/null)" 2>/dev/null || break; sleep 0.5; done
    log docker stopped
  else log docker "not started by us"; fi
}

status() {
  pg_ready && log postgres "up ($db_host:$db_port)" || log postgres down
  redis_ready && log redis "up ($redis_host:$redis_port)" || log redis down
  nginx_running && log nginx "up (127.0.0.1:$nginx_port)" || log nginx "down (ours)"
  docker_ready && log docker up || log docker down
}

case ${1:-start} in
  start) echo "Services:"; pg_start; redis_start; nginx_start; docker_start ;;
  stop) echo "Stopping services:"; docker_stop; nginx_stop; redis_stop; pg_stop ;;
  status) status ;;
  # The main configuration of our nginx, for Slipway's `nginx -t` and reloads (NGINX_CONF).
  nginx-conf) echo "$nginx_dir/nginx.conf" ;;
  *) die "usage: $0 start|stop|status|nginx-conf" ;;
esac
