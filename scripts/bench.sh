#!/usr/bin/env bash
# `make bench`: measures the release build and appends the figures to docs/BENCHMARKS.md.
#   - release WASM bundle, raw and brotli
#   - Slipway's resident memory when idle and after the load below
#   - GET /health: requests per second and p99 latency, 50 concurrent clients (wrk)
#   - accounts: a signed-in request, logins, /health under login load
#   - deployments: POST → running next to the same steps by hand, and memory during a build
#   - routing: failed requests through nginx during redeploys at 200 and 1,000 req/s, switch
#     time, reloads
#   - live: runtime line → SSE client latency, one viewer's lines/s, RSS with 500 viewers,
#     dashboard time to interactive with 100 deployments
set -euo pipefail
cd "$(dirname "$0")/.."
set -a; . ./.env; set +a
. scripts/lib.sh

missing=()
for tool in wrk brotli curl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "bench: install ${missing[*]} first" >&2; exit 1; }
  echo "bench: installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

addr=127.0.0.1:8200
duration=${BENCH_SECONDS:-15}
wasm=target/site/pkg/slipway.wasm
[ -f "$wasm" ] && [ -x target/release/slipway ] || { echo "bench: run make build-release first" >&2; exit 1; }
wasm_raw=$(stat -c %s "$wasm")
wasm_br=$(brotli -c -q 11 "$wasm" | wc -c)

