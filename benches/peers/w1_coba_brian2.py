"""cortecs peer script: W1 COBA (benches/WORKLOADS.md) in Brian2 cpp_standalone.

    python w1_coba_brian2.py [--threads 0|2] [--ms 1000]

--threads 0 is one thread without OpenMP, 2 is OpenMP with 2 threads.
build_s and sim_s are measured inside the compiled binary; compile_s and
codegen_s apart. Prints one RESULT_JSON line.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import N_E_COBA, N_I_COBA, SEED, Brian2Standalone, coba_initial_conditions, emit  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--threads", type=int, default=0)
ap.add_argument("--ms", type=float, default=1000.0)
args = ap.parse_args()

import numpy as np  # noqa: E402
import brian2  # noqa: E402
from brian2 import NeuronGroup, Network, SpikeMonitor, Synapses, defaultclock, ms, mV, nS, pF, seed  # noqa: E402

b2 = Brian2Standalone("w1", args.threads)
defaultclock.dt = 0.1 * ms
N = N_E_COBA + N_I_COBA
Cm, gL, El, Ee, Ei = 200 * pF, 10 * nS, -60 * mV, 0 * mV, -80 * mV
taue, taui, Vt, Vr = 5 * ms, 10 * ms, -50 * mV, -60 * mV
v0, ge0, gi0 = coba_initial_conditions(np)
seed(SEED)

b2.start()
P = NeuronGroup(
    N,
    """dv/dt = (gL*(El - v) + ge*(Ee - v) + gi*(Ei - v)) / Cm : volt (unless refractory)
       dge/dt = -ge / taue : siemens
       dgi/dt = -gi / taui : siemens""",
    threshold="v > Vt", reset="v = Vr", refractory=5 * ms, method="euler", name="P")
P.v = v0 * mV
P.ge = ge0 * nS
P.gi = gi0 * nS
Ce = Synapses(P[:N_E_COBA], P, on_pre="ge_post += 6*nS", delay=0.1 * ms, name="Ce")
Ci = Synapses(P[N_E_COBA:], P, on_pre="gi_post += 67*nS", delay=0.1 * ms, name="Ci")
Ce.connect(p=0.02)
Ci.connect(p=0.02)
mon = SpikeMonitor(P, record=False, name="mon")
net = Network(P, Ce, Ci, mon)
b2.built()
net.run(args.ms * ms)
b2.ran()
res = b2.build_and_run()
spikes = int(mon.num_spikes)
res.update(
    workload="w1", engine="brian2", brian2=brian2.__version__, ms=args.ms, seed=SEED,
    neurons=N, synapses=int(len(Ce.i)) + int(len(Ci.i)), spikes=spikes,
    rate_hz=round(spikes / N / (args.ms / 1000.0), 4),
)
b2.cleanup()
emit(res)
