#!/usr/bin/env python3
"""Compile-time benchmark: where symkb's time to first prediction goes.

    python benchmarks/compile.py [--models readme,W2,five] [--json PATH]
    python benchmarks/rnn.py --compile ...      (the same; so is `symkb bench --compile`)

For each model, fresh processes (2 threads, like rnn.py) run on caches of
their own:

1. ``cold``: empty ``NUMBA_CACHE_DIR`` and ``SYMKB_CACHE_DIR``; the model
   is built, compiled for the cpu target and called once. The same process
   waits for what symkb compiles in the background (``background`` rows:
   ``symkb.wait_compiles``), then compiles the model with one recurrent
   layer's ``units`` changed (``units, same process``) and with every layer
   renamed (``names, same process``), waiting after each.
2. ``warm``: a new process on the caches the cold compile left (restored
   from a copy taken before the variants compiled): import, build, compile
   (a cache load) and first call; its ``ready`` figure is the warm start.
3. ``units, new process`` / ``names, new process``: the variants, each in a
   new process on those same caches.

Every row shows the executable's ``compile_phases`` (``symkb/lower/timing.py``),
the wall time of ``symkb.compile``, of the first call, and of the two
together; rows of a new process also ``ready``: import + build + compile +
first call. The ``target`` column holds issue 15's targets. Each compiled
model is checked against the interpreter (two samples) after it is timed.
A separate row times ``import symkb`` (median of ``--import-runs`` processes).
"""
from __future__ import annotations

import time

_T0 = time.perf_counter()  # a child's clock starts before numpy and symkb load

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "NUMBA_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")

# name -> (layers: [(kind, {options})], (time, features), batch); kinds below in
# build_model. The layer marked "vary" is the one the units variant widens by 8.
_SEQ = {"return_sequences": True}
_SOFTMAX4 = ("Dense", {"units": 4, "activation": "softmax"})
MODELS = {
    "readme": ([("LSTM", {"units": 16, "vary": True, **_SEQ}), _SOFTMAX4], (20, 8), 32),
    "W1": ([("SimpleRNN", {"units": 64, "vary": True, **_SEQ})], (100, 32), 32),
    "W2": ([("LSTM", {"units": 128, "vary": True, **_SEQ})], (100, 64), 32),
    "W3": ([("LSTM", {"units": 512, "vary": True, **_SEQ})], (50, 256), 128),
    "W4": ([("SimpleRNN", {"units": 16, "vary": True, **_SEQ})], (2000, 8), 1),
    "W5": ([("GRU", {"units": 128, "vary": True, "reset_after": True, **_SEQ})], (100, 64), 32),
    "demo": ([("LSTM", {"units": 16, "vary": True, **_SEQ}), _SOFTMAX4], (20, 8), 32),
    "five": ([("Masking", {"mask_value": 0.0}), ("BiLSTM", {"units": 32, "vary": True, **_SEQ}),
              ("GRU", {"units": 32, "reset_after": True}), ("Dense", {"units": 10})],
             (30, 16), 32),
}
DESCRIPTIONS = {
    "readme": "the README's model: LSTM 16 over (20, 8) -> Dense 4 softmax",
    "W1": "SimpleRNN 64 over (100, 32), batch 32", "W2": "LSTM 128 over (100, 64), batch 32",
    "W3": "LSTM 512 over (50, 256), batch 128", "W4": "SimpleRNN 16 over (2000, 8), batch 1",
    "W5": "GRU 128 (reset_after) over (100, 64), batch 32",
    "demo": "`symkb demo`'s model (input 'tokens', model 'demo')",
    "five": "Input -> Masking -> Bidirectional(LSTM 32) -> GRU 32 -> Dense 10 over (30, 16)",
}
# Gradient and train-step graphs (``grad.py``'s W2g, ``train.py``'s T1-T3): name ->
# (recurrent cell or None for the MLP, units, (time, features) or (features,), batch)
STEP_GRAPHS = {
    "W2g": ("lstm", 128, (100, 64), 32),
    "T1": ("lstm", 128, (100, 64), 32),
    "T2": (None, 512, (784,), 256),
    "T3": ("gru", 128, (100, 64), 32),
}
DESCRIPTIONS.update({
    "W2g": "W2's loss (mean squared error of the sequence) + gradients of every weight "
           "(grad.py's W2g), one K.function",
    "T1": "train step (train_on_batch, SGD, sparse cross-entropy): LSTM 128 over (100, 64) "
          "-> Dense 10, batch 32",
    "T2": "train step: MLP 784 -> 512 relu -> 512 relu -> 10, batch 256",
    "T3": "train step: GRU 128 (reset_after) over (100, 64) -> Dense 10, batch 32",
})
# issue 15's targets, seconds: (model or None for any, case) -> limit on the figure named
TARGETS = {("readme", "cold"): 1.5, ("W2", "cold"): 1.5, ("demo", "cold"): 2.0,
           ("five", "cold"): 3.0, ("W2g", "cold"): 3.0}
