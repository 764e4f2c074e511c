"""tf_keras parity on NaN, +-inf and -0.0 for reductions, arg-reductions,
comparisons and elementwise ops (goldens from ``tools/goldens_nonfinite.py``).

Every case runs eagerly (numpy in, numpy out), on the interpreter, and on
the cpu target; the cpu target compiles the cases in graphs of ``CHUNK``
cases each (one large kernel would cost LLVM far more than a few small ones).
"""
from __future__ import annotations

import pytest

from nonfinite_cases import CASES, IDS, args_of, call, check, symbolic_graph
from symkb import backend as K
from symkb.lower import compile_graph


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_eager(case):
    check(call(K, case, args_of(case)), case, "eager")


CHUNK = 12


@pytest.fixture(scope="module")
def symbolic():
    """``(chunk, target) -> outputs``, each chunk compiled when first asked for."""
    results: dict = {}

    def outputs(chunk, target):
        if (chunk, target) not in results:
            graph, feeds = symbolic_graph(K, CASES[chunk * CHUNK:(chunk + 1) * CHUNK])
            results[(chunk, target)] = compile_graph(graph, target)(feeds)
        return results[(chunk, target)]
    return outputs


@pytest.mark.parametrize("target", ["interpreter", "cpu"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_symbolic(symbolic, case, target):
    index = CASES.index(case)
    check(symbolic(index // CHUNK, target)[index % CHUNK], case, target)
