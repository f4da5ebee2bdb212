#!/usr/bin/env python3
"""Runs the reference workloads W1-W5 (benches/WORKLOADS.md) in cortecs and in
every peer simulator installed, side by side, and prints one markdown table.

    python3 benches/compare.py                     # everything, 5 timed runs each
    python3 benches/compare.py --reps 3 --threads 1 --only 'W1|W4'
    python3 benches/compare.py --out BENCH.md      # also BENCH.jsonl: every run's RESULT_JSON

Method, the same for every engine: for each workload and thread count,
one warm-up run of each engine, then --reps runs each, the engines taking
turns run by run (the order rotating each round); every run is a separate
process under GNU `/usr/bin/time -f %M` (peak RSS; for Brian2's
cpp_standalone the compiled binary's, measured the same way); the table
shows medians, and cortecs' time over the peer's as the median of the
per-round ratios with their min-max. W4: torch writes its parameters,
data and output as .npy and cortecs runs those same arrays in the same
round (`workload w4 --arrays DIR --train`), so the table shows max |Δy|.

Peers: Brian2 with $BRIAN2_PY (default ~/brian2-venv/bin/python); NEST and
torch with $PEERS_VENV/bin/python (default ~/peers-venv). Missing ones are
rows saying "not installed". Python 3 standard library only; builds
target/release/cortecs with `cargo build --release` if it is missing.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.path.join(ROOT, "benches", "peers")
BIN = os.path.join(ROOT, "target", "release", "cortecs")
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
HOME = os.path.expanduser("~")
BRIAN2_PY = os.environ.get("BRIAN2_PY", os.path.join(HOME, "brian2-venv", "bin", "python"))
PEERS_PY = os.path.join(os.environ.get("PEERS_VENV", os.path.join(HOME, "peers-venv")), "bin", "python")
INSTALL = {
    "brian2": "python3 -m venv ~/brian2-venv && ~/brian2-venv/bin/pip install brian2 'numpy<2'",
    "nest": "~/peers-venv/bin/pip install nest-simulator",
    "torch": "python3 -m venv ~/peers-venv && ~/peers-venv/bin/pip install torch numpy",
}
# (low, high) of the rate each spiking workload should show (WORKLOADS.md)
RATE_CHECK = {"W1": (15.0, 21.0), "W2": (31.0, 33.0), "W5": (30.0, 31.0)}


LEFT_OUT = set()  # installed peers that --engines leaves out


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def python_has(py, module):
    """The version of `module` under interpreter `py`, or None."""
    if not os.access(py, os.X_OK):
        return None
    code = f"import {module}, sys; sys.stdout.write(str({module}.__version__))"
    try:
        p = subprocess.run([py, "-c", code], capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, PYNEST_QUIET="1"))
    except (OSError, subprocess.TimeoutExpired):
        return None
    return p.stdout.strip().splitlines()[-1] if p.returncode == 0 and p.stdout.strip() else None


def ensure_binary():
    if os.access(BIN, os.X_OK):
        return
    log(f"{BIN} is missing: cargo build --release")
    subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError):
        return None


def run(argv, threads, args):
    """One process: its RESULT_JSON fields plus the peak RSS (bytes) and wall time."""
    fd, tpath = tempfile.mkstemp(prefix="cortecs-compare-time-")
    os.close(fd)
    cmd = ([TIME, "-f", "%M", "-o", tpath] if TIME else []) + argv
    env = dict(os.environ, PYNEST_QUIET="1", OMP_NUM_THREADS=str(threads))
    if args.omp_wait_policy:
        env["OMP_WAIT_POLICY"] = args.omp_wait_policy
    timeout = args.timeout
    load = loadavg()
    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        out, err, rc = p.stdout, p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:
        out, err, rc = (e.stdout or b"").decode(errors="replace"), f"timed out after {timeout} s", -1
    wall = time.perf_counter() - t
    rss = None
    try:
        with open(tpath) as f:
            rss = int(f.read().split()[-1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    os.remove(tpath)
    rec = None
    for line in out.splitlines():
        if line.startswith("RESULT_JSON "):
            rec = json.loads(line[len("RESULT_JSON "):])
    if rec is None or rc != 0:
        return dict(ok=False, rc=rc, argv=argv, stderr_tail=err[-1500:], stdout_tail=out[-500:], loadavg_before=load)
    rec.update(ok=True, argv=argv, wall_s=round(wall, 3), loadavg_before=load)
    if rec.get("peak_rss_of") != "the compiled binary":
        rec["process_peak_rss_bytes"] = rss
        rec["peak_rss_bytes"] = rss if rss is not None else rec.get("peak_rss_bytes", rec.get("self_maxrss_bytes"))
    return rec


def cases(args, have):
    """(label, threads, [(engine, argv, kind)]): kind 'run' or 'empty' (W3's RSS baseline)."""
    C = [BIN]
    ms = ["--ms", str(args.ms)]
    out = []
    for t in args.threads:
        b2t = "0" if t == 1 else str(t)  # 0: Brian2 standalone without OpenMP
        ct = ["--threads", str(t), "workload"]
        for w, script in (("W1", "w1_coba"), ("W2", "w2_brunel"), ("W5", "w5_brunel_stdp")):
            eng = [("cortecs", C + ct + [w.lower(), "--json"] + ms, "run"),
                   ("brian2", [BRIAN2_PY, os.path.join(PEERS, script + "_brian2.py"), "--threads", b2t] + ms, "run")]
            if w != "W5":
                eng.append(("nest", [PEERS_PY, os.path.join(PEERS, script + "_nest.py"), "--threads", str(t)] + ms,
                            "run"))
            out.append((w, t, eng))
        eng = [("cortecs", C + ct + ["w3", "--json"], "run"), ("cortecs", C + ct + ["w3-empty", "--json"], "empty"),
               ("nest", [PEERS_PY, os.path.join(PEERS, "w3_build_nest.py"), "--threads", str(t)], "run"),
               ("nest", [PEERS_PY, os.path.join(PEERS, "w3_build_nest.py"), "--threads", str(t), "--empty"], "empty")]
        if t == 1:  # Brian2's runtime mode runs on one thread
            eng += [("brian2", [BRIAN2_PY, os.path.join(PEERS, "w3_build_brian2.py")], "run"),
                    ("brian2", [BRIAN2_PY, os.path.join(PEERS, "w3_build_brian2.py"), "--empty"], "empty")]
        out.append(("W3", t, eng))
        for h in args.hidden:
            d = os.path.join(args.tmp, f"w4_h{h}")
            if "torch" in have:
                cort = C + ct + ["w4", "--json", "--train", "--arrays", d]
            else:
                cort = C + ct + ["w4", "--json", "--train", "--hidden", str(h)]
            out.append((f"W4 H={h}", t, [
                ("torch", [PEERS_PY, os.path.join(PEERS, "w4_ctrnn_torch.py"), "--hidden", str(h), "--threads",
                           str(t), "--save", d], "run"),
                ("cortecs", cort, "run")]))
    order = {"W1": 0, "W2": 1, "W3": 2, "W4": 3, "W5": 4}
    out.sort(key=lambda c: (order[c[0][:2]], c[0], c[1]))
    return [c for c in out if not args.only or re.search(args.only, c[0])]


def measure(args, have, jsonl):
    results = {}  # (label, threads, engine, kind) -> list of records
    for label, t, engines in cases(args, have):
        present = [e for e in engines if e[0] in have]
        for engine, _, kind in engines:
            results.setdefault((label, t, engine, kind), [])
        for rnd in range(1 + args.reps):
            k = rnd % len(present) if present else 0
            # W4: torch first in the warm-up round, so its arrays exist before cortecs reads them
            turn = present if rnd == 0 else present[k:] + present[:k]
            for engine, argv, kind in turn:
                rec = run(argv, t, args)
                rec.update(case=label, engine_name=engine, kind=kind, threads_asked=t, round=rnd, warmup=rnd == 0)
                jsonl.append(rec)
                brief = f"sim {rec.get('sim_s')}" if "sim_s" in rec else (
                    f"forward {rec.get('forward_ms')} ms" if "forward_ms" in rec else f"build {rec.get('build_s')}")
                log(f"{label} t{t} {engine}{' (empty)' if kind == 'empty' else ''} "
                    f"{'warm-up' if rnd == 0 else f'run {rnd}'}: "
                    + (brief if rec["ok"] else f"FAILED rc={rec['rc']}: {rec['stderr_tail'][-300:]}"))
                if rnd > 0:
                    results[(label, t, engine, kind)].append(rec)
    return results


def med(recs, key):
    v = [r[key] for r in recs if r.get("ok") and isinstance(r.get(key), (int, float))]
    return statistics.median(v) if v else None


def secs(x):
    return "-" if x is None else f"{x:.3f} s"


def millis(x):
    return "-" if x is None else f"{x:.2f} ms"


def mib(b):
    return "-" if b is None else f"{b / 1048576:.0f} MiB"


def ratio_cell(mine, theirs, key):
    """Median and min-max of cortecs/peer over the rounds (paired by round)."""
    a = {r["round"]: r[key] for r in mine if r.get("ok") and r.get(key)}
    b = {r["round"]: r[key] for r in theirs if r.get("ok") and r.get(key)}
    q = [a[k] / b[k] for k in sorted(a) if k in b]
    if not q:
        return "-"
    return f"{statistics.median(q):.2f} ({min(q):.2f}-{max(q):.2f})"


def spiking_check(label, recs):
    rate = med(recs, "rate_hz")
    if rate is None:
        return "-"
    lo, hi = RATE_CHECK[label]
    parts = [f"{rate:.2f} Hz"]
    rates = next((r.get("rates_hz") for r in recs if r.get("ok")), None) or {}
    if {"exc", "inh"} <= set(rates):
        parts[0] += f" (E {rates['exc']:.2f}, I {rates['inh']:.2f})"
    verdict = "ok" if lo <= rate <= hi else f"**outside {lo:g}-{hi:g} Hz**"
    if med(recs, "ms") != 1000.0:
        verdict = "(the check is for 1000 ms)"
    learning = [r["learning"][0] for r in recs if r.get("ok") and r.get("learning")]
    if learning:
        w = statistics.median(x["w_mean"] for x in learning)
        parts.append(f"mean w {w:.5f} mV")
        if abs(w - 0.0988) > 0.0005 and verdict == "ok" and med(recs, "ms") == 1000.0:
            verdict = "**mean w off 0.0988**"
    return ", ".join(parts) + " " + verdict


def rows_of(results, have):
    rows = []
    labels = []
    for (label, t, engine, kind) in results:
        if (label, t) not in labels:
            labels.append((label, t))
    for label, t in labels:
        engines = [e for (l2, t2, e, k) in results if (l2, t2) == (label, t) and k == "run"]
        engines.sort(key=lambda e: e != "cortecs")  # cortecs first, the peers in their order
        mine = results.get((label, t, "cortecs", "run"), [])
        for engine in engines:
            recs = results[(label, t, engine, "run")]
            if engine not in have:
                why = "left out (--engines)" if engine in LEFT_OUT else "not installed"
                rows.append([label, engine, t, why, "", "", "", "", ""])
                continue
            ok = [r for r in recs if r.get("ok")]
            if not ok:
                rows.append([label, engine, t, "failed (see the .jsonl)", "", "", "", "", ""])
                continue
            rss = med(recs, "peak_rss_bytes")
            vs = lambda key: "" if engine == "cortecs" else ratio_cell(mine, recs, key)  # noqa: E731
            if label.startswith("W4"):
                dy = med(recs, "max_abs_dy")
                fcheck = f"max abs dy {dy:.1e}" + (" ok" if dy < 1e-5 else " **>= 1e-5**") if dy is not None \
                    else f"y[0,0,0] {ok[0]['y000']:.6f}"
                rows.append([f"{label} forward", engine, t, "-", millis(med(recs, "forward_ms")), mib(rss), "-",
                             fcheck, vs("forward_ms")])
                rel = med(recs, "loss_first_rel_diff")
                lcheck = f"first loss {ok[0]['loss_first']:.6f}" + (
                    "" if rel is None else f", rel. diff {rel:.1e}" + (" ok" if rel < 1e-4 else " **>= 1e-4**"))
                rows.append([f"{label} train iteration", engine, t, "-", millis(med(recs, "train_ms")), mib(rss),
                             "-", lcheck, vs("train_ms")])
                continue
            if label == "W3":
                empty = results.get((label, t, engine, "empty"), [])
                base, syn = med(empty, "peak_rss_bytes"), med(recs, "synapses")
                bps = "-" if base is None or rss is None or not syn else f"{(rss - base) / syn:.1f} (RSS)"
                if engine == "cortecs" and med(recs, "bytes_per_synapse"):
                    bps += f", {med(recs, 'bytes_per_synapse'):.1f} (store)"
                check = f"{syn:,.0f} synapses" + (" ok" if abs(syn - 1e7) < 1e4 else " **off**")
                rows.append([label, engine, t, secs(med(recs, "build_s")), "-", mib(rss), bps, check, vs("build_s")])
                continue
            bps = med(recs, "bytes_per_synapse")
            bps = "-" if bps is None else f"{bps:.1f} (store)"
            learning = [r["learning"][0]["bytes_per_synapse"] for r in ok if r.get("learning") and
                        "bytes_per_synapse" in r["learning"][0]]
            if learning:
                bps += f", {statistics.median(learning):.1f} (E->E with STDP state)"
            rows.append([label, engine, t, secs(med(recs, "build_s")), secs(med(recs, "sim_s")), mib(rss),
                         bps, spiking_check(label, recs), vs("sim_s")])
    return rows


def versions(jsonl, have):
    v = {"cortecs": git_commit()}
    for r in jsonl:
        for key in ("brian2", "nest", "torch"):
            if r.get("ok") and r.get(key):
                v[key] = r[key]
    for key in ("brian2", "nest", "torch"):
        v.setdefault(key, have.get(key, "left out" if key in LEFT_OUT else "not installed"))
    for name, cmd in (("rustc", ["rustc", "--version"]), ("gcc", ["gcc", "--version"])):
        try:
            line = subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0]
            v[name] = line.split(" ", 1)[1] if line.startswith(name + " ") else line
        except (OSError, IndexError):
            v[name] = "?"
    v["python"] = platform.python_version()
    return v


