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
    v11 = np.ascontiguousarray(v3[1])
    v12 = np.ascontiguousarray(v11[:128:])
    v13 = np.ascontiguousarray(v11[128:256:])
    v14 = np.ascontiguousarray(v11[256::])
    v15 = 100
    if v15 == 0:
        raise ValueError('loop: cannot iterate over zero time steps')
    v16 = v5
    if v5.shape != (v1.shape[0], v15, 128):
        v16 = np.empty((v1.shape[0], v15, 128), dtype=np.float32)
    v17 = v10.copy()
    v18 = pack_rhs(v2)
    v19 = np.empty((v1.shape[0], 384), dtype=np.float32)
    v20 = np.empty((v1.shape[0], 384), dtype=np.float32)
    v21 = pack_rhs(v4)
    for v22 in range(v15):
        v23 = v22
        gemm_serial(v1[:, v23], v18, v19)
        for v7 in range(v1.shape[0]):
            for v8 in range(384):
                v24 = v19[v7, v8] + v3[0, v8]
                v19[v7, v8] = v24
        gemm_serial(v17, v21, v20)
        for v7 in range(v1.shape[0]):
            for v8 in range(128):
                v25 = v20[v7, v8] + v12[v8]
                v26 = v19[v7, v8] + v25
                v27 = sigmoid_f32(v26)
                v28 = v27 * v17[v7, v8]
                v29 = np.float32(1.0) - v27
                v30 = v20[v7, 128 + v8] + v13[v8]
                v31 = v19[v7, 128 + v8] + v30
                v32 = sigmoid_f32(v31)
                v33 = v20[v7, 256 + v8] + v14[v8]
                v34 = v32 * v33
                v35 = v19[v7, 256 + v8] + v34
                v36 = tanh_f32(v35)
                v37 = v29 * v36
                v38 = v28 + v37
                v17[v7, v8] = v38
                v16[v7, v22, v8] = v38
    return (v16,)
