"""The ``symkb`` command: ``demo``, ``inspect``, ``cache`` (and ``cache warm FILE``), ``bench``.

Errors print as one line (``symkb: error: ...``) unless ``--debug`` is given.
"""
from __future__ import annotations

import argparse
import sys
import time


def _demo(args) -> int:
    import numpy as np

    import symkb
    from symkb import layers

    rng = np.random.default_rng(0)
    print("== 1. build a model symbolically")
    model = symkb.Sequential([
        layers.Input((args.time, args.features), name="tokens"),
        layers.LSTM(args.units, return_sequences=True),
        layers.Dense(args.classes, activation="softmax"),
    ], name="demo")
    model.summary()
    print("\n== 2. the graph (IR) as built")
    print(model.graph)
    x = rng.standard_normal((args.batch, args.time, args.features)).astype(np.float32)

    print("\n== 3. compile")
    t0 = time.perf_counter()
    compiled = symkb.compile(model, target=args.target)
    compile_s = time.perf_counter() - t0
    print(f"target: {compiled.target}   compile: {compile_s * 1e3:.1f} ms, "
          f"{compile_origin(compiled)}")
    if getattr(compiled, "passes_report", None):
        print("passes:")
        for line in str(compiled.passes_report).splitlines():
            print(f"  {line}")
    print("\n== 4. the graph after the passes")
    print(compiled.graph)
    if args.source and getattr(compiled, "source", ""):
        print("\n== generated source")
        print(compiled.source)

    print("\n== 5. run")
    t0 = time.perf_counter()
    out = compiled(x)
    first_ms = (time.perf_counter() - t0) * 1e3
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        compiled(x)
        times.append(time.perf_counter() - t0)
    reference = symkb.compile(model, target="interpreter")
    t0 = time.perf_counter()
    expected = reference(x)
    interp_ms = (time.perf_counter() - t0) * 1e3
    err = float(np.max(np.abs(out - expected)))
    print(f"input {x.shape} {x.dtype} -> output {out.shape} {out.dtype}")
    print(f"first call {first_ms:.2f} ms, median of {args.repeats}: "
          f"{np.median(times) * 1e3:.3f} ms, interpreter: {interp_ms:.2f} ms")
    print(f"max |compiled - interpreter| = {err:.2e}")
    if not err < 1e-4:
        raise RuntimeError(f"compiled result differs from the interpreter by {err:.2e}")
    return 0


def compile_origin(compiled) -> str:
    """Where an executable's machine code came from, truthfully, for the demo."""
    if compiled.target == "cpu":
        if getattr(compiled, "generic", False):
            from .lower.announce import origin
            return origin(compiled)
        if getattr(compiled, "reused", False):
            return "reused from an earlier compile in this process"
        if getattr(compiled, "cache_hit", False):
            return f"loaded from the cache ({compiled.path})"
        return (f"cold compile (the code is now cached in {compiled.path.parent}; "
                "the next run loads it)")
    if compiled.target == "interpreter":
        return "nothing to compile (the numpy interpreter)"
    return "kernels compile on the first call (numba caches them next to the module)"


def _inspect(args) -> int:
    from .inspect_cmd import run_inspect
    return run_inspect(args)


def _cache(args) -> int:
    if getattr(args, "cache_command", None) == "warm":
        from .warm_cmd import run_warm
        return run_warm(args)
    from .cache_cmd import run_cache
    return run_cache(args)


def _score(args) -> int:
    from .score_cmd import run_score
    return run_score(args)


def _bench(args) -> int:
    import pathlib
    import subprocess
    path = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "rnn.py"
    if not path.exists():
        raise FileNotFoundError(f"benchmark script not found at {path} (symkb bench runs from "
                                "a source checkout)")
    # its own process: the benchmark pins thread counts before numpy is imported
    import os
    env = dict(os.environ, SYMKB_BENCH_PROG="symkb bench")
    return subprocess.call([sys.executable, str(path), *args.bench_args], env=env)


