"""Merging adjacent loop nests of generated cpu code (``lower/cpu/merge_nests.py``).

Pure text checks (no compile): which neighbours merge, and that every
unsafe pattern stays as it was. The compiled models of test_cpu_rnn.py and
test_golden_ops.py run the merged code against the interpreter.
"""
from __future__ import annotations

import numpy as np

from symkb.lower.cpu.merge_nests import merge_nests


def _body(text: str) -> list:
    return text.strip("\n").split("\n")


def _run(lines: list, env: dict) -> dict:
    exec("\n".join(line[4:] for line in lines), env)  # the lines are one level deep
    return env


GATES = _body("""
    for i0 in range(n):
        for i1 in range(4):
            v_1 = x[i0, i1] + c[i0, i1]
            c[i0, i1] = v_1
    # the output
    for i0 in range(n):
        for i1 in range(4):
            v_2 = c[i0, i1] * np.float32(2.0)
            h[i0, i1] = v_2
            out[i0, t, i1] = v_2
""")


def test_same_ranges_elementwise_merge_and_compute_the_same():
    merged = merge_nests(GATES)
    assert sum(line.strip().startswith("for i0") for line in merged) == 1
    assert merged[0].strip() == "# the output"  # the second nest's comment moves up
    rng = np.random.default_rng(0)

    def state():
        return {"np": np, "n": 3, "t": 1, "x": rng.standard_normal((3, 4)),
                "c": rng.standard_normal((3, 4)), "h": np.zeros((3, 4)),
                "out": np.zeros((3, 2, 4))}
    a = state()
    b = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in a.items()}
    _run(GATES, a)
    _run(merged, b)
    for k in ("c", "h", "out"):
        np.testing.assert_array_equal(a[k], b[k])


def test_different_ranges_do_not_merge():
    lines = GATES[:4] + [line.replace("range(4)", "range(5)") for line in GATES[4:]]
    assert merge_nests(lines) == lines


def test_a_read_at_another_index_of_a_written_array_does_not_merge():
    lines = _body("""
    for i0 in range(n):
        for i1 in range(4):
            c[i0, i1] = x[i0, i1]
    for i0 in range(n):
        for i1 in range(4):
            h[i0, i1] = c[i0, 0]
""")
    assert merge_nests(lines) == lines


def test_a_view_of_a_written_array_does_not_merge():
    lines = _body("""
    flat = c.reshape((-1,))
    for i0 in range(n):
        for i1 in range(4):
            c[i0, i1] = x[i0, i1]
    for i0 in range(n):
        for i1 in range(4):
            h[i0, i1] = flat[i0, i1]
""")
    assert merge_nests(lines) == lines


def test_a_scalar_carried_between_nests_or_a_call_does_not_merge():
    carried = _body("""
    for i0 in range(n):
        for i1 in range(4):
            v_1 = x[i0, i1]
    for i0 in range(n):
        for i1 in range(4):
            h[i0, i1] = v_1
""")
    assert merge_nests(carried) == carried
    call = _body("""
    for i0 in range(n):
        for i1 in range(4):
            c[i0, i1] = x[i0, i1]
    for i0 in range(n):
        for i1 in range(4):
            h[i0, i1] = total(c)
""")
    assert merge_nests(call) == call


def test_an_imperfect_nest_or_a_block_inside_does_not_merge():
    imperfect = _body("""
    for i0 in range(n):
        for i1 in range(4):
            c[i0, i1] = x[i0, i1]
        s = 0
    for i0 in range(n):
        for i1 in range(4):
            h[i0, i1] = x[i0, i1]
""")
    assert merge_nests(imperfect) == imperfect
    block = _body("""
    for i0 in range(n):
        for i1 in range(4):
            if x[i0, i1] > 0:
                c[i0, i1] = x[i0, i1]
    for i0 in range(n):
        for i1 in range(4):
            h[i0, i1] = x[i0, i1]
""")
    assert merge_nests(block) == block


def test_a_scalar_used_in_an_index_of_the_other_nest_does_not_merge():
    lines = _body("""
    for i0 in range(n):
        for i1 in range(4):
            k = x[i0, i1]
    for i0 in range(n):
        for i1 in range(4):
            h[i0, i1] = y[k, i1]
""")
    assert merge_nests(lines) == lines


def _difference_then_square(allocation: str) -> list:
    """Two nests over (n, 4): ``d = x - y``, then ``sq = d * d`` into a buffer
    bound by ``allocation`` (lines at the nests' level) between them."""
    return _body("""
    for i0 in range(n):
        for i1 in range(4):
            v_1 = x[i0, i1] - y[i0, i1]
            d[i0, i1] = v_1
""" + allocation + """
    for i0 in range(n):
        for i1 in range(4):
            v_2 = d[i0, i1] * d[i0, i1]
            sq[i0, i1] = v_2
""")


def _same_squares(lines, merged, seed, **arrays):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    for body in (lines, merged):
        env = _run(body, {"np": np, "n": 3, "x": x, "y": y, "d": np.empty((3, 4)), **arrays})
        np.testing.assert_allclose(env["sq"], (x - y) ** 2)


def test_the_second_nests_allocation_moves_above_the_first():
    lines = _difference_then_square("""    # the square
    sq = np.empty((x.shape[0], 4), dtype=np.float32)""")
    merged = merge_nests(lines)
    assert sum(line.strip().startswith("for i0") for line in merged) == 1
    assert merged[1].strip().startswith("sq = np.empty(")
    _same_squares(lines, merged, 0)


def test_an_allocation_sized_by_a_scalar_of_the_first_nest_stays_between():
    lines = _body("""
    for i0 in range(n):
        for i1 in range(4):
            m = x[i0, i1]
            d[i0, i1] = m
    sq = np.empty((m, 4), dtype=np.float32)
    for i0 in range(n):
        for i1 in range(4):
            sq[i0, i1] = d[i0, i1]
""")
    assert merge_nests(lines) == lines


def test_a_buffer_bound_to_a_callers_argument_moves_above_the_first():
    lines = _difference_then_square("""    sq = ws0
    if ws0.shape != (x.shape[0], 4):
        sq = np.empty((x.shape[0], 4), dtype=np.float32)""")
    merged = merge_nests(lines)
    assert sum(line.strip().startswith("for i0") for line in merged) == 1
    assert [line.strip() for line in merged[:3]] == lines_stripped(lines[4:7])
    for ws0 in (np.empty((3, 4)), np.empty((0, 0))):   # the argument fits, or does not
        _same_squares(lines, merged, 1, ws0=ws0)


def test_a_buffer_bound_to_an_argument_the_first_nest_reads_stays_between():
    lines = _body("""
    for i0 in range(n):
        for i1 in range(4):
            d[i0, i1] = ws0[i0, i1]
    sq = ws0
    if ws0.shape != (x.shape[0], 4):
        sq = np.empty((x.shape[0], 4), dtype=np.float32)
    for i0 in range(n):
        for i1 in range(4):
            sq[i0, i1] = d[i0, i1]
""")
    assert merge_nests(lines) == lines


def lines_stripped(lines: list) -> list:
    return [line.strip() for line in lines]
