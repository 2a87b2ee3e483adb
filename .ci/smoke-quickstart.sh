#!/usr/bin/env bash
# Starts the service the way the README's quick start does (no DATABASE_URL, no REDIS_URL),
# waits for readiness, creates a show, books and confirms one seat over HTTP, checks that the
# web app is served, then stops it: one clean stop, the embedded PostgreSQL with it.
set -euo pipefail
cd "$(dirname "$0")/.."
data_dir=$(mktemp -d)
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
log="$data_dir/server.log"
# Its own process group, so stopping it stops npm and the node process npm started.
env -u DATABASE_URL -u REDIS_URL -u ADMIN_API_KEY DATA_DIR="$data_dir" PORT="$port" LOG_LEVEL=info \
  setsid npm start >"$log" 2>&1 &
pid=$!
cleanup() { kill -- -"$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data_dir"; }
trap cleanup EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 120); do
  curl -fsS "$base/health/ready" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "server exited"; exit 1; }
  sleep 1
done
curl -fsS "$base/health/ready"; echo
key=$(cat "$data_dir/admin-api-key")
grep -q "admin key: $key" "$log" || { cat "$log"; echo "admin key not printed"; exit 1; }
show=$(curl -fsS -X POST "$base/api/shows" -H "authorization: Bearer $key" -H 'content-type: application/json' \
  -d '{"title":"Smoke test","start_time":"2031-01-01T20:00:00Z","total_seats":5}')
show_id=$(node -pe 'JSON.parse(process.argv[1]).id' "$show")
booking=$(curl -fsS -X POST "$base/api/shows/$show_id/book" -H 'content-type: application/json' -d '{"seats":1}')
booking_id=$(node -pe 'JSON.parse(process.argv[1]).id' "$booking")
token=$(node -pe 'JSON.parse(process.argv[1]).hold_token' "$booking")
status=$(curl -fsS -X POST "$base/api/bookings/$booking_id/confirm" -H "x-hold-token: $token" | node -pe 'JSON.parse(require("fs").readFileSync(0)).status')
[ "$status" = CONFIRMED ] || { echo "confirm answered $status"; exit 1; }
available=$(curl -fsS "$base/api/shows/$show_id" | node -pe 'JSON.parse(require("fs").readFileSync(0)).available_seats')
[ "$available" = 4 ] || { echo "available_seats is $available, expected 4"; exit 1; }
# The web app: the storefront's page and the script it loads.
page=$(curl -fsS "$base/")
script=$(printf '%s' "$page" | grep -o '/assets/index-[^"]*\.js' | head -n1)
[ -n "$script" ] || { echo "GET / is not the web app: $page"; exit 1; }
curl -fsS -o /dev/null "$base$script"
curl -fsS "$base/admin" | grep -q "$script" || { echo "GET /admin is not the web app"; exit 1; }
# The embedded PostgreSQL runs in a process group of its own: the service's shutdown stops it.
kill -TERM -- -"$pid"
wait "$pid" || true
for _ in $(seq 1 20); do grep -q '"msg":"stopped (SIGTERM)"' "$log" && break; sleep 0.5; done
grep -q '"msg":"stopped (SIGTERM)"' "$log" || { tail -20 "$log"; echo "no clean stop logged"; exit 1; }
if pgrep -f "postgres -D $data_dir" >/dev/null; then echo "the embedded PostgreSQL outlived the service"; exit 1; fi
echo "quick start smoke test passed"
