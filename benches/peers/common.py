"""Helpers of cortecs' peer scripts (benches/peers/, workloads in benches/WORKLOADS.md).

Every script prints exactly one line `RESULT_JSON {...}` on stdout, whatever
else the simulator prints; benches/compare.py reads that line and measures
peak RSS from outside with `/usr/bin/time -f %M`.
"""
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time

SEED = 12345  # the one seed of every workload
N_E_COBA, N_I_COBA = 3200, 800


def now():
    return time.perf_counter()


def maxrss_bytes():
    """Peak RSS of this process so far (getrusage; a cross-check of /usr/bin/time)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def emit(fields):
    """Prints the one RESULT_JSON line (numpy scalars made plain)."""
    out = {}
    for k, v in fields.items():
        if hasattr(v, "tolist"):
            v = v.tolist()
        out[k] = v
    out.setdefault("python", platform.python_version())
    out.setdefault("self_maxrss_bytes", maxrss_bytes())
    sys.stdout.flush()
    print("RESULT_JSON " + json.dumps(out, sort_keys=True), flush=True)


def coba_initial_conditions(np):
    """W1's initial v (mV), g_e and g_i (nS): the same numbers in every engine."""
    n = N_E_COBA + N_I_COBA
    rng = np.random.default_rng(SEED)
    v0 = -60.0 + (rng.standard_normal(n) * 5.0 - 5.0)
    ge0 = (rng.standard_normal(n) * 1.5 + 4.0) * 10.0
    gi0 = (rng.standard_normal(n) * 12.0 + 20.0) * 10.0
    return v0, ge0, gi0


def quiet_nest():
    """Imports NEST with its banner and messages silenced."""
    os.environ.setdefault("PYNEST_QUIET", "1")
    import nest

    try:
        nest.verbosity = nest.VerbosityLevel.ERROR
    except AttributeError:
        nest.set_verbosity("M_ERROR")
    return nest


class Brian2Standalone:
    """Brian2 cpp_standalone with timing marks compiled into the binary: t0
    at its start, t1 after the network is built, t2 after the run; the
    binary runs under /usr/bin/time -f %M for its peak RSS. The project
    folder is kept between runs (one per workload and thread count): Brian2
    rewrites only the files whose code changed, so make recompiles nothing
    after the first run (compile_s shows it); the results are removed.

        b2 = Brian2Standalone("w1", threads)   # before any Brian2 object
        b2.start(); ...build...; b2.built(); net.run(...); b2.ran()
        info = b2.build_and_run()              # compile, run, read the marks
        ... read monitors ...; b2.cleanup()
    """

    def __init__(self, tag, threads):
        from brian2 import prefs, set_device

        self.dir = os.path.join(tempfile.gettempdir(), "cortecs-peers-brian2", f"{tag}_t{threads}")
        shutil.rmtree(os.path.join(self.dir, "results"), ignore_errors=True)
        set_device("cpp_standalone", directory=self.dir, build_on_run=False)
        prefs.logging.console_log_level = "WARNING"
        prefs.devices.cpp_standalone.openmp_threads = threads
        prefs.devices.cpp_standalone.extra_make_args_unix = ["-j2"]
        self.rss_file = self.dir + ".rss"
        prefs.devices.cpp_standalone.run_cmd_unix = ["/usr/bin/time", "-f", "%M", "-o", self.rss_file, "./main"]
        self.threads = threads

    @staticmethod
    def _code(slot, text):
        from brian2 import device

        device.insert_code(slot, text)

    def start(self):
        self._code("before_start", "struct timespec __c0, __c1, __c2; clock_gettime(CLOCK_MONOTONIC, &__c0);")

    def built(self):
        self._code("main", "clock_gettime(CLOCK_MONOTONIC, &__c1);")

    def ran(self):
        self._code(
            "main",
            "clock_gettime(CLOCK_MONOTONIC, &__c2);\n"
            "{ std::ofstream f(brian::results_dir + \"/cortecs_marks.txt\"); f.precision(9);\n"
            "  f << (__c1.tv_sec - __c0.tv_sec) + 1e-9 * (__c1.tv_nsec - __c0.tv_nsec) << ' '\n"
            "    << (__c2.tv_sec - __c1.tv_sec) + 1e-9 * (__c2.tv_nsec - __c1.tv_nsec) << std::endl; }",
        )

    def build_and_run(self):
        """Generates, compiles and runs the binary; build_s and sim_s are measured inside it."""
        from brian2 import device

        t = now()
        device.build(directory=self.dir, compile=True, run=True, clean=False, with_output=False)
        total = now() - t
        compile_s = device.timers["compile"]["make"]
        run_s = device.timers["run_binary"]
        with open(os.path.join(device.results_dir, "cortecs_marks.txt")) as f:
            build_s, sim_s = (float(x) for x in f.read().split())
        with open(self.rss_file) as f:
            rss_kib = int(f.read().split()[-1])
        return dict(
            mode="cpp_standalone", openmp=self.threads > 0, threads=max(1, self.threads),
            build_s=round(build_s, 4), sim_s=round(sim_s, 4), compile_s=round(compile_s, 3),
            codegen_s=round(total - compile_s - run_s - (device.timers["compile"]["clean"] or 0.0), 3),
            peak_rss_bytes=rss_kib * 1024, peak_rss_of="the compiled binary",
        )

    def cleanup(self):
        shutil.rmtree(os.path.join(self.dir, "results"), ignore_errors=True)
        try:
            os.remove(self.rss_file)
        except OSError:
            pass