def git_commit():
    try:
        c = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        d = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True)
        return c.stdout.strip() + (" (with local changes)" if d.stdout.strip() else "") if c.returncode == 0 else "?"
    except OSError:
        return "?"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def table(rows, args, meta):
    L = [f"Measured {meta['date']} on {meta['cpu']} ({meta['cores']} cores; load average {meta['load']}) by `python3 benches/compare.py {' '.join(meta['argv'])}` in {meta['wall_min']:.1f} min: "
         f"one warm-up, then the median of {args.reps} alternating runs per engine; "
         f"{'' if TIME else 'NO /usr/bin/time: in-process peak RSS; '}"
         f"OMP_WAIT_POLICY={args.omp_wait_policy or '(unset)'}; "
         "the last column is cortecs' time over the peer's (median of the per-round ratios, min-max), "
         "on sim (W1, W2, W5), build (W3) or per iteration (W4).",
         "",
         "Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()) + ".",
         "",
         "| workload | engine | threads | build | sim / iteration | peak RSS | bytes/synapse | check | cortecs / peer |",
         "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    L += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    notes = [k for k in INSTALL if k not in meta["have"] and k not in LEFT_OUT]
    if LEFT_OUT:
        L += ["", "Left out by --engines: " + ", ".join(sorted(LEFT_OUT)) + "."]
    if notes:
        L += ["", "Not installed: " + "; ".join(f"{k} (`{INSTALL[k]}`)" for k in notes) + "."]
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5, help="timed runs per engine after one warm-up (default 5)")
    ap.add_argument("--threads", default="1,2", help="thread counts, comma-separated (default 1,2)")
    ap.add_argument("--only", default=None, help="regex on the workload label: W1, W2, W3, 'W4 H=100', W5")
    ap.add_argument("--hidden", default="100,1000", help="W4 hidden sizes (default 100,1000)")
    ap.add_argument("--ms", type=float, default=1000.0, help="biological ms of W1, W2, W5 (default 1000)")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds one run may take (default 1800)")
    ap.add_argument("--omp-wait-policy", default="PASSIVE",
                    help="OMP_WAIT_POLICY of every run (default PASSIVE: on a shared machine, spinning OpenMP "
                         "threads wait for descheduled ones; '' leaves it unset)")
    ap.add_argument("--engines", default=None,
                    help="peers to run, comma-separated (brian2,nest,torch; default every one installed)")
    ap.add_argument("--out", default=None, help="write the table to FILE and every run to FILE's stem + .jsonl")
    args = ap.parse_args()
    args.threads = [int(x) for x in args.threads.split(",") if x]
    args.hidden = [int(x) for x in args.hidden.split(",") if x]
    if args.reps < 1:
        ap.error("--reps must be at least 1")
    t0 = time.perf_counter()
    meta = dict(date=datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), cpu=cpu_model(), cores=os.cpu_count(),
                load=open("/proc/loadavg").read().split()[0] if os.path.exists("/proc/loadavg") else "?",
                argv=sys.argv[1:])
    ensure_binary()
    have = {"cortecs": "built"}
    for engine, py, module in (("brian2", BRIAN2_PY, "brian2"), ("nest", PEERS_PY, "nest"),
                               ("torch", PEERS_PY, "torch")):
        v = python_has(py, module)
        if v and args.engines is not None and engine not in args.engines.split(","):
            log(f"{engine}: left out (--engines)")
            LEFT_OUT.add(engine)
            continue
        if v:
            have[engine] = v
        log(f"{engine}: {v or 'not installed'} ({py})")
    args.tmp = tempfile.mkdtemp(prefix="cortecs-compare-")
    jsonl = []
    try:
        results = measure(args, have, jsonl)
    finally:
        shutil.rmtree(args.tmp, ignore_errors=True)
    loads = [r["loadavg_before"] for r in jsonl if r.get("loadavg_before") is not None]
    if loads:
        meta["load"] += f" at the start, {min(loads):.1f}-{max(loads):.1f} during the runs"
    meta.update(wall_min=(time.perf_counter() - t0) / 60, versions=versions(jsonl, have), have=have)
    text = table(rows_of(results, have), args, meta)
    print(text, end="")
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
        raw = os.path.splitext(args.out)[0] + ".jsonl"
        with open(raw, "w") as f:
            for r in jsonl:
                f.write(json.dumps(r, sort_keys=True) + "\n")
        log(f"wrote {args.out} and {raw}")


if __name__ == "__main__":
    main()
