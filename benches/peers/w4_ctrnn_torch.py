"""cortecs peer script: W4 CTRNN (benches/WORKLOADS.md) in torch, CPU, float32.

    python w4_ctrnn_torch.py [--hidden 100] [--threads 1] [--iters 30] [--warmup 5] [--save DIR]

dims [10, H, 2], tanh, alpha = dt/tau = 0.1, batch 32, 100 steps; the
equations and the initialisation of nn4n's CTRNN (whose losses it equals),
written out in torch. Times the forward pass (no_grad) and the training
iteration (zero_grad, forward, MSE, backward through all steps, Adam
lr 1e-3), each the median of --iters after --warmup. --save DIR writes
the initial parameters W_in W_hid b_hid W_out b_out, the data u and target
(float32), y0 (the forward output with the initial parameters) and losses
(float64, before each Adam step) as .npy, for `cortecs workload w4 --arrays DIR`.
Prints one RESULT_JSON line.
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import SEED, emit, now  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--hidden", type=int, default=100)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--iters", type=int, default=30)
ap.add_argument("--warmup", type=int, default=5)
ap.add_argument("--save", metavar="DIR", default=None)
args = ap.parse_args()

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(args.threads)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:
    pass
N_IN, H, N_OUT, STEPS, BATCH, ALPHA = 10, args.hidden, 2, 100, 32, 0.1


class Ctrnn(torch.nn.Module):
    """v_t = (1 - a) v + a (W_hid r + b_hid + W_in u_t), r = tanh(v), y = W_out r + b_out."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(SEED)

        def uniform(shape, fan_in):
            k = 1.0 / fan_in ** 0.5
            return torch.nn.Parameter(torch.rand(*shape) * 2 * k - k)

        # nn4n's order of draws: W_in, W_hid, b_hid, W_out, b_out
        self.W_in = uniform((H, N_IN), N_IN)
        self.W_hid = uniform((H, H), H)
        self.b_hid = uniform((H,), H)
        self.W_out = uniform((N_OUT, H), H)
        self.b_out = uniform((N_OUT,), H)

    def forward(self, u):
        v = torch.zeros(u.shape[1], H, dtype=u.dtype)
        r = torch.tanh(v)
        rs = []
        for t in range(u.shape[0]):
            v = (1 - ALPHA) * v + ALPHA * (r @ self.W_hid.T + self.b_hid + u[t] @ self.W_in.T)
            r = torch.tanh(v)
            rs.append(r)
        return torch.stack(rs, 0) @ self.W_out.T + self.b_out


model = Ctrnn()
gen = torch.Generator().manual_seed(SEED + 1)
u = torch.randn(STEPS, BATCH, N_IN, generator=gen)
target = torch.randn(STEPS, BATCH, N_OUT, generator=gen)
initial = {k: p.detach().clone() for k, p in model.named_parameters()}

fwd = []
with torch.no_grad():
    for k in range(args.warmup + args.iters):
        t = now()
        y = model(u)
        if k >= args.warmup:
            fwd.append(now() - t)
y0 = y.detach().clone()

opt = torch.optim.Adam(model.parameters(), lr=1e-3)
train, losses = [], []
for k in range(args.warmup + args.iters):
    t = now()
    opt.zero_grad(set_to_none=True)
    loss = torch.nn.functional.mse_loss(model(u), target)
    loss.backward()
    opt.step()
    if k >= args.warmup:
        train.append(now() - t)
    losses.append(loss.item())

if args.save:
    os.makedirs(args.save, exist_ok=True)
    arrays = dict(initial, u=u, target=target, y0=y0)
    for name, a in arrays.items():
        np.save(os.path.join(args.save, name + ".npy"), a.numpy().astype(np.float32))
    np.save(os.path.join(args.save, "losses.npy"), np.array(losses, dtype=np.float64))


def spread(v):
    return round(1e3 * statistics.median(v), 4), round(1e3 * min(v), 4), round(1e3 * max(v), 4)


f, flo, fhi = spread(fwd)
tr, tlo, thi = spread(train)
emit(dict(
    workload="w4", engine="torch", torch=torch.__version__, threads=args.threads, hidden=H,
    dims=[N_IN, H, N_OUT], batch=BATCH, steps=STEPS, iters=args.iters, warmup=args.warmup, seed=SEED,
    forward_ms=f, forward_ms_min=flo, forward_ms_max=fhi,
    train_ms=tr, train_ms_min=tlo, train_ms_max=thi,
    loss_first=losses[0], loss_last=losses[-1], train_steps=len(losses),
    y000=float(y0[0, 0, 0]), arrays=args.save,
))
