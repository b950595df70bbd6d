"""Tunables of the CUDA backend (:mod:`fastmlp.kernels.cuda`).

Read by the host drivers at every call, so tests patch them small (a few
threads per block, tiny tiles) to run multi-block and edge paths under the
CUDA simulator. Kernels are built per distinct setting (see
``cuda.gemm._gemm_kernel`` and ``cuda.kernels1d._kernels``); shared and
register tile sizes are compile-time constants of the kernel they build.
"""

#: Threads per block of the 1-D kernels (activations, loss, optimizers,
#: reductions). A power of two: block reductions halve it.
THREADS_PER_BLOCK = 256

#: Output tile of one GEMM block (rows x columns), its depth per shared-memory
#: stage, and the register tile of one thread (rows x columns). The block has
#: ``(GEMM_TILE_M // GEMM_THREAD_M) * (GEMM_TILE_N // GEMM_THREAD_N)`` threads.
# Tuned on an H200 (python -m bench.gpu_window tune, float32 4096^3): 128 x
# 128 x 16 with 8 x 8 per thread ran 6.75 TFLOP/s against 3.69 for 64 x 64 x
# 16 with 4 x 4 (the best of 12 settings; README, GPU section).
GEMM_TILE_M = 128
GEMM_TILE_N = 128
GEMM_TILE_K = 16
GEMM_THREAD_M = 8
GEMM_THREAD_N = 8

#: Fully fused MLP kernel: used when every layer after the input is at most
#: this wide; a block owns ``FUSED_ROWS`` batch rows, runs ``FUSED_THREADS``
#: threads (a power of two), and keeps two ``FUSED_ROWS x FUSED_MAX_WIDTH``
#: activation tiles in shared memory (8 KiB in float64 at the defaults).
# Tuned on an H200 (width 128, batch 1024, float32): 4 rows a block ran
# 2.98M samples/s against 1.58M for 16 rows (more blocks in flight).
FUSED_MAX_WIDTH = 128
FUSED_ROWS = 4
FUSED_THREADS = 128

#: Rows per chunk of the tiled prediction pass (bounds its device buffers).
PREDICT_CHUNK = 65536
