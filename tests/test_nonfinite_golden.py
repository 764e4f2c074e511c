"""tf_keras parity on NaN, +-inf and -0.0 for reductions, arg-reductions,
comparisons and elementwise ops (goldens from ``tools/goldens_nonfinite.py``).

Every case runs eagerly (numpy in, numpy out), on the interpreter, and on
the cpu target; the cpu target compiles all cases as one graph (one compile).
"""
from __future__ import annotations

import numpy as np
import pytest

from nonfinite_cases import CASES, IDS, args_of, call, check
from symkb import backend as K
from symkb.lower import compile_graph
from symkb.ir import Graph


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_eager(case):
    check(call(K, case, args_of(case)), case, "eager")


def _symbolic_graph():
    inputs, feeds, outputs = [], [], []
    for case in CASES:
        def make(a):
            ph = K.placeholder(shape=a.shape, dtype=a.dtype.name)
            inputs.append(ph)
            feeds.append(a)
            return ph
        outputs.append(call(K, case, args_of(case, make)))
    return Graph(inputs, outputs, name="nonfinite"), feeds


@pytest.fixture(scope="module")
def symbolic():
    graph, feeds = _symbolic_graph()
    return {target: compile_graph(graph, target)(feeds) for target in ("interpreter", "cpu")}


@pytest.mark.parametrize("target", ["interpreter", "cpu"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_symbolic(symbolic, case, target):
    check(symbolic[target][CASES.index(case)], case, target)
