"""cortecs peer script: W3 connection build (benches/WORKLOADS.md) in NEST.

    python w3_build_nest.py [--threads 1|2] [--empty]

pairwise_bernoulli p = 0.1 between two populations of 10,000
iaf_psc_alpha, static_synapse, weight nest.random.normal(0.5, 0.1), delay
1 ms; --empty creates the neurons only (the RSS baseline). Prints one
RESULT_JSON line.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import SEED, emit, now, quiet_nest  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--empty", action="store_true")
args = ap.parse_args()

nest = quiet_nest()
nest.ResetKernel()
nest.set(local_num_threads=args.threads, rng_seed=SEED)
t0 = now()
pre = nest.Create("iaf_psc_alpha", 10000)
post = nest.Create("iaf_psc_alpha", 10000)
populations_s = now() - t0
connect_s = 0.0
if not args.empty:
    t1 = now()
    nest.Connect(pre, post, {"rule": "pairwise_bernoulli", "p": 0.1},
                 {"synapse_model": "static_synapse", "weight": nest.random.normal(mean=0.5, std=0.1), "delay": 1.0})
    connect_s = now() - t1
emit(dict(
    workload="w3-empty" if args.empty else "w3", engine="nest", nest=nest.__version__, threads=args.threads,
    seed=SEED, populations_s=round(populations_s, 4), connect_s=round(connect_s, 4),
    build_s=round(populations_s + connect_s, 4), synapses=int(nest.GetKernelStatus("num_connections")),
))
