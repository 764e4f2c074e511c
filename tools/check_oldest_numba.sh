#!/usr/bin/env bash
# Checks symkb on the oldest dependencies pyproject.toml allows (numba above
# all: its LLVM decides what vectorises; see docs/numba-versions.md).
#
#   tools/check_oldest_numba.sh [VENV_DIR]        (default: .oldest-venv)
#
# 1. builds VENV_DIR with numba, numpy, scipy and networkx pinned to the
#    floors of pyproject.toml's dependencies (NUMBA=0.61.2 and the like
#    override one pin, to try another version);
# 2. runs a small test subset: the activation helpers inline and vectorise,
#    the matrix-product kernel, K.rnn tracing, the compiled recurrent layers;
# 3. times W2 and W4 next to the numpy loop (benchmarks/rnn.py), to compare
#    the symkb/numpy ratios with those of the current numba in one sitting
#    (SKIP_BENCH=1 skips it).
# Numba's and symkb's caches live inside VENV_DIR: they never mix with the
# checkout's (a kernel cached by one numba is not for another).
# Not part of .ci/run (about 5 minutes on 2 cores); run it when changing the
# cpu code generator, the runtime helpers or the numba floor.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.oldest-venv}"
python="${PYTHON:-python3}"

floor() {  # the version after ">=" in pyproject.toml's dependency on $1
  sed -n "s/^ *\"$1>=\([0-9][0-9.]*\)\".*/\1/p" pyproject.toml | head -n 1
}
numba_v="${NUMBA:-$(floor numba)}"
numpy_v="${NUMPY:-$(floor numpy)}"
scipy_v="${SCIPY:-$(floor scipy)}"
networkx_v="${NETWORKX:-$(floor networkx)}"
for pair in "numba:$numba_v" "numpy:$numpy_v" "scipy:$scipy_v" "networkx:$networkx_v"; do
  if [ -z "${pair#*:}" ]; then
    echo "check_oldest_numba: no '${pair%%:*}>=' floor found in pyproject.toml" >&2
    exit 2
  fi
done

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q "numba==$numba_v" "numpy==$numpy_v" "scipy==$scipy_v" \
  "networkx==$networkx_v" pytest hypothesis h5py
"$venv/bin/python" - <<'PY'
import llvmlite.binding as llvm, numba, numpy, scipy, networkx
print(f"numba {numba.__version__} (LLVM {'.'.join(map(str, llvm.llvm_version_info))}), "
      f"numpy {numpy.__version__}, scipy {scipy.__version__}, networkx {networkx.__version__}")
PY

export PYTHONPATH="$PWD" NUMBA_CACHE_DIR="$venv/numba_cache" SYMKB_CACHE_DIR="$venv/symkb_cache"
"$venv/bin/python" -m pytest -p no:cacheprovider tests/test_runtime_inline.py tests/test_gemm.py \
  tests/test_rnn.py tests/test_rnn_threads.py tests/test_cpu_rnn.py
if [ "${SKIP_BENCH:-0}" != 1 ]; then
  "$venv/bin/python" benchmarks/rnn.py --workloads W2,W4 --impls numpy,symkb
fi