# The sites directory our nginx includes (as scripts/services.sh computes it).
nginx_sites=${NGINX_SITES_DIR:-$PWD/${DATA_DIR:-.data}/nginx/sites}
bench_db=slipway_bench
pg_recreate_db "$bench_db"
data_dir=$(mktemp -d)
bench_password="bench passphrase $(date +%s)"
DATABASE_URL=${DATABASE_URL%/*}/$bench_db LEPTOS_SITE_ADDR=$addr LEPTOS_SITE_ROOT=target/site \
  DATA_DIR=$data_dir NGINX_CONF=$(scripts/services.sh nginx-conf) NGINX_SITES_DIR=$nginx_sites LOG_LEVEL=warn APP_ENV=development \
  REDIS_KEY_PREFIX="bench-$$:" ADMIN_EMAIL=bench@example.com ADMIN_PASSWORD="$bench_password" \
  GIT_ALLOWED_HOSTS=127.0.0.1 GIT_ALLOW_HTTP=true PORT_RANGE=24000-24019 \
  target/release/slipway >"$data_dir/server.log" 2>&1 &
pid=$!
cleanup() {
  [ -n "${git_pid:-}" ] && kill "$git_pid" 2>/dev/null
  kill $pid 2>/dev/null; wait $pid 2>/dev/null
  docker rm -f bench-manual >/dev/null 2>&1 || true
  docker rmi -f bench-manual >/dev/null 2>&1 || true
  rm -rf "$data_dir"
}
trap cleanup EXIT
for _ in $(seq 200); do curl -fs "http://$addr/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://$addr/health" >/dev/null || { cat "$data_dir/server.log" >&2; echo "bench: server did not become healthy" >&2; exit 1; }
curl -fs "http://$addr/" >/dev/null

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
idle_rss=$(rss_kib)

wrk_out=$(wrk -t2 -c50 -d"${duration}s" --latency "http://$addr/health")
rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$wrk_out")
p99=$(awk '$1 == "99%" {print $2}' <<<"$wrk_out")
non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$wrk_out"); non2xx=${non2xx:-0}
loaded_rss=$(rss_kib)

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
mem=$(free -g | awk '/^Mem:/ {print $2 " GiB"}')
row="| $(date -u +%F) | $(nproc) × ${cpu}, ${mem} | $(( wasm_raw / 1024 )) KiB | $(( wasm_br / 1024 )) KiB | $(( idle_rss / 1024 )) MiB | $(( loaded_rss / 1024 )) MiB | ${rps} | ${p99} | ${non2xx} |"

cat <<OUT
Release WASM:            ${wasm_raw} bytes raw, ${wasm_br} bytes brotli
Idle RSS:                ${idle_rss} KiB
RSS after load:          ${loaded_rss} KiB
GET /health (c=50, ${duration}s): ${rps} req/s, p99 ${p99}, non-2xx ${non2xx}
OUT

# --- Accounts: a signed-in request against a static file, logins, health under login load ---
login_body=$(printf '{"login":"bench@example.com","password":"%s"}' "$bench_password")
cookie=$(curl -fsS -o /dev/null -c - -H 'content-type: application/json' -d "$login_body" \
  "http://$addr/api/v1/auth/login" | awk '$6 == "slipway" {print "slipway=" $7}')
[ -n "$cookie" ] || { echo "bench: could not sign in" >&2; exit 1; }
wrk_line() { awk '/^Requests\/sec:/ {rps=$2} $1 == "99%" {p99=$2} END {print rps, p99}'; }
read -r me_rps me_p99 < <(wrk -t2 -c50 -d"${duration}s" --latency -H "Cookie: $cookie" "http://$addr/api/v1/me" | wrk_line)
read -r static_rps static_p99 < <(wrk -t2 -c50 -d"${duration}s" --latency "http://$addr/robots.txt" | wrk_line)
lua=$(mktemp --suffix=.lua)
printf 'wrk.method = "POST"\nwrk.body = [[%s]]\nwrk.headers["Content-Type"] = "application/json"\n' "$login_body" > "$lua"
read -r login_rps login_p99 < <(wrk -t2 -c8 -d"${duration}s" --latency -s "$lua" "http://$addr/api/v1/auth/login" | wrk_line)
# /health while logins keep both cores busy: argon2 runs on the blocking pool, not the runtime.
wrk -t1 -c16 -d"$((duration + 4))s" -s "$lua" "http://$addr/api/v1/auth/login" >/dev/null &
loginload=$!
sleep 2
read -r busy_rps busy_p99 < <(wrk -t1 -c10 -d"${duration}s" --latency "http://$addr/health" | wrk_line)
wait $loginload
rm -f "$lua"

cat <<OUT
GET /api/v1/me (cookie, c=50): ${me_rps} req/s, p99 ${me_p99}
GET /robots.txt (static, c=50): ${static_rps} req/s, p99 ${static_p99}
POST /api/v1/auth/login (c=8): ${login_rps} logins/s, p99 ${login_p99}
GET /health while logins saturate the CPU (c=10): ${busy_rps} req/s, p99 ${busy_p99}
OUT
ratio=$(awk -v a="$me_rps" -v b="$static_rps" 'BEGIN { printf "%.2f", a / b }')
accounts_row="| $(date -u +%F) | $(nproc) × ${cpu}, ${mem} | ${me_rps} / ${me_p99} | ${static_rps} / ${static_p99} | ${ratio} | ${login_rps} / ${login_p99} | ${busy_p99} |"

# --- Deployments: POST → running, against the same steps by hand ----------------------------
base=slipway-bench/busybox:1
if ! docker image inspect "$base" >/dev/null 2>&1; then
  root=$data_dir/rootfs; mkdir -p "$root/bin" "$root/tmp" "$root/www"
  cp /bin/busybox "$root/bin/"
  for applet in sh httpd echo cat mkdir sleep; do ln -sf busybox "$root/bin/$applet"; done
  tar -C "$root" -c . | docker import - "$base" >/dev/null
fi
repo=$data_dir/git/app
mkdir -p "$repo" && git -C "$repo" init -q -b main
cat > "$repo/Dockerfile" <<DOCKERFILE
FROM $base
COPY nonce /www/index.html
RUN cat /www/index.html
EXPOSE 8080
CMD ["/bin/httpd", "-f", "-p", "8080", "-h", "/www"]
DOCKERFILE
git_port=8210
busybox httpd -f -p "127.0.0.1:$git_port" -h "$data_dir/git" &
git_pid=$!
# Each run commits a new nonce, so neither side gets the other's build cache.
new_commit() {
  date +%s%N > "$repo/nonce"
  git -C "$repo" add -A
  git -C "$repo" -c user.name=bench -c user.email=bench@example.com commit -qm "run $1"
  rm -rf "$data_dir/git/app.git"
  git clone -q --bare "$repo" "$data_dir/git/app.git"
  git -C "$data_dir/git/app.git" update-server-info
}
now_ms() { date +%s%3N; }
runs=${BENCH_DEPLOY_RUNS:-3}
slipway_ms=() manual_ms=() peak_rss=0
deploy_base_rss=$(rss_kib)
for run in $(seq "$runs"); do
  new_commit "manual $run"
  work=$data_dir/manual-$run
  start=$(now_ms)
  git clone -q "http://127.0.0.1:$git_port/app.git" "$work"
  docker build -q -t bench-manual "$work" >/dev/null
  docker run -d --name bench-manual -p 127.0.0.1:24100:8080 bench-manual >/dev/null
  until curl -fs -o /dev/null http://127.0.0.1:24100/; do sleep 0.05; done
  manual_ms+=($(( $(now_ms) - start )))
  docker rm -f bench-manual >/dev/null; docker rmi -f bench-manual >/dev/null

  new_commit "slipway $run"
  body=$(printf '{"repo_url":"http://127.0.0.1:%s/app.git","subdomain":"bench%s"}' "$git_port" "$run")
  start=$(now_ms)
  # The deployment's own fields come first in its JSON (then its releases').
  id=$(curl -fsS -H "Cookie: $cookie" -H 'content-type: application/json' -d "$body" \
    "http://$addr/api/v1/deployments" | grep -o '^{"id":"[^"]*"' | cut -d'"' -f4)
  [ -n "$id" ] || { echo "bench: could not create a deployment" >&2; exit 1; }
  state=queued
  while [ "$state" != running ]; do
    rss=$(rss_kib); [ "$rss" -gt "$peak_rss" ] && peak_rss=$rss
    state=$(curl -fsS -H "Cookie: $cookie" "http://$addr/api/v1/deployments/$id" \
      | grep -o '"state":"[a-z_]*"' | head -1 | cut -d'"' -f4)
    [ "$state" = failed ] && { echo "bench: the deployment failed" >&2; exit 1; }
    sleep 0.05
  done
  slipway_ms+=($(( $(now_ms) - start )))
  curl -fsS -X DELETE -H "Cookie: $cookie" "http://$addr/api/v1/deployments/$id" >/dev/null
  until [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "http://$addr/api/v1/deployments/$id")" = 404 ]; do
    sleep 0.1
  done
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
slipway_median=$(median "${slipway_ms[@]}")
manual_median=$(median "${manual_ms[@]}")
overhead=$(awk -v a="$slipway_median" -v b="$manual_median" 'BEGIN { printf "%.2f", a / b }')
cat <<OUT
Deploy POST → running: ${slipway_ms[*]} ms (median ${slipway_median})
By hand (clone + build + run + first 200): ${manual_ms[*]} ms (median ${manual_median})
Overhead ratio: ${overhead}; RSS while deploying: peak $(( peak_rss / 1024 )) MiB (before: $(( deploy_base_rss / 1024 )) MiB)
OUT
deploy_row="| $(date -u +%F) | $(nproc) × ${cpu}, ${mem} | ${slipway_median} ms | ${manual_median} ms | ${overhead} | $(( peak_rss / 1024 )) MiB (before: $(( deploy_base_rss / 1024 )) MiB) | ${runs} |"

# --- Routing: redeploys through nginx under load ---------------------------------------------
metric() { curl -fsS "http://$addr/metrics" | awk -v name="$1" '$1 ~ "^"name"({|$)" {sum += $2} END {print sum + 0}'; }
json_number() { grep -o "\"$1\":[0-9]*" | head -1 | cut -d: -f2; }
new_commit "routing v1"
body=$(printf '{"repo_url":"http://127.0.0.1:%s/app.git","subdomain":"benchroute"}' "$git_port")
id=$(curl -fsS -H "Cookie: $cookie" -H 'content-type: application/json' -d "$body" \
  "http://$addr/api/v1/deployments" | grep -o '^{"id":"[^"]*"' | cut -d'"' -f4)
live_number() {
  curl -fsS -H "Cookie: $cookie" "http://$addr/api/v1/deployments/$id" | json_number number
}
until [ "$(live_number)" = 1 ] && curl -fsS -H "Cookie: $cookie" "http://$addr/api/v1/deployments/$id" | grep -q '"state":"running"'; do sleep 0.2; done
route_host=benchroute.${BASE_DOMAIN:-localhost}
reloads_before=$(metric nginx_reloads_total)
routing_cells=()
expected=1
for rate in 200 1000; do
  old_nonce=$(cat "$repo/nonce")
  new_commit "routing at $rate req/s"
  new_nonce=$(cat "$repo/nonce")
  python3 scripts/loadgen.py --rate "$rate" --seconds "${BENCH_REDEPLOY_SECONDS:-25}" \
    --host "$route_host" --mark "$old_nonce" --mark "$new_nonce" \
    "http://127.0.0.1:${NGINX_LISTEN_PORT:-80}/" > "$data_dir/load-$rate.json" &
  load_pid=$!
  sleep 3
  curl -fsS -X POST -H "Cookie: $cookie" "http://$addr/api/v1/deployments/$id/redeploy" >/dev/null
  expected=$((expected + 1))
  until [ "$(live_number)" = "$expected" ]; do sleep 0.2; done
  wait $load_pid
  read -r sent failures retries p99 old new < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r["sent"], r["failures"], r["keepalive_retries"], r["p99_ms"], r["marks"][sys.argv[2]], r["marks"][sys.argv[3]])
' "$data_dir/load-$rate.json" "$old_nonce" "$new_nonce")
  echo "Redeploy under $rate req/s: $sent requests, $failures failed, $retries keep-alive retries, p99 ${p99} ms; answers old/new: $old/$new"
  cat "$data_dir/load-$rate.json"
  routing_cells+=("$sent / $failures / $retries / $old→$new")
done
reloads=$(awk -v a="$(metric nginx_reloads_total)" -v b="$reloads_before" 'BEGIN { printf "%.1f", (a - b) / 2 }')
switch_ms=$(awk -v s="$(metric route_switch_seconds_sum)" -v c="$(metric route_switch_seconds_count)" 'BEGIN { if (c > 0) printf "%.0f", 1000 * s / c; else print "?" }')
echo "Healthy → traffic switched: ${switch_ms} ms on average; nginx reloads per redeploy: ${reloads}"
curl -fsS -X DELETE -H "Cookie: $cookie" "http://$addr/api/v1/deployments/$id" >/dev/null
until [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "http://$addr/api/v1/deployments/$id")" = 404 ]; do sleep 0.1; done
routing_row="| $(date -u +%F) | $(nproc) × ${cpu}, ${mem} | ${routing_cells[0]} | ${routing_cells[1]} | ${switch_ms} ms | ${reloads} |"

# --- Live: log latency and throughput, memory with many viewers, dashboard TTI -------------
live_repo() {  # name, shell line the app runs
  local dir=$data_dir/git/$1
  mkdir -p "$dir" && git -C "$dir" init -q -b main
  printf 'FROM %s\nRUN mkdir -p /www && echo %s > /www/index.html\nCOPY run.sh /run.sh\nEXPOSE 8080\nCMD ["/bin/sh", "/run.sh"]\n' "$base" "$1" > "$dir/Dockerfile"
  printf '(%s) &\nexec /bin/httpd -f -p "${PORT:-8080}" -h /www\n' "$2" > "$dir/run.sh"
  git -C "$dir" add -A && git -C "$dir" -c user.name=bench -c user.email=bench@example.com commit -qm "$1"
  git clone -q --bare "$dir" "$data_dir/git/$1.git" && git -C "$data_dir/git/$1.git" update-server-info
}
deploy_live() {  # name → deployment id, once running
  local body id
  body=$(printf '{"repo_url":"http://127.0.0.1:%s/%s.git","subdomain":"%s"}' "$git_port" "$1" "$1")
  id=$(curl -fsS -H "Cookie: $cookie" -H 'content-type: application/json' -d "$body" \
    "http://$addr/api/v1/deployments" | grep -o '^{"id":"[^"]*"' | cut -d'"' -f4)
  until curl -fsS -H "Cookie: $cookie" "http://$addr/api/v1/deployments/$id" | grep -q '"state":"running"'; do sleep 0.2; done
  echo "$id"
}
live_repo benchtick 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.05; done'
live_repo benchflood 'i=0; while true; do echo "flood line $i with some padding to look like a log line"; i=$((i+1)); done'
tick_id=$(deploy_live benchtick)
flood_id=$(deploy_live benchflood)
latency_json=$(python3 scripts/ssebench.py latency "http://$addr/api/v1/deployments/$tick_id/logs?kind=runtime&tail=0" --cookie "$cookie" --seconds 10)
throughput_json=$(python3 scripts/ssebench.py throughput "http://$addr/api/v1/deployments/$flood_id/logs?kind=runtime&tail=0" --cookie "$cookie" --seconds 10)
for id in "$tick_id" "$flood_id"; do curl -fsS -X DELETE -H "Cookie: $cookie" "http://$addr/api/v1/deployments/$id" >/dev/null; done
viewers_json=$(python3 scripts/ssebench.py viewers "http://$addr/api/v1/events" --cookie "$cookie" --count 500 --pid "$pid")
# 100 deployments on the dashboard (rows only: no builds needed to draw their cards).
psql -qX "${DATABASE_URL%/*}/$bench_db" -c "INSERT INTO deployments (owner_id, name, repo_url, branch, subdomain, dockerfile, build_context, memory_mb, cpu_millis, state)
  SELECT u.id, 'tti-' || n, 'https://github.com/example/app.git', 'main', 'tti-' || n, 'Dockerfile', '.', 512, 1000, 'stopped'
  FROM users u, generate_series(1, 100) n WHERE u.email = 'bench@example.com'" >/dev/null
tti_json=$(node scripts/tti.mjs "http://$addr" "$cookie" 100)
psql -qX "${DATABASE_URL%/*}/$bench_db" -c "DELETE FROM deployments WHERE name LIKE 'tti-%'" >/dev/null
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
echo "Runtime line → SSE client: $latency_json"
echo "One viewer's throughput: $throughput_json"
echo "500 viewers of /api/v1/events: $viewers_json"
echo "Dashboard with 100 deployments, time to interactive: $tti_json"
live_row="| $(date -u +%F) | $(nproc) × ${cpu}, ${mem} | $(field "$latency_json" p50_ms) / $(field "$latency_json" p99_ms) ms | $(field "$throughput_json" lines_per_second) | $(( $(field "$viewers_json" rss_before_kib) / 1024 )) → $(( $(field "$viewers_json" rss_with_viewers_kib) / 1024 )) MiB | $(( wasm_br / 1024 )) KiB | $(field "$tti_json" median_ms) ms |"

doc=docs/BENCHMARKS.md
# Each marker sits above its table; new rows go under the header, newest first.
append_row() {
  local marker=$1 line=$2
  grep -q "$marker" "$doc" || { echo "bench: $doc lacks $marker" >&2; exit 1; }
  awk -v marker="$marker" -v row="$line" '
    $0 == marker { seen = 1 }
    { print }
    seen && /^\|[- |]+\|$/ { print row; seen = 0 }' "$doc" > "$doc.tmp" && mv "$doc.tmp" "$doc"
}
append_row '<!-- bench:foundation -->' "$row"
append_row '<!-- bench:accounts -->' "$accounts_row"
append_row '<!-- bench:deployments -->' "$deploy_row"
append_row '<!-- bench:routing-rates -->' "$routing_row"
append_row '<!-- bench:live -->' "$live_row"
echo "Appended to $doc"
