#!/usr/bin/env bash
# `make bench`: measures the release build and appends the figures to docs/BENCHMARKS.md.
#   - release WASM bundle, raw and brotli
#   - Slipway's resident memory when idle and after the load below
#   - GET /health: requests per second and p99 latency, 50 concurrent clients (wrk)
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

bench_db=slipway_bench
pg_recreate_db "$bench_db"
data_dir=$(mktemp -d)
DATABASE_URL=${DATABASE_URL%/*}/$bench_db LEPTOS_SITE_ADDR=$addr LEPTOS_SITE_ROOT=target/site \
  DATA_DIR=$data_dir NGINX_SITES_DIR=$data_dir/sites LOG_LEVEL=warn APP_ENV=production \
  target/release/slipway >"$data_dir/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data_dir"' EXIT
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

doc=docs/BENCHMARKS.md
marker='<!-- bench:foundation -->'
grep -q "$marker" "$doc" || { echo "bench: $doc lacks $marker" >&2; exit 1; }
# The marker sits above the table; new rows go under its header, newest first.
awk -v marker="$marker" -v row="$row" '
  $0 == marker { seen = 1 }
  { print }
  seen && /^\|[- |]+\|$/ { print row; seen = 0 }' "$doc" > "$doc.tmp" && mv "$doc.tmp" "$doc"
echo "Appended to $doc"
