"""tf_keras parity of the cuda target on NaN, +-inf and -0.0 (the goldens of
``tools/goldens_nonfinite.py``, shared with ``tests/test_nonfinite_golden.py``).

All cases are compiled as one graph (tiny arrays, so the simulator is quick).

One relaxation, on purpose: the sign of a zero that ``max``/``min`` reduce to
from ``0.0`` and ``-0.0`` tied for the extreme is not compared. tf keeps the
later of equal values in its vectorised loop (the cpu target does the same),
but a device tree reduction combines elements out of order, so which zero
survives is the tree's choice (tf's own GPU kernels make it their way too).
The values themselves, NaN and inf included, are compared as everywhere.
"""
import numpy as np
import pytest

from nonfinite_cases import CASES, IDS, args_of, call, check
from symkb import backend as K
from symkb.ir import Graph


@pytest.fixture(scope="module")
def results():
    from symkb.lower.cuda import compile_cuda
    inputs, feeds, outputs = [], [], []
    for case in CASES:
        def make(a):
            ph = K.placeholder(shape=a.shape, dtype=a.dtype.name)
            inputs.append(ph)
            feeds.append(a)
            return ph
        outputs.append(call(K, case, args_of(case, make)))
    exe = compile_cuda(Graph(inputs, outputs, name="nonfinite"))
    return [np.asarray(o) for o in exe(feeds)]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cuda(results, case):
    check(results[CASES.index(case)], case, "cuda",
          zero_signs=case["fn"] not in ("max", "min"))