VARIANT_TARGET, WARM_TARGET, IMPORT_TARGET = 0.3, 0.5, 0.3
PHASE_COLUMNS = ("import", "passes", "codegen", "cache", "setup", "typing", "llvm", "load",
                 "beside", "numba")


# ---------------------------------------------------------------- the child

def build_model(name: str, variant: str):
    """The model ``name`` as ``variant`` ('base', 'units': the varied layer 8
    units wider, 'names': every layer and the model named explicitly)."""
    import symkb
    from symkb import layers
    spec, (steps, features), _ = MODELS[name]
    named = variant == "names"

    def label(kind):
        return {"name": f"{kind.lower()}_renamed"} if named else {}

    input_name = "tokens" if name == "demo" and not named else ("input_renamed" if named else None)
    stack = [layers.Input((steps, features), name=input_name)]
    for kind, options in spec:
        options = dict(options)
        if options.pop("vary", False) and variant == "units":
            options["units"] += 8
        if kind == "BiLSTM":
            stack.append(layers.Bidirectional(layers.LSTM(**options), **label(kind)))
        else:
            stack.append(getattr(layers, kind)(**options, **label(kind)))
    model_name = "other" if named else ("demo" if name == "demo" else None)
    return symkb.Sequential(stack, name=model_name)


def build_step_model(name: str, variant: str):
    """The model of the gradient or train-step graph ``name`` (``variant`` as in
    :func:`build_model`), weights drawn from a fixed seed."""
    import numpy as np
    import symkb
    from symkb import layers
    cell, units, shape, _ = STEP_GRAPHS[name]
    units += 8 if variant == "units" else 0
    named = variant == "names"

    def label(kind):
        return {"name": f"{kind}_renamed"} if named else {}

    stack = [layers.Input(shape, **label("input"))]
    if cell is None:
        stack += [layers.Dense(units, activation="relu", **label("dense_a")),
                  layers.Dense(units, activation="relu", **label("dense_b"))]
    elif cell == "lstm":
        stack.append(layers.LSTM(units, return_sequences=name == "W2g", **label("lstm")))
    else:
        stack.append(layers.GRU(units, reset_after=True, **label("gru")))
    if name != "W2g":
        stack.append(layers.Dense(10, activation="softmax", **label("head")))
    model = symkb.Sequential(stack, name="other" if named else None)
    rng = np.random.default_rng(7)
    model.set_weights([(rng.standard_normal(w.shape) * 0.1).astype(np.float32)
                       for w in model.get_weights()])
    return model


def _step_function(name: str, model, target: str):
    """``(call, executable or None)``: ``call(x, y)`` runs the graph once and returns
    its results (a train step: the loss; it updates the model's weights)."""
    import symkb
    from symkb import backend as K
    if name == "W2g":
        y = K.placeholder(shape=(None,) + tuple(model.output.shape[1:]), name="y")
        loss = K.mean(K.square(model.output - y))
        fn = K.function([model.input, y], [loss] + K.gradients(loss, model.trainable_weights),
                        target=target)
        return (lambda x, t: fn([x, t])), fn
    model.compile(optimizer=symkb.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                  target=target)
    return (lambda x, t: [model.train_on_batch(x, t)]), None


def child_step(name: str, variant: str) -> dict:
    """Build, compile and run the gradient or train-step graph once; the interpreter check
    runs the same graph from the same weights."""
    import numpy as np
    cell, _, shape, batch = STEP_GRAPHS[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch,) + shape).astype(np.float32)
    t0 = time.perf_counter()
    model = build_step_model(name, variant)
    weights = model.get_weights()
    t1 = time.perf_counter()
    call, fn = _step_function(name, model, "cpu")
    t = (rng.standard_normal((batch,) + tuple(model.output.shape[1:])).astype(np.float32)
         if name == "W2g" else rng.integers(0, 10, size=(batch,)))
    t2 = time.perf_counter()
    results = call(x, t)
    t3 = time.perf_counter()
    executable = fn if fn is not None else model._training.train_fn
    phases = dict(getattr(executable, "compile_phases", {}))
    # a train step compiles inside its first call: the compile is what its phases add up to
    compile_s = (t2 - t1) if fn is not None else min(sum(phases.values()), t3 - t1)
    twin = build_step_model(name, variant)
    twin.set_weights(weights)
    expected = _step_function(name, twin, "interpreter")[0](x, t)
    diff = max(float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))
               / max(1.0, float(np.max(np.abs(np.asarray(b, np.float64)))))
               for a, b in zip(results, expected))
    return {"build_s": t1 - t0, "compile_s": compile_s, "first_call_s": t3 - t1 - compile_s,
            "phases": phases, "max_abs_diff": diff,
            "cache_hit": bool(getattr(executable, "cache_hit", False)), "ready_s": t3 - _T0}


