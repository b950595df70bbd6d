#!/usr/bin/env bash
# Narrow networks before/after the fused epoch (issue 24), in one command from
# the repository root:
#
#     bash bench/gpu_narrow.sh                          # on the lent GPU machine
#     FASTMLP_GPU_WINDOW_SIM=1 bash bench/gpu_narrow.sh # simulator dry run
#
# Installs fastmlp into the machine's own python without network as
# bench/gpu_window.sh does (falls back to a PYTHONPATH folder), points
# CUDA_HOME at the toolkit of nvcc when unset (the cooperative launch links
# cudadevrt), then runs python -m bench.gpu_narrow under one global deadline
# (FASTMLP_GPU_NARROW_BUDGET_S, 300 s): the on-device check (fused epoch vs
# the per-batch path), host vs device time per batch, the width x batch sweep
# (old, new, PyTorch CUDA eager) and a small tuning grid, written to
# $OUT/narrow.json row by row; the log to $OUT/narrow.log. With 40 s left,
# the device-epoch tests of tests/test_cuda_gpu.py (fused paths vs the CPU).
# Extra arguments go to bench.gpu_narrow (e.g. --sections check,sweep).
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
OUT=${OUT:-$ROOT/bench/results/gpu_narrow}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PY=${FASTMLP_PYTHON:-python3}
SIM=${FASTMLP_GPU_WINDOW_SIM:-0}
BUDGET=${FASTMLP_GPU_NARROW_BUDGET_S:-300}
T0=$(date +%s)
export PYTHONUNBUFFERED=1
LOG=$OUT/narrow.log
WORK=$(mktemp -d)
: >"$LOG"
say() { echo "$*" | tee -a "$LOG"; }
export PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH}
if [ "$SIM" = 1 ]; then
    export NUMBA_ENABLE_CUDASIM=1
    say "simulator dry run: no install (fastmlp from the current environment)"
else
    FASTMLP_SHIP_KERNELS=0 timeout 90 "$PY" -m pip install --no-deps --no-build-isolation -e . >>"$LOG" 2>&1
    if ! (cd "$WORK" && "$PY" -c "import fastmlp.kernels") >>"$LOG" 2>&1; then
        src=$WORK/src
        mkdir -p "$src"
        cp -r "$ROOT/fastmlp" "$src/fastmlp"
        rm -rf "$src/fastmlp/kernels"
        ln -s "$ROOT/kernels" "$src/fastmlp/kernels"
        export PYTHONPATH=$src:$PYTHONPATH
        say "fastmlp from PYTHONPATH=$PYTHONPATH"
    fi
    if [ -z "${CUDA_HOME:-}" ]; then
        NVCC=$(command -v nvcc || ls /usr/local/cuda*/bin/nvcc 2>/dev/null | head -1)
        if [ -n "$NVCC" ]; then
            export CUDA_HOME
            CUDA_HOME=$(dirname "$(dirname "$(readlink -f "$NVCC")")")
        fi
    fi
    say "CUDA_HOME=${CUDA_HOME:-unset}; $(nvidia-smi -L 2>&1 | head -1)"
fi
cd "$WORK" || exit 2
LEFT=$((BUDGET - ($(date +%s) - T0) - 10))
# The Python deadline stops before a new point; timeout is the hard stop.
timeout -k 5 "$LEFT" "$PY" -m bench.gpu_narrow --out "$OUT/narrow.json" \
    --deadline-s $((LEFT - 45)) "$@" 2>&1 | tee -a "$LOG"
say "bench rc=${PIPESTATUS[0]} at $(($(date +%s) - T0))s"
# With the time left: the device epoch tests (both narrow paths vs the CPU).
LEFT=$((BUDGET - ($(date +%s) - T0) - 5))
if [ "$SIM" != 1 ] && [ "$LEFT" -ge 40 ]; then
    timeout -k 5 "$LEFT" "$PY" -m pytest "$ROOT/tests/test_cuda_gpu.py" \
        --rootdir "$ROOT" -p no:cacheprovider -o addopts="" -q -rA \
        -k "device_epoch and fused" 2>&1 | tail -15 | tee -a "$LOG"
fi
say "total $(($(date +%s) - T0))s of ${BUDGET}s; files: $(ls "$OUT" | tr '\n' ' ')"
rm -rf "$WORK"
exit 0
