"""cortecs peer script: W5, W2 with pair STDP on E -> E (benches/WORKLOADS.md), in Brian2 cpp_standalone.

    python w5_brunel_stdp_brian2.py [--threads 0|2] [--ms 1000] [--seed 12345]

Brian2's examples/synapses/STDP.py rule (additive, all-to-all, event-driven
traces) on the 10 M E -> E synapses; the pre pathway arrives after D, the
post one at once. Prints one RESULT_JSON line with the final E -> E weights.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import SEED, Brian2Standalone, emit  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--threads", type=int, default=0)
ap.add_argument("--ms", type=float, default=1000.0)
ap.add_argument("--seed", type=int, default=SEED)
args = ap.parse_args()

import brian2  # noqa: E402
from brian2 import NeuronGroup, Network, PoissonInput, SpikeMonitor, Synapses, defaultclock, ms, mV, seed  # noqa: E402

b2 = Brian2Standalone("w5", args.threads)
defaultclock.dt = 0.1 * ms
N_E, N_I, C_E, C_I = 10000, 2500, 1000, 250
N = N_E + N_I
tau, theta, J, g, D = 20 * ms, 20 * mV, 0.1 * mV, 5.0, 1.5 * ms
nu_ext = 2.0 * theta / (J * C_E * tau)
taupre = taupost = 20 * ms
Apre = 0.01 * J
Apost = -1.05 * Apre
wmax = 2 * J
seed(args.seed)

b2.start()
P = NeuronGroup(N, "dv/dt = -v/tau : volt (unless refractory)", threshold="v >= theta",
                reset="v = 0*mV", refractory=2 * ms, method="exact", name="P")
P.v = 0 * mV
Cee = Synapses(
    P[:N_E], P[:N_E],
    model="""w : volt
             dapre/dt = -apre/taupre : volt (event-driven)
             dapost/dt = -apost/taupost : volt (event-driven)""",
    on_pre="""v_post += w*int(not_refractory_post)
              apre += Apre
              w = clip(w + apost, 0*mV, wmax)""",
    on_post="""apost += Apost
               w = clip(w + apre, 0*mV, wmax)""",
    delay=D, name="Cee")
Cei = Synapses(P[:N_E], P[N_E:], on_pre="v_post += J*int(not_refractory_post)", delay=D, name="Cei")
Ci = Synapses(P[N_E:], P, on_pre="v_post += -g*J*int(not_refractory_post)", delay=D, name="Ci")
Cee.connect(i="int(rand()*N_pre) for _k in range(C_E)")
Cei.connect(i="int(rand()*N_pre) for _k in range(C_E)")
Ci.connect(i="int(rand()*N_pre) for _k in range(C_I)")
Cee.w = J
drive = PoissonInput(P, "v", N=C_E, rate=nu_ext, weight="J*int(not_refractory)")
mon = SpikeMonitor(P, record=False, name="mon")
net = Network(P, Cee, Cei, Ci, drive, mon)
b2.built()
net.run(args.ms * ms)
b2.ran()
res = b2.build_and_run()
w = Cee.w[:] / mV
count = mon.count[:]
sec = args.ms / 1000.0
spikes = int(mon.num_spikes)
res.update(
    workload="w5", engine="brian2", brian2=brian2.__version__, ms=args.ms, seed=args.seed,
    neurons=N, synapses=int(len(Cee.i)) + int(len(Cei.i)) + int(len(Ci.i)), spikes=spikes,
    rate_hz=round(spikes / N / sec, 4),
    rates_hz=dict(exc=round(float(count[:N_E].sum()) / N_E / sec, 4),
                  inh=round(float(count[N_E:].sum()) / N_I / sec, 4)),
    learning=[dict(projection="exc_exc", synapses=int(len(w)), w_mean=round(float(w.mean()), 7),
                   w_std=round(float(w.std()), 7), at_zero=int((w <= 0).sum()),
                   at_max=int((w >= 0.2 - 1e-12).sum()))],
)
b2.cleanup()
emit(res)