def _positive(name):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a positive integer, "
                                             f"received {text!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{name} must be a positive integer, "
                                             f"received {value}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symkb", description="symkb: build models symbolically, compile and inspect them "
                                  "(commands: demo, inspect, cache, score, bench).")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="build, compile, inspect and run a small model")
    demo.add_argument("--target", default="auto", choices=["auto", "cpu", "cuda", "interpreter"],
                      help="where to compile (default auto: cuda on a real GPU, else cpu)")
    for flag, default, what in (("--batch", 32, "samples in the input batch"),
                                ("--time", 20, "time steps of each sample"),
                                ("--features", 8, "features of each step"),
                                ("--units", 16, "LSTM units"),
                                ("--classes", 4, "outputs of the softmax Dense layer"),
                                ("--repeats", 7, "timed calls after the first")):
        demo.add_argument(flag, type=_positive(flag), default=default,
                          help=f"{what} (default {default})")
    demo.add_argument("--source", action="store_true", help="also print the generated code")
    demo.set_defaults(func=_demo)
    inspect = sub.add_parser("inspect", help="summary, stats and IR of a saved model or graph")
    inspect.add_argument("file", help="a saved model (model.save), a model's to_json() text, "
                                       "a graph's symkb.ir.to_json document, or printed IR text")
    inspect.add_argument("--dot", metavar="OUT",
                         help="draw the op graph to OUT: .dot/.gv write the Graphviz source, "
                              ".png/.svg/.pdf/... a picture (needs Graphviz's `dot` program)")
    inspect.add_argument("--passes", action="store_true", help="show the graph after each pass")
    inspect.set_defaults(func=_inspect)
    cache = sub.add_parser("cache", help="show (or --clear) the folder of compiled code; "
                                         "`cache warm FILE` fills it ahead of time")
    cache.add_argument("--clear", action="store_true",
                       help="remove the generated modules and numba's machine code")
    cache.set_defaults(func=_cache)
    cache_sub = cache.add_subparsers(dest="cache_command", metavar="{warm}")
    warm = cache_sub.add_parser(
        "warm", help="compile a saved model now, so its first predict loads the cached kernel")
    warm.add_argument("file", help="a saved model (model.save), a model's to_json() text, a "
                                   "graph's symkb.ir.to_json document, or printed IR text")
    warm.add_argument("--target", default="auto", choices=["auto", "cpu", "cuda"],
                      help="the target to compile for (default auto, as predict: cuda on a "
                           "real GPU, else cpu)")
    warm.add_argument("--batch", type=_positive("--batch"), default=1,
                      help="rows of the batch of zeros the compiled model is run on once "
                           "(default 1)")
    score = sub.add_parser("score", help="run a saved model over large .npy/zarr inputs on "
                                         "Dask, in parallel, into an .npy file")
    score.add_argument("model", help="a saved model (model.save) or graph document")
    score.add_argument("inputs", nargs="+", help="one .npy file (or .zarr array) per model "
                                                 "input, with the same number of rows")
    score.add_argument("--out", required=True, help="the .npy file the outputs go to")
    score.add_argument("--chunk", type=_positive("--chunk"), default=4096,
                       help="rows per Dask task (default 4096)")
    score.add_argument("--workers", type=int, default=0,
                       help="worker processes of a local Dask cluster (default 0: the "
                            "threads of this process)")
    score.add_argument("--target", default="cpu", choices=["cpu", "interpreter"],
                       help="the compile target on the workers (default cpu)")
    score.set_defaults(func=_score)
    bench = sub.add_parser("bench", help="the RNN benchmark table (benchmarks/rnn.py)",
                           add_help=False)
    bench.description = ("Every argument after `bench` goes to benchmarks/rnn.py "
                         "(--workloads W1,W4 --repeats 7 --quick ...; `symkb bench --help`).")
    bench.set_defaults(func=_bench)
    return parser


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    passthrough = []
    if "bench" in argv:  # everything after `bench` belongs to benchmarks/rnn.py
        at = argv.index("bench")
        argv, passthrough = argv[:at + 1], argv[at + 1:]
    args = parser.parse_args(argv)
    if args.command == "bench":
        args.bench_args = passthrough
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one clear line unless --debug
        if args.debug:
            raise
        from .ir.safe_text import escape_controls  # messages quote names from files
        line = f"symkb: error: {type(exc).__name__}: {exc}".splitlines()[0]
        print(escape_controls(line), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
