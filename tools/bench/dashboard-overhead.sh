#!/usr/bin/env bash
# Measures what an attached dashboard costs the control loop: the same sim run (default model, default settings)
# alternately without and with `--dashboard` plus a client that follows the event stream and fetches the camera image
# and status 4 times a second. Prints each run's section p50s, cycle p50 and the loop's steady-state allocations.
#   tools/bench/dashboard-overhead.sh [pairs=3] [steps=30]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
pairs=${1:-3}; steps=${2:-30}
work=$(mktemp -d); trap 'rm -rf "$work"; kill $(jobs -p) 2>/dev/null || true' EXIT
"$root/robotctl" snapshot --camera sim --sim-scene "seed=0,ee=0.05:0.05:0.03" --out "$work/goal.png" >/dev/null
run() { # $1 = label, rest = extra options
  local label=$1; shift
  "$root/robotctl" run --sim --goal "$work/goal.png" --max-steps "$steps" --quiet --record "$work/ep-$label" --set Runtime:SuccessThreshold=0 "$@" \
    >"$work/$label.out" 2>"$work/$label.err" &
  local pid=$!
  if [ "$label" != "${label#with}" ]; then
    local url=""
    for _ in $(seq 300); do url=$(grep -o 'http://127.0.0.1:[0-9]*/' "$work/$label.out" | head -1 || true); [ -n "$url" ] && break; sleep 0.1; done
    curl -sN "${url}api/events" >/dev/null 2>&1 &
    ( while kill -0 $pid 2>/dev/null; do
        curl -sf "${url}api/camera.jpg" -o /dev/null && echo >>"$work/$label.fetches"; curl -s "${url}api/status" >/dev/null; sleep 0.25
      done ) &
  fi
  wait $pid || true
  printf '%-12s ' "$label"
  awk '/section timings/ { s = 1; next } s && NF == 3 && /^    [a-z]/ { printf "%s %s  ", $1, $2 } /^  commands/ { s = 0 } /managed allocations/ { sub(/.*control loop: /, ""); printf "| %s", $0 }' "$work/$label.out"
  [ -f "$work/$label.fetches" ] && printf '  (client: %s camera frames)' "$(wc -l <"$work/$label.fetches")"
  echo
}
for i in $(seq "$pairs"); do
  run "without-$i"
  run "with-$i" --dashboard --listen 127.0.0.1:0
done
