"""cortecs peer script: W3 connection build (benches/WORKLOADS.md) in Brian2 (runtime, Cython).

    python w3_build_brian2.py [--empty]

Two groups of 10,000, Synapses(..., 'w : 1').connect(p=0.1), then
w = 0.5 + 0.1*randn(). --empty makes the groups and the Synapses object but
no connections: the RSS baseline of bytes per synapse. One thread (Brian2's
runtime mode has no threads). Prints one RESULT_JSON line.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import SEED, emit, now  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--empty", action="store_true")
args = ap.parse_args()

import brian2  # noqa: E402
from brian2 import NeuronGroup, Synapses, prefs, seed  # noqa: E402

prefs.logging.console_log_level = "WARNING"
prefs.codegen.target = "cython"
seed(SEED)
t0 = now()
pre = NeuronGroup(10000, "v : 1", threshold="v > 1", reset="v = 0", name="pre")
post = NeuronGroup(10000, "v : 1", threshold="v > 1", reset="v = 0", name="post")
S = Synapses(pre, post, "w : 1", on_pre="v_post += w", name="S")
populations_s = now() - t0
connect_s = 0.0
synapses = 0
if not args.empty:
    t1 = now()
    S.connect(p=0.1)
    S.w = "0.5 + 0.1*randn()"
    synapses = int(len(S))
    connect_s = now() - t1
emit(dict(
    workload="w3-empty" if args.empty else "w3", engine="brian2", mode="runtime cython",
    brian2=brian2.__version__, threads=1, seed=SEED, populations_s=round(populations_s, 4),
    connect_s=round(connect_s, 4), build_s=round(populations_s + connect_s, 4), synapses=synapses,
))
