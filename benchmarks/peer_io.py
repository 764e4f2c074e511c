"""Running a benchmark peer in another interpreter, and timing it the same way.

Some peers cannot share a process with symkb: TensorFlow lives in its own
venv, and PyTensor pins an older numba than symkb's. ``grad.py`` and
``train.py`` hand such a peer a *job* -- a JSON spec plus the weights, data
and reference results as one ``.npz`` -- run a worker module
(``peers_tf.py``, ``peers_pytensor.py``) under that interpreter, and read
the worker's ``.npz`` answer: per implementation a status, first-call time,
timings and the results it computed (gradients or losses), so that every
peer is checked against the others before its timing counts and the table
is still "one run, as ratios".

The module imports only the standard library at load time: ``setup_threads``
must run before numpy (or any BLAS / OpenMP runtime) is loaded, because
those read their thread variables once.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "NUMBA_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
HERE = os.path.dirname(os.path.abspath(__file__))


def setup_threads(threads):
    """Pin every library to ``threads`` threads, as ``rnn.py`` does.

    Sets the thread variables, restricts the CPU affinity to ``threads``
    cores when there are more (XLA sizes its pool from it), unsets the
    OpenBLAS core-type overrides and keeps JAX on the CPU. Child processes
    (the workers) inherit all of it. Returns the affinity in effect.
    """
    for var in THREAD_VARS:
        os.environ[var] = str(threads)
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        os.environ.pop(var, None)
    if threads == 1:
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                                   + " --xla_cpu_multi_thread_eigen=false").strip()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KMP_AFFINITY", "disabled")
    if not hasattr(os, "sched_getaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) > threads:
        os.sched_setaffinity(0, cpus[:threads])
    return sorted(os.sched_getaffinity(0))


# ---- the parent's side ------------------------------------------------------

def run_worker(python, worker, job, arrays, timeout=1800, env=None):
    """Run ``worker`` (a file in benchmarks/) under ``python`` on one job.

    Args:
        python: the interpreter that has the peer installed.
        worker: the worker's file name, e.g. ``"peers_tf.py"``.
        job: JSON-able spec (what to build, which implementations, timing options).
        arrays: weights, data and reference results (name -> numpy array).
        timeout: seconds before the worker is killed.
        env: extra environment variables for the worker.

    Returns:
        ``(results, arrays)``: the worker's list of per-implementation
        records and the arrays it returned. A worker that cannot start or
        crashes yields one ``{"impl": "*", "status": "missing"|"error"}``
        record carrying the reason (its last stderr lines), never silence.
    """
    import numpy as np
    with tempfile.TemporaryDirectory(prefix="symkb-peer-") as tmp:
        src, dst = os.path.join(tmp, "job.npz"), os.path.join(tmp, "result.npz")
        np.savez(src, __job__=np.array(json.dumps(job)), **arrays)
        full_env = dict(os.environ, **(env or {}))
        cmd = [python, os.path.join(HERE, worker), src, dst]
        try:
            done = subprocess.run(cmd, env=full_env, capture_output=True, text=True,
                                  timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            return [{"impl": "*", "status": "error", "reason": f"{type(e).__name__}: {e}"}], {}
        if not os.path.exists(dst):
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            status = "missing" if done.returncode == 3 else "error"
            return [{"impl": "*", "status": status,
                     "reason": f"{worker} under {python} exited {done.returncode}: {tail}"}], {}
        with np.load(dst, allow_pickle=False) as z:
            out = {k: z[k] for k in z.files}
        return json.loads(str(out.pop("__results__"))), out


def default_tf_python() -> str:
    """``SYMKB_BENCH_TF_PYTHON``, else ``/opt/tfenv/bin/python`` when it exists,
    else this interpreter (its tf rows then say what is missing)."""
    return os.environ.get("SYMKB_BENCH_TF_PYTHON") or (
        "/opt/tfenv/bin/python" if os.path.exists("/opt/tfenv/bin/python") else sys.executable)


def inference_timing(repeats) -> dict:
    """A worker's timing rules (:func:`time_fn`) for ``cnn.py`` / ``transformer.py``."""
    return {"repeats": repeats, "warmup": 2, "min_time": 0.25, "wait_quiet": 5.0,
            "retry_busy": 1}


def inference_rows(python, worker, job, arrays, ref, base):
    """The table rows of ``cnn.py`` / ``transformer.py`` for a worker's peers.

    Runs ``job`` (its ``impls``, ``tol`` and ``timing``) in ``worker`` under
    ``python`` with ``arrays`` and the reference ``ref``; each row is ``base``
    plus ``impl``, ``status`` (``ok``, ``wrong (...)``, ``missing (...)``,
    ``error (...)``) and, when timed, ``median_s`` and ``first_s``.
    """
    recs, _ = run_worker(python, worker, dict(job, n_ref=1), dict(arrays, ref_0=ref))
    rows = []
    for rec in recs:
        for name in (job["impls"] if rec["impl"] == "*" else [rec["impl"]]):
            row = dict(base, impl=name)
            if rec["status"] == "ok":
                row.update(status="ok", median_s=rec["median_ms"] / 1e3,
                           first_s=rec["first_s"], max_rel_diff=rec["err"])
            elif rec["status"] == "FAIL":
                row["status"] = f"wrong (relative diff {rec['err']:.2e})"
            else:
                row["status"] = f"{rec['status']} ({rec.get('reason', '')[:120]})"
            rows.append(row)
    return rows


# ---- the worker's side -------------------------------------------------------

