import numpy as np
from numba import njit, objmode
from symkb.lower.cpu.runtime import (tanh_f32, sigmoid_f32, erf_f32, erf_f64, floordiv_float, mod_float, dropout_ref, round_f16, fresh_seed, print_ref)
from symkb.lower.cpu.gemm import pack_rhs, gemm_serial
@njit(cache=True, error_model="numpy", nogil=True)
def v0(v1, v2, v3, v4, v5):
    v6 = np.empty((v1.shape[0], 1), dtype=np.float32)
    for v7 in range(v1.shape[0]):
        for v8 in range(1):
            v9 = np.float32(0.0)
            v6[v7, v8] = v9
    v10 = np.empty((v1.shape[0], 128), dtype=np.float32)
    for v7 in range(v1.shape[0]):
        for v8 in range(128):
            v10[v7, v8] = v6[v7 % v1.shape[0], v8 % 1]
    v11 = np.ascontiguousarray(v4[384::])
    v12 = np.ascontiguousarray(v4[128:256:])
    v13 = np.ascontiguousarray(v4[:128:])
    v14 = np.ascontiguousarray(v4[256:384:])
    v15 = 100
    if v15 == 0:
        raise ValueError('loop: cannot iterate over zero time steps')
    v16 = v5
    if v5.shape != (v1.shape[0], v15, 128):
        v16 = np.empty((v1.shape[0], v15, 128), dtype=np.float32)
    v17 = v10.copy()
    v18 = v10.copy()
    v19 = pack_rhs(v2)
    v20 = np.empty((v1.shape[0], 512), dtype=np.float32)
    v21 = np.empty((v1.shape[0], 512), dtype=np.float32)
    v22 = pack_rhs(v3)
    for v23 in range(v15):
        v24 = v23
        gemm_serial(v1[:, v24], v19, v20)
        gemm_serial(v17, v22, v21)
        for v7 in range(v1.shape[0]):
            for v8 in range(128):
                v25 = v20[v7, 128 + v8] + v21[v7, 128 + v8]
                v26 = v25 + v12[v8]
                v27 = sigmoid_f32(v26)
                v28 = v27 * v18[v7, v8]
                v29 = v20[v7, v8] + v21[v7, v8]
                v30 = v29 + v13[v8]
                v31 = sigmoid_f32(v30)
                v32 = v20[v7, 256 + v8] + v21[v7, 256 + v8]
                v33 = v32 + v14[v8]
                v34 = tanh_f32(v33)
                v35 = v31 * v34
                v36 = v28 + v35
                v18[v7, v8] = v36
        for v7 in range(v1.shape[0]):
            for v8 in range(128):
                v37 = v20[v7, 384 + v8] + v21[v7, 384 + v8]
                v38 = v37 + v11[v8]
                v39 = sigmoid_f32(v38)
                v40 = tanh_f32(v18[v7, v8])
                v41 = v39 * v40
                v17[v7, v8] = v41
                v16[v7, v23, v8] = v41
    return (v16,)
