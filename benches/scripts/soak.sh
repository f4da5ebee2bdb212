#!/bin/bash
# usage: benches/scripts/soak.sh [STEPS] [OUT]   (from the repository root, after cargo build --release)
# e.g.   benches/scripts/soak.sh 10000000 /tmp/soak     (10 M steps = 1000 s of biological time)
#
# Runs scenes/soak.ron (W1-sized COBA network with STDP on E -> E, spikes and
# state probes streamed to disk) for STEPS steps of 0.1 ms, samples the
# process's VmRSS from /proc/PID/status every second into OUT/rss.csv
# (wall_s, sim_ms, rss_kib), then draws OUT/soak_rss.png and prints the
# resident memory after warm-up (the first 5 % of simulated time) with
# examples/rss_plot.rs. CORTECS=path picks another binary.
set -euo pipefail
steps=${1:-10000000}
out=${2:-out/soak}
bin=${CORTECS:-./target/release/cortecs}
ms=$(awk -v s="$steps" 'BEGIN { printf "%.1f", s * 0.1 }')
mkdir -p "$out"
csv="$out/rss.csv"
log="$out/progress.log"
"$bin" --threads 1 run scenes/soak.ron --out "$out/run" --force --set "timeline.0.ms=$ms" \
  >"$out/summary.txt" 2>"$log" &
pid=$!
echo "wall_s,sim_ms,rss_kib" >"$csv"
start=$(date +%s.%N)
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
  [ -z "$rss" ] && break
  # progress lines (every 2 s): "t = DONE / TOTAL ms (..%), ..."
  sim=$(tail -n 1 "$log" | awk '$1 == "t" { print $3; exit } { print "" }')
  now=$(date +%s.%N)
  echo "$(awk -v a="$start" -v b="$now" 'BEGIN { printf "%.2f", b - a }'),${sim:-0},$rss" >>"$csv"
  sleep 1
done
rc=0
wait "$pid" || rc=$?
cat "$out/summary.txt"
if [ "$rc" -ne 0 ]; then
  echo "cortecs exited with $rc; see $log" >&2
  exit "$rc"
fi
cargo run --release --quiet --example rss_plot -- "$csv" "$out/soak_rss.png" "$steps"
