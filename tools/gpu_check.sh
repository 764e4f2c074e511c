#!/usr/bin/env bash
# The cuda target on a real NVIDIA GPU: the tests of tests/cuda with the
# simulator switched off, then benchmarks/rnn.py --target cuda (symkb's
# kernels against torch and JAX on the same GPU).
#
#     bash tools/gpu_check.sh [OUTDIR]      # default: ./gpu_check
#
# Needs numba, numba-cuda, numpy, scipy, networkx, pytest and hypothesis in
# the python found as $PYTHON (default python3); torch and jax for the
# benchmark's peers; pytest-xdist and pytest-timeout are used when present.
# Every step writes its log to OUTDIR; the exit status is the tests'.
set -u
out=${1:-gpu_check}
mkdir -p "$out"
py=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export NUMBA_ENABLE_CUDASIM=0
export NUMBA_CACHE_DIR=${NUMBA_CACHE_DIR:-/tmp/symkb_gpu_nc} SYMKB_CACHE_DIR=${SYMKB_CACHE_DIR:-/tmp/symkb_gpu_sc}

# one kernel compiled and run through symkb's binding first; when the installed
# numba-cuda cannot compile against this numpy, a numpy wheel carried in
# ./.whl (GPU_CHECK_NUMPY_WHEEL) is used instead, and env.txt says so
probe() {
  "$py" - <<'PY'
import numpy as np
from symkb.lower.cuda import adapter
cuda = adapter._numba_cuda()

@cuda.jit
def twice(a):
    i = cuda.grid(1)
    if i < a.size:
        a[i] *= 2

d = cuda.to_device(np.arange(4, dtype=np.float32))
twice[1, 32](d)
assert d.copy_to_host().tolist() == [0, 2, 4, 6], d.copy_to_host()
print("probe kernel ok")
PY
}
if ! probe >"$out/probe.txt" 2>&1; then
  wheel=$(ls ${GPU_CHECK_NUMPY_WHEEL:-.whl/numpy-*.whl} 2>/dev/null | head -1)
  if [ -n "$wheel" ]; then
    "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/gpu_check_site "$wheel"
    export PYTHONPATH="/tmp/gpu_check_site:$PYTHONPATH"
    echo "probe failed with the installed numpy; using $wheel" >>"$out/probe.txt"
    probe >>"$out/probe.txt" 2>&1
  fi
fi
cat "$out/probe.txt"

{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  "$py" -c 'import sys, numpy, numba; print(sys.version); print("numpy", numpy.__version__, "numba", numba.__version__)'
  "$py" -m pip show numba-cuda 2>/dev/null | head -2
  "$py" -c 'from symkb.lower.cuda import adapter; print("real_gpu_available", adapter.real_gpu_available())'
} >"$out/env.txt" 2>&1
cat "$out/env.txt"

xdist=()
"$py" -c 'import xdist' 2>/dev/null && xdist=(-n "${GPU_CHECK_WORKERS:-8}")
tmo=()
"$py" -c 'import pytest_timeout' 2>/dev/null && tmo=(--timeout 240)

start=$(date +%s)
timeout "${GPU_CHECK_TEST_SECONDS:-330}" "$py" -m pytest tests/cuda -q -rfEs -p no:cacheprovider \
  "${xdist[@]}" "${tmo[@]}" >"$out/tests.txt" 2>&1
rc=$?
echo "tests: exit $rc in $(( $(date +%s) - start )) s"
tail -n 40 "$out/tests.txt"

if [ "${GPU_CHECK_BENCH:-1}" = 1 ]; then
  start=$(date +%s)
  timeout "${GPU_CHECK_BENCH_SECONDS:-200}" "$py" benchmarks/rnn.py --target cuda \
    --impls torch,jax,symkb --repeats 7 --warmup 2 --min-time 0.1 --wait-quiet 0 --retry-busy 0 \
    --json "$out/rnn_cuda.json" >"$out/rnn_cuda.txt" 2>&1
  echo "rnn --target cuda: exit $? in $(( $(date +%s) - start )) s"
  tail -n 40 "$out/rnn_cuda.txt"
fi
exit $rc
