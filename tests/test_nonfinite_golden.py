"""tf_keras parity on NaN, +-inf and -0.0 for reductions, arg-reductions,
comparisons and elementwise ops (goldens from ``tools/goldens_nonfinite.py``).

Every case runs eagerly (numpy in, numpy out), on the interpreter, and on
the cpu target; the cpu target compiles the cases in graphs of ``CHUNK``
cases each (one large kernel would cost LLVM far more than a few small ones).
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


CHUNK = 12


def _symbolic_graph(cases):
    inputs, feeds, outputs = [], [], []
    for case in cases:
        def make(a):
            ph = K.placeholder(shape=a.shape, dtype=a.dtype.name)
            inputs.append(ph)
            feeds.append(a)
            return ph
        outputs.append(call(K, case, args_of(case, make)))
    return Graph(inputs, outputs, name="nonfinite"), feeds


@pytest.fixture(scope="module")
def symbolic():
    """``(chunk, target) -> outputs``, each chunk compiled when first asked for."""
    results: dict = {}

    def outputs(chunk, target):
        if (chunk, target) not in results:
            graph, feeds = _symbolic_graph(CASES[chunk * CHUNK:(chunk + 1) * CHUNK])
            results[(chunk, target)] = compile_graph(graph, target)(feeds)
        return results[(chunk, target)]
    return outputs


@pytest.mark.parametrize("target", ["interpreter", "cpu"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_symbolic(symbolic, case, target):
    index = CASES.index(case)
    check(symbolic(index // CHUNK, target)[index % CHUNK], case, target)
