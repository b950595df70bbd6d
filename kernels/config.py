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
GEMM_TILE_M = 64
GEMM_TILE_N = 64
GEMM_TILE_K = 16
GEMM_THREAD_M = 4
GEMM_THREAD_N = 4

#: Fully fused MLP kernel: used when every layer after the input is at most
#: this wide; a block owns ``FUSED_ROWS`` batch rows, runs ``FUSED_THREADS``
#: threads (a power of two), and keeps two ``FUSED_ROWS x FUSED_MAX_WIDTH``
#: activation tiles in shared memory (32 KiB in float64 at the defaults).
FUSED_MAX_WIDTH = 128
FUSED_ROWS = 16
FUSED_THREADS = 128

#: Rows per chunk of the tiled prediction pass (bounds its device buffers).
PREDICT_CHUNK = 65536
