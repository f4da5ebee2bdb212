#!/bin/bash
# usage: benches/scripts/health_cost.sh SCENE RUNS (from the repository root, after cargo build --release)
# e.g. benches/scripts/health_cost.sh coba 11
# alternating runs with and without the health check; prints medians of simulate_s
set -e
scene=$1; n=$2
for i in $(seq $n); do
  for mode in checked unchecked; do
    extra=""; [ $mode = unchecked ] && extra="--set check_every=0"
    ./target/release/cortecs --threads 1 run scenes/$scene.ron --out /tmp/hc_$scene --force -q $extra >/dev/null
    python3 -c "import json;print('$mode', json.load(open('/tmp/hc_$scene/summary.json'))['timing_s']['simulate'])"
  done
done | python3 -c "
import sys,statistics as st
d={}
for l in sys.stdin:
  m,v=l.split(); d.setdefault(m,[]).append(float(v))
for m in d: print('$scene', m, 'median %.4f s' % st.median(d[m]), 'runs', len(d[m]))
c,u=st.median(d['checked']),st.median(d['unchecked']); print('$scene cost %.1f %%' % (100*(c-u)/u))
"
