"""cortecs peer script: W2 Brunel, delta synapses (benches/WORKLOADS.md), in Brian2 cpp_standalone.

    python w2_brunel_brian2.py [--threads 0|2] [--ms 1000]

Brian2's schedule sees the input of a step after its threshold (one step
later than NEST and cortecs) and draws the drive as PoissonInput
(Binomial(1000, 0.002) per step). Prints one RESULT_JSON line.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import SEED, Brian2Standalone, emit  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--threads", type=int, default=0)
ap.add_argument("--ms", type=float, default=1000.0)
args = ap.parse_args()

import brian2  # noqa: E402
from brian2 import NeuronGroup, Network, PoissonInput, SpikeMonitor, Synapses, defaultclock, ms, mV, seed  # noqa: E402

b2 = Brian2Standalone("w2", args.threads)
defaultclock.dt = 0.1 * ms
N_E, N_I, C_E, C_I = 10000, 2500, 1000, 250
N = N_E + N_I
tau, theta, J, g, D = 20 * ms, 20 * mV, 0.1 * mV, 5.0, 1.5 * ms
nu_ext = 2.0 * theta / (J * C_E * tau)  # eta = 2 times the threshold rate: 20 Hz per source
seed(SEED)

b2.start()
P = NeuronGroup(N, "dv/dt = -v/tau : volt (unless refractory)", threshold="v >= theta",
                reset="v = 0*mV", refractory=2 * ms, method="exact", name="P")
P.v = 0 * mV
# input arriving while refractory is dropped; fixed in-degree with replacement
Ce = Synapses(P[:N_E], P, on_pre="v_post += J*int(not_refractory_post)", delay=D, name="Ce")
Ci = Synapses(P[N_E:], P, on_pre="v_post += -g*J*int(not_refractory_post)", delay=D, name="Ci")
Ce.connect(i="int(rand()*N_pre) for _k in range(C_E)")
Ci.connect(i="int(rand()*N_pre) for _k in range(C_I)")
drive = PoissonInput(P, "v", N=C_E, rate=nu_ext, weight="J*int(not_refractory)")
mon = SpikeMonitor(P, record=False, name="mon")
net = Network(P, Ce, Ci, drive, mon)
b2.built()
net.run(args.ms * ms)
b2.ran()
res = b2.build_and_run()
count = mon.count[:]
sec = args.ms / 1000.0
spikes = int(mon.num_spikes)
res.update(
    workload="w2", engine="brian2", brian2=brian2.__version__, ms=args.ms, seed=SEED,
    neurons=N, synapses=int(len(Ce.i)) + int(len(Ci.i)), spikes=spikes,
    rate_hz=round(spikes / N / sec, 4),
    rates_hz=dict(exc=round(float(count[:N_E].sum()) / N_E / sec, 4),
                  inh=round(float(count[N_E:].sum()) / N_I / sec, 4)),
)
b2.cleanup()
emit(res)
