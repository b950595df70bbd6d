#!/usr/bin/env bash
# The GPU window in one command (issue 22), from the repository root:
#
#     bash bench/gpu_window.sh                      # on the lent GPU machine
#     FASTMLP_GPU_WINDOW_SIM=1 bash bench/gpu_window.sh   # simulator dry run
#
# Installs fastmlp into the machine's own python without network (falls back
# to a PYTHONPATH folder when pip cannot), then runs stages, each under its own
# `timeout` against one global deadline (FASTMLP_GPU_WINDOW_BUDGET_S, 450 s),
# each writing its results under $OUT the moment it ends (at most 8 files):
#
#   1. probe       versions, nvidia-smi, numba.cuda.detect(), libs.test(), a
#                  first launch, probe fits on the fused and the tiled path; on
#                  failure again with CUDA_HOME from nvcc, then with
#                  FASTMLP_CUDA_CACHE=0: probe_<attempt>.json
#   2. pytest      tests/test_cuda_gpu.py only (into window.log)
#   3. resources   registers, shared and local memory per kernel: resources.json
#   4. bench.gpu   SGEMM vs cuBLAS (CUDA events, TF32 off), host vs device per
#                  batch, the batch x width sweep vs PyTorch: gpu.json
#   5. bench.run   GPU rows (fastmlp-cuda, torch-cuda, jax): run.json
#   6. tune        tunables grid with the time left: tuning.json
#
# Everything printed goes to $OUT/window.log; a short summary prints last.
# Environment: OUT (default bench/results/gpu_window), FASTMLP_PYTHON
# (default python3), FASTMLP_GPU_WINDOW_SIM=1 (NUMBA_ENABLE_CUDASIM=1, tiny
# sizes, no install), FASTMLP_GPU_WINDOW_BUDGET_S.
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
OUT=${OUT:-$ROOT/bench/results/gpu_window}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PY=${FASTMLP_PYTHON:-python3}
SIM=${FASTMLP_GPU_WINDOW_SIM:-0}
BUDGET=${FASTMLP_GPU_WINDOW_BUDGET_S:-450}
RESERVE=15 # seconds kept for the summary
T0=$(date +%s)
DEADLINE=$((T0 + BUDGET))
export PYTHONUNBUFFERED=1
LOG=$OUT/window.log
WORK=$(mktemp -d)
STAGES=$WORK/stages.txt
: >"$LOG"
: >"$STAGES"
if [ "$SIM" = 1 ]; then
    export NUMBA_ENABLE_CUDASIM=1
fi
# Python runs in $WORK, with the repository on PYTHONPATH (for bench/): a
# folder named fastmlp in the current directory would shadow the installed
# package (whose fastmlp.kernels is kernels/).
export PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH}

say() { echo "$*" | tee -a "$LOG"; }
left() { echo $((DEADLINE - $(date +%s) - RESERVE)); }

# stage NAME MAX_S CMD...: CMD under `timeout`, at most MAX_S and the time
# left; its output goes to the log; one line per stage in $STAGES.
stage() {
    local name=$1 max=$2 limit start rc
    shift 2
    limit=$(left)
    [ "$limit" -lt "$max" ] && max=$limit
    if [ "$max" -lt 5 ]; then
        echo "$(printf '%-18s' "$name") skipped: deadline" >>"$STAGES"
        say "=== $name skipped: deadline ==="
        return 124
    fi
    start=$(date +%s)
    say "=== $name (limit ${max}s, $(($(date +%s) - T0))s in) ==="
    timeout -k 5 "$max" "$@" >>"$LOG" 2>&1
    rc=$?
    echo "$(printf '%-18s' "$name") rc=$rc $(($(date +%s) - start))s" >>"$STAGES"
    say "=== $name rc=$rc in $(($(date +%s) - start))s ==="
    return $rc
}

# --- install ---------------------------------------------------------------
use_source_tree() {
    # fastmlp.kernels lives in kernels/: a folder where fastmlp/kernels is it.
    local src=$WORK/src
    mkdir -p "$src"
    cp -r "$ROOT/fastmlp" "$src/fastmlp"
    rm -rf "$src/fastmlp/kernels"
    ln -s "$ROOT/kernels" "$src/fastmlp/kernels"
    export PYTHONPATH=$src:$PYTHONPATH
    say "fastmlp from PYTHONPATH=$PYTHONPATH"
}
if [ "$SIM" = 1 ]; then
    say "simulator dry run: no install (fastmlp from the current environment)"
else
    # FASTMLP_SHIP_KERNELS=0: no ahead-of-time CPU compile in the GPU window
    export FASTMLP_SHIP_KERNELS=0
    stage install 90 "$PY" -m pip install --no-deps --no-build-isolation -e .
    if ! (cd "$WORK" && "$PY" -c "import fastmlp.kernels") >>"$LOG" 2>&1; then
        use_source_tree
    fi
