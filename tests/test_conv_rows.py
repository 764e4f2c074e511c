"""The cpu convolution's rows in place (``conv_kernels._rows_in_place``).

A block of whole output rows whose windows lie inside the input along the
second spatial axis is multiplied without im2col: for each tap along the
first axis, the row's windows are overlapping rows of the input itself.
``conv_block`` is called directly, on blocks that take that path and on
blocks that cannot (a block starting inside a row, padding along the second
axis, rows shorter than a tile), and compared with the conv op's numpy
reference: strides, dilation along the first axis, padding along it that
leaves some rows with no tap inside the input, filters that are not a
multiple of 16, channels 1 to 16, blocks spanning two images.
"""
from __future__ import annotations

import numpy as np
import pytest

from symkb.ir import get_op
from symkb.lower.cpu import conv_kernels, gemm

RNG = np.random.default_rng(9)


def _case(batch, size, channels, kernel, filters, strides, dilation, pads):
    x = RNG.standard_normal((batch,) + size + (channels,)).astype(np.float32)
    w = RNG.standard_normal(kernel + (channels, filters)).astype(np.float32)
    want = get_op("conv").impl(x, w, strides=strides, dilation=dilation, pads=pads, groups=1)
    geo = np.array(list(kernel) + [1] + list(strides) + [1] + list(dilation) + [1]
                   + [p[0] for p in pads] + [0], dtype=np.int64)
    depth = kernel[0] * kernel[1] * channels
    panels = gemm.pack_rhs(np.ascontiguousarray(w.reshape(depth, filters)))
    return x.reshape(x.shape[:3] + (1, channels)), panels, geo, depth, want


CASES = {
    "valid": (2, (9, 12), 3, (3, 3), 32, (1, 1), (1, 1), ((0, 0), (0, 0))),
    "strided": (2, (11, 23), 4, (3, 3), 16, (2, 2), (2, 1), ((1, 1), (0, 0))),
    "filters 20": (3, (6, 19), 5, (2, 4), 20, (1, 2), (1, 1), ((0, 0), (0, 0))),
    "one channel, tall": (2, (3, 17), 1, (5, 3), 48, (1, 1), (1, 1), ((2, 2), (0, 0))),
    "rows read no input": (1, (2, 12), 16, (2, 3), 16, (1, 1), (1, 1), ((3, 0), (0, 0))),
    "padded along axis 2": (2, (7, 12), 3, (3, 3), 16, (1, 1), (1, 1), ((1, 1), (1, 1))),
    "short rows": (2, (9, 6), 3, (3, 3), 16, (1, 1), (1, 1), ((0, 0), (0, 0))),
}


@pytest.mark.parametrize("name", list(CASES))
def test_blocks_match_the_reference(name):
    x5, panels, geo, depth, want = _case(*CASES[name])
    batch, o1n, o2n, filters = want.shape
    flat = want.reshape(-1, filters)
    total = flat.shape[0]
    wide_cols = gemm.padded(filters)
    # whole rows (two at a time, across the images), then blocks that start inside a row
    starts = [(m0, min(2 * o2n, total - m0)) for m0 in range(0, total, 2 * o2n)]
    starts += [(1, min(o2n, total - 1)), (total - 3, 3)]
    for m0, rows in starts:
        wide = np.full((rows, wide_cols), np.nan, np.float32)
        patch = np.empty((rows, depth), np.float32)
        conv_kernels.conv_block(x5, panels, wide, patch, geo, m0, rows, o1n, o2n, 1)
        np.testing.assert_allclose(wide[:, :filters], flat[m0:m0 + rows], rtol=1e-5, atol=1e-4,
                                   err_msg=f"{name}: rows {m0}..{m0 + rows}")


def test_the_whole_convolution_through_conv_packed():
    x5, panels, geo, depth, want = _case(*CASES["strided"])
    out = np.empty(want.shape[:3] + (1, want.shape[3]), np.float32)
    conv_kernels.conv_packed(x5, panels, out, geo)
    np.testing.assert_allclose(out[:, :, :, 0], want, rtol=1e-5, atol=1e-4)
