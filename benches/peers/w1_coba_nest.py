"""cortecs peer script: W1 COBA (benches/WORKLOADS.md) in NEST (iaf_cond_exp).

    python w1_coba_nest.py [--threads 1|2] [--ms 1000]

Same parameters and initial values as the other engines; NEST's own
pairwise_bernoulli draw; iaf_cond_exp integrates with adaptive RKF45.
Prints one RESULT_JSON line.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import N_E_COBA, N_I_COBA, SEED, coba_initial_conditions, emit, now, quiet_nest  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--ms", type=float, default=1000.0)
args = ap.parse_args()

import numpy as np  # noqa: E402

nest = quiet_nest()
N = N_E_COBA + N_I_COBA
v0, ge0, gi0 = coba_initial_conditions(np)
nest.ResetKernel()
nest.set(resolution=0.1, local_num_threads=args.threads, rng_seed=SEED)

t0 = now()
pop = nest.Create("iaf_cond_exp", N, params={
    "C_m": 200.0, "g_L": 10.0, "E_L": -60.0, "V_th": -50.0, "V_reset": -60.0, "t_ref": 5.0,
    "E_ex": 0.0, "E_in": -80.0, "tau_syn_ex": 5.0, "tau_syn_in": 10.0, "I_e": 0.0})
pop.set(V_m=v0.tolist(), g_ex=ge0.tolist(), g_in=gi0.tolist())
conn = {"rule": "pairwise_bernoulli", "p": 0.02}
nest.Connect(pop[:N_E_COBA], pop, conn, {"synapse_model": "static_synapse", "weight": 6.0, "delay": 0.1})
nest.Connect(pop[N_E_COBA:], pop, conn, {"synapse_model": "static_synapse", "weight": -67.0, "delay": 0.1})
rec = nest.Create("spike_recorder", params={"record_to": "memory"})
nest.Connect(pop, rec)
build_s = now() - t0
t1 = now()
nest.Simulate(args.ms)
sim_s = now() - t1
spikes = int(rec.n_events)
emit(dict(
    workload="w1", engine="nest", nest=nest.__version__, model="iaf_cond_exp", threads=args.threads,
    build_s=round(build_s, 4), sim_s=round(sim_s, 4), ms=args.ms, seed=SEED, neurons=N,
    synapses=int(nest.GetKernelStatus("num_connections")) - N,  # less the recorder's
    spikes=spikes, rate_hz=round(spikes / N / (args.ms / 1000.0), 4),
))
