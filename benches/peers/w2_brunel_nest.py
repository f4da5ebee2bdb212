"""cortecs peer script: W2 Brunel (benches/WORKLOADS.md) in NEST, as its brunel_delta_nest.py (order 2500).

    python w2_brunel_nest.py [--threads 1|2] [--ms 1000]

iaf_psc_delta, fixed in-degree 1000 E + 250 I with replacement, one
poisson_generator at 20 kHz to every neuron; spikes of all 12,500 neurons
are counted. sim_s includes NEST's Prepare. Prints one RESULT_JSON line.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import SEED, emit, now, quiet_nest  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--ms", type=float, default=1000.0)
args = ap.parse_args()

nest = quiet_nest()
N_E, N_I, C_E, C_I = 10000, 2500, 1000, 250
N = N_E + N_I
J, g, D, theta, tau_m = 0.1, 5.0, 1.5, 20.0, 20.0
rate = 2.0 * theta / (J * C_E * tau_m) * 1000.0 * C_E  # 20,000 Hz per neuron
nest.ResetKernel()
nest.set(resolution=0.1, local_num_threads=args.threads, rng_seed=SEED)

t0 = now()
params = {"C_m": 1.0, "tau_m": tau_m, "t_ref": 2.0, "E_L": 0.0, "V_reset": 0.0, "V_m": 0.0, "V_th": theta}
exc = nest.Create("iaf_psc_delta", N_E, params=params)
inh = nest.Create("iaf_psc_delta", N_I, params=params)
drive = nest.Create("poisson_generator", params={"rate": rate})
rec = nest.Create("spike_recorder", params={"record_to": "memory"})
nest.CopyModel("static_synapse", "w2_exc", {"weight": J, "delay": D})
nest.CopyModel("static_synapse", "w2_inh", {"weight": -g * J, "delay": D})
nest.Connect(drive, exc + inh, syn_spec="w2_exc")
nest.Connect(exc + inh, rec)
nest.Connect(exc, exc + inh, {"rule": "fixed_indegree", "indegree": C_E}, "w2_exc")
nest.Connect(inh, exc + inh, {"rule": "fixed_indegree", "indegree": C_I}, "w2_inh")
build_s = now() - t0
t1 = now()
nest.Simulate(args.ms)
sim_s = now() - t1
spikes = int(rec.n_events)
senders = rec.get("events")["senders"]
exc_spikes = int((senders <= exc.tolist()[-1]).sum())
sec = args.ms / 1000.0
synapses = nest.GetDefaults("w2_exc")["num_connections"] + nest.GetDefaults("w2_inh")["num_connections"] - N
emit(dict(
    workload="w2", engine="nest", nest=nest.__version__, model="iaf_psc_delta", threads=args.threads,
    build_s=round(build_s, 4), sim_s=round(sim_s, 4), ms=args.ms, seed=SEED, neurons=N,
    synapses=int(synapses), spikes=spikes, rate_hz=round(spikes / N / sec, 4),
    rates_hz=dict(exc=round(exc_spikes / N_E / sec, 4), inh=round((spikes - exc_spikes) / N_I / sec, 4)),
))