def child_compile(name: str, variant: str) -> dict:
    """Build, compile and call the model; the figures and the interpreter check."""
    if name in STEP_GRAPHS:
        return child_step(name, variant)
    import numpy as np
    import symkb
    _, (steps, features), batch = MODELS[name]
    t0 = time.perf_counter()
    model = build_model(name, variant)
    t1 = time.perf_counter()
    compiled = symkb.compile(model, target="cpu")
    t2 = time.perf_counter()
    x = np.random.default_rng(0).standard_normal((batch, steps, features)).astype(np.float32)
    compiled(x)
    t3 = time.perf_counter()
    expected = symkb.compile(model, target="interpreter")(x[:2])
    diff = float(np.max(np.abs(np.asarray(compiled(x[:2])) - expected)))
    return {"build_s": t1 - t0, "compile_s": t2 - t1, "first_call_s": t3 - t2,
            "phases": dict(getattr(compiled, "compile_phases", {})), "max_abs_diff": diff,
            "cache_hit": bool(getattr(compiled, "cache_hit", False)), "ready_s": t3 - _T0}


def child_main(plan: dict) -> None:
    """Run ``plan`` (``{'model', 'steps': [...]}``), printing one RESULT line a step."""
    if str(REPO_ROOT) not in sys.path:  # the working tree's symkb
        sys.path.insert(0, str(REPO_ROOT))
    start = time.perf_counter()
    import numpy  # noqa: F401
    import symkb  # noqa: F401
    _emit({"step": "import", "import_s": time.perf_counter() - start})
    for step in plan["steps"]:
        if step["kind"] == "snapshot":
            for var in ("NUMBA_CACHE_DIR", "SYMKB_CACHE_DIR"):
                shutil.copytree(os.environ[var], Path(step["to"]) / var, dirs_exist_ok=True)
            continue
        if step["kind"] == "wait":  # the compiles symkb runs in the background
            waited = time.perf_counter()
            symkb.wait_compiles()
            _emit({"step": "background", "compile_s": time.perf_counter() - waited,
                   "first_call_s": 0.0})
            continue
        try:
            result = child_compile(plan["model"], step["variant"])
        except Exception as exc:  # reported in the row, the other steps still run
            result = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
        _emit({"step": step["case"], **result})


def _emit(record: dict) -> None:
    print("RESULT " + json.dumps(record), flush=True)


# ---------------------------------------------------------------- the parent

def _child_env(caches: Path, threads: int) -> dict:
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(threads)
    # a warm process reads the bytecode Python cached, as an installed symkb's does
    # (without it every start compiles symkb's modules from source again: ~0.2 s)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["NUMBA_CACHE_DIR"] = str(caches / "NUMBA_CACHE_DIR")
    env["SYMKB_CACHE_DIR"] = str(caches / "SYMKB_CACHE_DIR")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


FOREIGN_LIMIT = 0.25  # cores other processes may use while a child runs, unflagged


def _busy_s():
    """CPU seconds the whole machine has been busy, or None (``rnn.CpuMonitor``;
    imported here, in the parent only: a child times its own imports)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    from rnn import CpuMonitor
    return CpuMonitor._busy_s()


def _ours_s() -> float:
    """CPU seconds of this process and its finished children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def wait_quiet(max_s: float, window: float = 0.5) -> None:
    """Wait up to ``max_s`` for a ``window`` in which other processes use less
    than FOREIGN_LIMIT of a core (on a shared 2-core machine a busy neighbour
    doubles a compile)."""
    deadline = time.perf_counter() + max_s
    while time.perf_counter() < deadline:
        b0, o0 = _busy_s(), _ours_s()
        if b0 is None:
            return
        time.sleep(window)
        if (_busy_s() - b0 - (_ours_s() - o0)) / window < FOREIGN_LIMIT:
            return