fi
cd "$WORK" || exit 2

# --- 1. probe, with fallbacks ------------------------------------------------
{
    echo "--- nvidia-smi"
    nvidia-smi 2>&1 | head -20
    echo "--- nvcc: $(command -v nvcc)"
    nvcc --version 2>&1 | tail -2
} >>"$LOG" 2>&1
NVCC=$(command -v nvcc || ls /usr/local/cuda*/bin/nvcc 2>/dev/null | head -1)
CUDA_FROM_NVCC=""
if [ -n "$NVCC" ]; then
    CUDA_FROM_NVCC=$(dirname "$(dirname "$(readlink -f "$NVCC")")")
fi
PROBE_OK=""
for attempt in plain cuda_home cache_off; do
    case $attempt in
    cuda_home)
        [ -n "$CUDA_FROM_NVCC" ] || continue
        export CUDA_HOME=$CUDA_FROM_NVCC
        ;;
    cache_off)
        export FASTMLP_CUDA_CACHE=0
        ;;
    esac
    if stage "probe:$attempt" 150 "$PY" -m bench.gpu_window probe \
        --out "$OUT/probe_$attempt.json" --attempt "$attempt"; then
        PROBE_OK=$attempt
        break
    fi
done
say "probe passed with: ${PROBE_OK:-nothing} (CUDA_HOME=${CUDA_HOME:-unset}, FASTMLP_CUDA_CACHE=${FASTMLP_CUDA_CACHE:-unset})"
if [ -z "$PROBE_OK" ]; then
    # Nothing worked: keep the default environment (CUDA_HOME from nvcc, the
    # cache on) and let the stages record their own errors.
    unset FASTMLP_CUDA_CACHE
fi

# --- 2. the GPU tests only ---------------------------------------------------
stage pytest 120 "$PY" -m pytest "$ROOT/tests/test_cuda_gpu.py" \
    --rootdir "$ROOT" -p no:cacheprovider -o addopts="" -q -rA

# --- 3. per-kernel resources -------------------------------------------------
stage resources 60 "$PY" -m bench.gpu_window resources --out "$OUT/resources.json"

# --- 4. bench.gpu -------------------------------------------------------------
if [ "$SIM" = 1 ]; then
    GPU_ARGS=()
else
    GPU_ARGS=(--sgemm-sizes 4096,8192 --widths 16,128,1024,64,256
        --batches 64,256,1024,4096,16384,65536,262144,1048576)
fi
GPU_MAX=150
GPU_LEFT=$(left)
[ "$GPU_LEFT" -lt "$GPU_MAX" ] && GPU_MAX=$GPU_LEFT
stage bench.gpu "$GPU_MAX" "$PY" -m bench.gpu --out "$WORK/gpu" \
    --json "$OUT/gpu.json" --deadline-s $((GPU_MAX - 20)) "${GPU_ARGS[@]}"

# --- 5. bench.run GPU rows ----------------------------------------------------
if [ "$SIM" = 1 ]; then
    RUN_ARGS=(--quick --impls fastmlp-cuda,sklearn --workloads playground)
else
    RUN_ARGS=(--impls fastmlp-cuda,torch-cuda,jax --workloads playground,digits
        --repeats 3)
fi
if [ "$(left)" -ge 90 ]; then
    JAX_DEFAULT_MATMUL_PRECISION=highest stage bench.run 75 "$PY" -m bench.run \
        --no-fresh-process --no-plots --out "$WORK/run" "${RUN_ARGS[@]}"
    cp "$WORK/run/results.json" "$OUT/run.json" 2>/dev/null
else
    echo "$(printf '%-18s' bench.run) skipped: under 90 s left" >>"$STAGES"
fi

# --- 6. tuning grid with the time left ---------------------------------------
TUNE_LEFT=$(left)
if [ "$TUNE_LEFT" -ge 20 ]; then
    stage tune "$TUNE_LEFT" "$PY" -m bench.gpu_window tune \
        --out "$OUT/tuning.json" --deadline-s $((TUNE_LEFT - 10))
else
    echo "$(printf '%-18s' tune) skipped: under 20 s left" >>"$STAGES"
fi

# --- summary (last: the end of the output is what comes back) ----------------
echo "total $(($(date +%s) - T0))s of ${BUDGET}s; files in $OUT:" >>"$STAGES"
ls "$OUT" >>"$STAGES"
timeout 10 "$PY" -m bench.gpu_window summary --out-dir "$OUT" --stages "$STAGES" \
    2>&1 | tee -a "$LOG"
rm -rf "$WORK"
exit 0
