"""Type and compile recorded cuda kernels for a real GPU, without a GPU.

The simulator runs kernels as Python, so it cannot catch what Numba's CUDA
type inference would reject on a device. This script takes the kernels a
simulator run launched (module source, kernel name, argument types; see
``test_ptx.py``) and compiles each with ``numba.cuda.compile_ptx`` for
sm_80. It needs NVVM (a CUDA toolkit: ``CUDA_HOME`` pointing at one, e.g.
``pip install --target DIR nvidia-cuda-nvcc-cu12`` and
``CUDA_HOME=DIR/nvidia/cuda_nvcc``) but no driver, and must run without
``NUMBA_ENABLE_CUDASIM``.

    python tests/cuda/ptx_check.py records.json
"""
import json
import sys

import numpy as np


def main(path):
    import numba
    import numba.cuda.dispatcher as dispatcher
    from numba import cuda, types

    from symkb.lower.cache import load_module

    class _Device:
        compute_capability = (8, 0)

    # device functions ask the current device for its architecture; there is none here
    dispatcher.get_current_device = lambda: _Device()
    records = json.load(open(path))
    modules, failures, ok = {}, [], 0
    for source, name, signature in records:
        if source not in modules:
            # imported from a file, as the cuda target does (cache=True needs one)
            modules[source] = load_module(source, "cuda_ptx_check", kind="cuda").namespace()
        argtypes = []
        for item in signature:
            if item[0] == "array":
                argtypes.append(types.Array(numba.from_dtype(np.dtype(item[1])), item[2], "C"))
            else:
                argtypes.append({"int64": types.int64, "float64": types.float64,
                                 "bool": types.boolean}[item[1]])
        try:
            cuda.compile_ptx(modules[source][name].py_func, tuple(argtypes), cc=(8, 0))
            ok += 1
        except Exception as exc:  # report every failing kernel, not just the first
            failures.append(f"{name}{tuple(str(t) for t in argtypes)}: "
                            f"{' '.join(str(exc).split())[:400]}")
    print(f"{ok} kernels compiled, {len(failures)} failed")
    for line in failures:
        print("FAILED", line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
