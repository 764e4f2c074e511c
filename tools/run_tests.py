#!/usr/bin/env python3
"""Run the whole test suite on every core: the README's test command.

    python tools/run_tests.py [--lanes N] [pytest arguments...]

The main suite runs in N pytest processes at once (default: the machine's
cores, at most 4). Each collects every test and runs the test modules it
claims first (``tests/conftest.py``, the ``SYMKB_TEST_CLAIMS`` folder), so
the modules spread over the processes as they finish and every test runs
once. The CUDA kernels' suite runs beside them in its own process on numba's
simulator (``NUMBA_ENABLE_CUDASIM=1``, which must be set before numba is
imported). Each process's output is printed when it ends, then one line per
process; the exit status is non-zero when any of them failed.

``python -m pytest`` still runs the main suite in one process, and
``NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/cuda`` the CUDA suite.
Both share the compiled kernels in the checkout (``.numba_cache``,
``.symkb_cache``), whose writes are atomic, so processes may compile the
same kernel at once without harm.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lanes", type=int, default=min(4, os.cpu_count() or 1),
                        help="pytest processes for the main suite (default: the cores, "
                             "at most 4)")
    parser.add_argument("--no-cuda", action="store_true",
                        help="leave out the CUDA simulator suite")
    args, pytest_args = parser.parse_known_args(argv)
    if args.lanes < 1:
        parser.error(f"--lanes must be at least 1, received {args.lanes}")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="symkb-tests-") as tmp:
        claims = pathlib.Path(tmp) / "claims"
        claims.mkdir()
        base = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
        runs = [(f"main {k + 1}/{args.lanes}", base + pytest_args,
                 {"SYMKB_TEST_CLAIMS": str(claims)}) for k in range(args.lanes)]
        if not args.no_cuda and (ROOT / "tests" / "cuda").is_dir():
            runs.append(("cuda simulator", base + ["tests/cuda"] + pytest_args,
                         {"NUMBA_ENABLE_CUDASIM": "1"}))
        procs = []
        for k, (name, cmd, extra) in enumerate(runs):
            log = open(pathlib.Path(tmp) / f"lane{k}.log", "w+", encoding="utf-8")
            env = dict(os.environ)
            env.pop("SYMKB_TEST_CLAIMS", None)
            env.update(extra)
            procs.append((name, log, subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log,
                                                      stderr=subprocess.STDOUT)))
        try:
            codes = [proc.wait() for _, _, proc in procs]
        except KeyboardInterrupt:
            for _, _, proc in procs:
                proc.kill()
            raise
        summary = []
        for (name, log, _), code in zip(procs, codes):
            log.seek(0)
            text = log.read()
            log.close()
            print(f"===== {name} (exit {code}) =====")
            print(text, end="" if text.endswith("\n") else "\n")
            last = [line for line in text.splitlines() if line.strip()][-1:] or [""]
            summary.append(f"{name}: exit {code}: {last[0].strip('= ')}")
    print("===== all processes =====")
    print("\n".join(summary))
    print(f"wall time {time.perf_counter() - start:.0f} s")
    return 0 if all(code == 0 for code in codes) else 1


if __name__ == "__main__":
    sys.exit(main())