def run_child(plan: dict, caches: Path, args) -> list:
    """One fresh process running ``plan`` on the caches under ``caches``."""
    for var in ("NUMBA_CACHE_DIR", "SYMKB_CACHE_DIR"):
        (caches / var).mkdir(parents=True, exist_ok=True)
    wait_quiet(args.wait_quiet)
    busy, ours = _busy_s(), _ours_s()
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child",
                               json.dumps(plan)], env=_child_env(caches, args.threads),
                              cwd=tempfile.gettempdir(), capture_output=True, text=True,
                              timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return [{"step": "process", "error": f"timed out after {args.timeout} s"}]
    records = [json.loads(line[len("RESULT "):]) for line in done.stdout.splitlines()
               if line.startswith("RESULT ")]
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["(no output)"]
        records.append({"step": "process", "error": f"exit {done.returncode}: {tail[0]}"})
    wall = time.perf_counter() - start
    foreign = None if busy is None else max(0.0, (_busy_s() - busy - (_ours_s() - ours)) / wall)
    for record in records:
        record["process_s"] = wall
        record["others_cores"] = foreign  # the CPU other processes used meanwhile
        if "compile_s" in record:
            record["total_s"] = record["compile_s"] + record["first_call_s"]
    return records


def _restore(snapshot: Path, caches: Path) -> None:
    """The caches as the cold compile left them, at the same paths (numba's
    index names the source files by path and modification time)."""
    shutil.rmtree(caches, ignore_errors=True)
    shutil.copytree(snapshot, caches)  # copy2: modification times kept


def bench_model(name: str, args, work: Path) -> list:
    """The rows of one model: cold (+ variants), warm, variants in new processes."""
    caches, snapshot = work / name / "caches", work / name / "snapshot"
    wait = {"kind": "wait"}
    variants = [] if args.no_variants else [
        step for v in ("units", "names")
        for step in ({"kind": "compile", "case": f"{v}, same process", "variant": v}, wait)]
    cold = [{"kind": "compile", "case": "cold", "variant": "base"}, wait,
            {"kind": "snapshot", "to": str(snapshot)}, *variants]
    rows = run_child({"model": name, "steps": cold}, caches, args)
    later = [("warm", "base")] + ([] if args.no_variants else
                                  [("units, new process", "units"),
                                   ("names, new process", "names")])
    for case, variant in later:
        if not snapshot.exists():
            rows.append({"step": case, "error": "no snapshot: the cold process failed"})
            continue
        _restore(snapshot, caches)
        rows += run_child({"model": name, "steps": [
            {"kind": "compile", "case": case, "variant": variant}, wait]}, caches, args)
    for row in rows:
        row["model"] = name
    return rows


def bench_import(args, work: Path) -> dict:
    """``import symkb`` in fresh processes: the median of ``--import-runs``."""
    runs, others = [], []
    for _ in range(args.import_runs):
        records = run_child({"model": None, "steps": []}, work / "import", args)
        runs += [r["import_s"] for r in records if r.get("step") == "import"]
        others += [r["others_cores"] for r in records[:1] if r["others_cores"] is not None]
    return {"model": "-", "step": "import symkb", "import_runs_s": runs,
            "import_s": statistics.median(runs) if runs else None,
            "others_cores": max(others) if others else None}


def target_of(row: dict):
    """(limit seconds, the figure it bounds) for a row, or (None, None)."""
    step = row["step"]
    if step == "import symkb":
        return IMPORT_TARGET, "import_s"
    if step == "warm":
        return WARM_TARGET, "ready_s"
    if step.startswith(("units", "names")):
        return VARIANT_TARGET, "total_s"
    return TARGETS.get((row["model"], step)), "total_s"


def format_table(rows: list) -> str:
    """The plain-text table, columns aligned (seconds)."""
    shown = [p for p in PHASE_COLUMNS if any(p in r.get("phases", {}) for r in rows)]
    header = ["model", "case", *shown, "compile", "1st call", "total", "ready", "others",
              "target", ""]
    lines, errors = [], []
    for row in rows:
        if row.get("step") == "import":
            continue
        cells = [row["model"], row["step"]]
        if "error" in row:
            errors.append(cells + [f"ERROR {row['error']}"])
            lines.append(cells)
            continue
        phases = row.get("phases", {})
        cells += [_sec(phases.get(p)) for p in shown]
        ready = row.get("import_s") if row["step"] == "import symkb" else row.get("ready_s")
        if row["step"].endswith("same process"):
            ready = None  # a figure of a process that did more before
        others = row.get("others_cores")
        cells += [_sec(row.get("compile_s")), _sec(row.get("first_call_s")),
                  _sec(row.get("total_s")), _sec(ready),
                  "" if others is None else f"{others:.2f}" + ("!" if others > FOREIGN_LIMIT
                                                              else " ")]
        limit, figure = target_of(row)
        value = row.get(figure)
        verdict = "" if limit is None or value is None else ("ok" if value <= limit else "MISS")
        if row.get("max_abs_diff") is not None and not row["max_abs_diff"] < 1e-4:
            verdict += f" FAIL({row['max_abs_diff']:.0e})"
        cells += [f"<= {limit:g}" if limit is not None else "", verdict]
        lines.append(cells)
    widths = [max(len(str(c[i])) for c in [header] + lines if i < len(c))
              for i in range(len(header))]
    out = []
    for cells in [header] + lines:
        out.append("  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w)
                             for i, (c, w) in enumerate(zip(cells, widths))).rstrip())
        if cells is header:
            out.append("-" * len(out[0]))
    out += ["  ".join(cells) for cells in errors]
    return "\n".join(out)


