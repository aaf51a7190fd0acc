#!/usr/bin/env bash
# Soak: one long `run --sim --record --dashboard` with a dashboard client attached (the event stream followed, camera
# image and status fetched 4 times a second), the process's resident memory sampled every few seconds. Prints a CSV
# (seconds, step, RSS MB, and its parts from /proc: anonymous = GC heap + native allocations, file = mapped libraries,
# shmem = JIT code in .NET's double mapping) and a summary: RSS after warm-up, at the end, and the growth per hour
# fitted after warm-up.
# Not a unit test: it takes as long as you ask. docs/PERFORMANCE.md records its numbers.
#   tools/bench/soak.sh [minutes=30] [warmup-minutes=10] [sample-seconds=10] [extra run options...]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
minutes=${1:-30}; warmup=${2:-10}; every=${3:-10}; shift $(( $# < 3 ? $# : 3 ))
robotctl=${ROBOTCTL:-$root/robotctl}
work=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
"$robotctl" snapshot --camera sim --sim-scene "seed=0,ee=0.05:0.05:0.03" --out "$work/goal.png" >/dev/null
# The goal is never judged reached (threshold 0), so the loop keeps planning for as long as the soak lasts.
"$robotctl" run --sim --goal "$work/goal.png" --max-steps 10000000 --quiet --record "$work/episodes" \
  --dashboard --listen 127.0.0.1:0 --set Runtime:SuccessThreshold=0 "$@" >"$work/run.out" 2>"$work/run.err" &
pid=$!
url=""
for _ in $(seq 600); do url=$(grep -o 'http://127.0.0.1:[0-9]*/' "$work/run.out" | head -1 || true); [ -n "$url" ] && break; sleep 0.1; done
[ -n "$url" ] || { echo "soak: the run did not start its dashboard" >&2; cat "$work/run.err" >&2; exit 1; }
# `robotctl` may be a launcher script: sample the dotnet process it started.
proc=$pid; for _ in $(seq 50); do child=$(pgrep -P "$proc" | head -1 || true); [ -z "$child" ] && break; proc=$child; done
curl -sN "${url}api/events" >/dev/null 2>&1 &
( while kill -0 $pid 2>/dev/null; do
    curl -sf --max-time 5 "${url}api/camera.jpg" -o /dev/null || true; curl -sf --max-time 5 "${url}api/status" -o /dev/null || true; sleep 0.25
  done ) &
echo "seconds,step,rss_mb,anon_mb,file_mb,shmem_mb"
start=$(date +%s)
while kill -0 $pid 2>/dev/null; do
  now=$(( $(date +%s) - start ))
  rss=$(awk '/^(VmRSS|RssAnon|RssFile|RssShmem)/ { printf "%s%.1f", sep, $2 / 1024; sep = "," }' "/proc/$proc/status" 2>/dev/null || true)
  step=$(curl -sf --max-time 5 "${url}api/status" | grep -o '"step":[0-9]*' | cut -d: -f2 || true)
  [ -n "$rss" ] && echo "$now,${step:-},$rss" | tee -a "$work/samples.csv"
  [ "$now" -ge $(( minutes * 60 )) ] && break
  sleep "$every"
done
# SIGTERM: a background job of a script starts with SIGINT ignored. The run closes its episode either way.
kill -TERM $pid 2>/dev/null || true
wait $pid || true
awk -F, -v w=$(( warmup * 60 )) '
  $1 >= w { n++; sx += $1; sy += $3; sxx += $1 * $1; sxy += $1 * $3; if (!first) { first = $3; firstAnon = $4 } last = $3; lastAnon = $4; lastS = $1; lastStep = $2; if ($3 > max) max = $3 }
  END {
    if (n < 2) { print "soak: too few samples after warm-up" > "/dev/stderr"; exit 1 }
    slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
    printf "after %d s warm-up: RSS %.1f MB -> %.1f MB at %d s (step %s), max %.1f MB (anonymous %.1f -> %.1f MB); fitted growth %.1f MB/hour over %d samples\n", w, first, last, lastS, lastStep, max, firstAnon, lastAnon, slope * 3600, n
  }' "$work/samples.csv"
grep -A 30 "^robotctl run: " "$work/run.out" | tail -n 12 >&2 || true
