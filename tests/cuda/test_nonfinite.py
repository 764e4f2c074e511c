"""tf_keras parity of the cuda target on NaN, +-inf and -0.0 (the goldens of
``tools/goldens_nonfinite.py``, shared with ``tests/test_nonfinite_golden.py``).

All cases are compiled as one graph (tiny arrays, so the simulator is quick).

"""
import numpy as np
import pytest

from nonfinite_cases import CASES, IDS, check, symbolic_graph
from symkb import backend as K
from symkb.ir import Graph


@pytest.fixture(scope="module")
def results():
    from symkb.lower.cuda import compile_cuda
    graph, feeds = symbolic_graph(K, CASES)
    exe = compile_cuda(graph)
    return [np.asarray(o) for o in exe(feeds)]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cuda(results, case):
    check(results[CASES.index(case)], case, "cuda")


def _fold(row, later_wins):
    acc = row[0]
    for v in row[1:]:
        if acc != acc:
            break
        if v != v or later_wins(acc, v):
            acc = v
    return acc


@pytest.mark.parametrize("op", ["max", "min"])
def test_long_rows_keep_the_later_of_equal_zeros_across_threads_and_blocks(op):
    # rows of 40 span several threads' stretches and two blocks on the simulator
    from symkb.lower.cuda import compile_cuda
    rng = np.random.default_rng(3)
    rows = -np.abs(rng.standard_normal((6, 40))).astype(np.float32) - 1
    if op == "min":
        rows = -rows
    for r in range(6):
        at = rng.choice(40, size=5, replace=False)
        rows[r, at] = np.where(rng.random(5) < 0.5, -0.0, 0.0)
    rows[5, 17] = np.nan
    x = K.placeholder(shape=(None, 40))
    got = compile_cuda(Graph([x], [getattr(K, op)(x, axis=-1)]))([rows])
    got = np.asarray(got[0] if isinstance(got, list) else got)
    better = (lambda a, v: not a > v) if op == "max" else (lambda a, v: not a < v)
    want = np.array([_fold(list(row), better) for row in rows], np.float32)
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(np.signbit(got[:5]), np.signbit(want[:5])), (got, want)
    assert len(set(np.signbit(want[:5]))) == 2  # both signs occur among the answers