def _sec(value) -> str:
    return "" if value is None else f"{value:.3f}"


LEGEND = """\
Seconds. Phases (compile_phases, symkb/lower/timing.py): import = numba and the cpu target
imported by a process's first compile; passes; codegen; cache = canonical source, write,
import; setup = numba's first-use set-up (its registries); typing = numba
compiling outside LLVM; llvm = LLVM optimising and emitting code; load = numba's cache load
(or lookup + save); beside = waiting for a part compiled in a child process meanwhile (a
step's tail); numba = its whole time where the split is unavailable.
compile = symkb.compile's wall time; total = compile + first call; ready = the process's
import + build + compile + first call (not shown after a same-process first compile).
Targets (issue 15): cold total of readme/W2 <= 1.5, demo <= 2, five <= 3, W2g <= 3; units/names
variants' total <= 0.3; warm process ready <= 0.5; import symkb < 0.3.
others = cores other processes used while that process ran (! past 0.25: a disturbed figure).
background = the wait, after the row above, for what symkb compiles in child processes
(symkb.wait_compiles: a model's own and size-generic kernels after its cold compile, a
variant's own kernel after it ran on the size-generic one); the snapshot and later rows
come after it."""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog=(os.environ.get("SYMKB_BENCH_PROG", "") + " --compile").strip()
        if os.environ.get("SYMKB_BENCH_PROG") else None,
        description="Compile-time benchmark: per model, symkb's compile phases cold and warm, "
                    "in fresh processes (benchmarks/README.md).")
    parser.add_argument("--models", default=",".join(MODELS),
                        help=f"which models (default the predictions: {','.join(MODELS)}; "
                             f"also the gradient and train steps {','.join(STEP_GRAPHS)})")
    parser.add_argument("--no-variants", action="store_true",
                        help="skip the units/names variants (cold and warm rows only)")
    parser.add_argument("--import-runs", type=int, default=3,
                        help="fresh processes timing `import symkb` (median; default 3)")
    parser.add_argument("--threads", type=int, default=2,
                        help="the children's thread variables (default 2)")
    parser.add_argument("--timeout", type=float, default=900,
                        help="seconds a child process may run (default 900)")
    parser.add_argument("--wait-quiet", type=float, default=10.0, metavar="SECONDS",
                        help="before each process, wait up to SECONDS for other processes to "
                             "leave the CPUs idle (default 10; 0: do not wait)")
    parser.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is None:
        args.models = [m.strip() for m in args.models.split(",") if m.strip()]
        unknown = [m for m in args.models if m not in MODELS and m not in STEP_GRAPHS]
        if unknown:
            parser.error(f"unknown model(s) {unknown}; choose from "
                         f"{list(MODELS) + list(STEP_GRAPHS)}")
        if args.import_runs < 0:
            parser.error(f"--import-runs must be >= 0, received {args.import_runs}")
    return args


def main(args) -> int:
    print(f"symkb compile benchmark -- {sys.executable}, threads {args.threads}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="symkb-compile-bench-") as tmp:
        if args.import_runs:
            rows.append(bench_import(args, Path(tmp)))
        for name in args.models:
            print(f"  {name}: {DESCRIPTIONS[name]}", flush=True)
            rows += bench_model(name, args, Path(tmp))
    print()
    print(format_table(rows))
    print(LEGEND)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"python": sys.executable, "rows": rows}, indent=1))
        print(f"raw figures written to {args.json}")
    failed = [r for r in rows if "error" in r or not r.get("max_abs_diff", 0) < 1e-4]
    return 1 if failed else 0


if __name__ == "__main__":
    ARGS = parse_args()
    if ARGS.child is not None:
        child_main(json.loads(ARGS.child))
        sys.exit(0)
    sys.exit(main(ARGS))