def read_job(path):
    """(job spec, arrays) of a job written by :func:`run_worker`."""
    import numpy as np
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    return json.loads(str(arrays.pop("__job__"))), arrays


def write_results(path, results, arrays):
    """The worker's answer: its records and the arrays they name."""
    import numpy as np
    np.savez(path, __results__=np.array(json.dumps(results, default=float)), **arrays)


class Missing(Exception):
    """A peer that cannot run here (not installed, wrong version...)."""


def serve(builders):
    """A worker's main: run ``argv[1]``'s job with ``builders``, answer in ``argv[2]``.

    ``builders`` maps implementation names to ``build(job, arrays) -> fn``;
    the job names the implementations to run and carries the reference
    results they are checked against before they are timed.
    """
    job, arrays = read_job(sys.argv[1])
    ref = [arrays[f"ref_{i}"] for i in range(job["n_ref"])] if job.get("n_ref") else None
    results, out = [], {}
    for name in job["impls"]:
        if name not in builders:
            results.append({"impl": name, "status": "error", "reason": "unknown implementation"})
            continue
        rec, got = check_and_time(name, lambda b=builders[name]: b(job, arrays), job, ref)
        results.append(rec)
        for i, a in enumerate(got or ()):
            out[f"{name}/{i}"] = a
    write_results(sys.argv[2], results, out)


# ---- timing, shared by the parent and the workers ------------------------------

def time_fn(fn, opts):
    """Median of timed calls of ``fn()`` under the rules of ``rnn.py``.

    Waits (up to ``opts['wait_quiet']`` s) for the other processes to leave
    the CPUs idle, then times at least ``opts['repeats']`` calls (more until
    ``opts['min_time']`` s are timed) after ``opts['warmup']`` untimed ones,
    retrying (``opts['retry_busy']`` times, default 1) while other processes
    used more than a quarter of a core, and keeping the least disturbed.
    Returns ``{"median_ms", "min_ms", "n", "foreign_cores"}``.
    """
    sys.path.insert(0, HERE)
    import statistics

    import rnn  # noqa: E402  (CpuMonitor, wait_quiet, time_calls)
    best = None
    for _ in range(1 + opts.get("retry_busy", 1)):
        if opts.get("wait_quiet", 0) > 0:
            rnn.wait_quiet(opts["wait_quiet"])
        with rnn.CpuMonitor() as mon:
            times = rnn.time_calls(lambda _: fn(), None, opts["repeats"], opts["warmup"],
                                   opts.get("min_time", 0.0), max_calls=200)
        rec = {"median_ms": statistics.median(times) * 1e3, "min_ms": min(times) * 1e3,
               "n": len(times), "foreign_cores": mon.foreign_cores}
        if best is None or (rec["foreign_cores"] or 0) < (best["foreign_cores"] or 0):
            best = rec
        if (best["foreign_cores"] or 0) <= rnn.FOREIGN_LIMIT:
            break
    return best


def rel_err(got, ref):
    """The largest difference over paired arrays, each relative to its reference's scale.

    ``inf`` for a missing array, a shape mismatch or a non-finite value: a
    peer that computed something else must fail its check, not pass it.
    """
    import numpy as np
    if ref is None:
        return 0.0
    if got is None or len(got) != len(ref):
        return float("inf")
    worst = 0.0
    for g, r in zip(got, ref):
        g, r = np.asarray(g, np.float64), np.asarray(r, np.float64)
        if g.shape != r.shape or not np.all(np.isfinite(g)):
            return float("inf")
        worst = max(worst, float(np.abs(g - r).max() / (np.abs(r).max() + 1e-12)))
    return worst


def first_results(fn, job):
    """What an implementation is checked on, and its first call's seconds.

    ``grad`` jobs: the first call's arrays. ``train`` jobs: the losses of
    ``steps + 1`` training steps from the initial weights (each step returns
    its loss before its update, so the last is the loss after ``steps``
    updates).
    """
    import numpy as np
    t0 = time.perf_counter()
    first = fn()
    first_s = time.perf_counter() - t0
    if job["kind"] == "train":
        return [np.array([float(first)] + [float(fn()) for _ in range(job["steps"])])], first_s
    return [np.asarray(a) for a in first], first_s


def check_and_time(name, build, job, ref):
    """Build an implementation, check its first results against ``ref``, time it.

    Returns ``(record, results)``. The record's status is ``ok`` (timed),
    ``FAIL`` (differs from the reference by ``err`` >= ``job['tol']``: never
    timed), ``missing`` (not installed: ImportError / :class:`Missing`) or
    ``error`` (it raised; the traceback goes to stderr).
    """
    import traceback
    rec = {"impl": name}
    try:
        t0 = time.perf_counter()
        fn = build()
        setup_s = time.perf_counter() - t0
        got, call_s = first_results(fn, job)
    except (ImportError, Missing) as e:
        return dict(rec, status="missing", reason=f"{type(e).__name__}: {e}"), None
    except Exception as e:  # a peer that breaks is reported, not fatal
        traceback.print_exc(file=sys.stderr)
        return dict(rec, status="error", reason=f"{type(e).__name__}: {e}"), None
    rec.update(setup_s=setup_s, first_s=setup_s + call_s,
               err=rel_err(got, ref), note=getattr(fn, "note", ""))
    if not rec["err"] < job["tol"]:
        return dict(rec, status="FAIL",
                    reason=f"differs from the reference by {rec['err']:.1e}"), got
    rec.update(time_fn(fn, job["timing"]), status="ok")
    return rec, got
