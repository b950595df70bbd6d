"""Tunables of the CUDA backend (:mod:`fastmlp.kernels.cuda`).

Read by the host drivers at every call, so tests patch them small (a few
threads per block, tiny tiles) to run multi-block and edge paths under the
CUDA simulator. Kernels are built per distinct setting (see
``cuda.gemm._gemm_kernel`` and ``cuda.kernels1d._kernels``); shared and
register tile sizes are compile-time constants of the kernel they build.
"""

import os

#: Threads per block of the 1-D kernels (activations, loss, optimizers,
#: reductions). A power of two: block reductions halve it.
THREADS_PER_BLOCK = 256

#: Output tile of one GEMM block (rows x columns), its depth per shared-memory
#: stage, and the register tile of one thread (rows x columns). The block has
#: ``(GEMM_TILE_M // GEMM_THREAD_M) * (GEMM_TILE_N // GEMM_THREAD_N)`` threads.
# Measured on an H200 (README, GPU section): 128 x 128 x 16 tiles with 8 x 8
# per thread ran the 4096^3 SGEMM at 6.9 TFLOP/s against 3.7 for these, but
# spilled registers (256-512 bytes of local memory in the nn and nt kernels)
# and, with 4x fewer blocks on training's shapes, halved wide networks'
# training (width 256, batch 1024: 495k against 987k samples/s): kept here.
GEMM_TILE_M = 64
GEMM_TILE_N = 64
GEMM_TILE_K = 16
GEMM_THREAD_M = 4
GEMM_THREAD_N = 4

#: Fully fused MLP kernel: used when every layer after the input is at most
#: this wide; a block owns ``FUSED_ROWS`` batch rows, runs ``FUSED_THREADS``
#: threads (a power of two), and keeps two ``FUSED_ROWS x FUSED_MAX_WIDTH``
#: activation tiles in shared memory (16 KiB in float64 at the defaults).
# Tuned on an H200 (width 128, batch 1024, float32; two windows): 8 rows a
# block ran 2.61M and 2.54M samples/s, 4 rows 2.98M and 2.31M, 16 rows 1.58M
# twice (more blocks in flight; README, GPU section).
FUSED_MAX_WIDTH = 128
FUSED_ROWS = 8
FUSED_THREADS = 128

#: Fused epoch (``cuda.epoch``): one cooperative launch runs every minibatch of
#: an epoch of a narrow network (False: the per-batch path, one fused step and
#: one optimizer launch a batch; ``FASTMLP_CUDA_FUSED_EPOCH=0`` in the
#: environment sets it False at import). Its grid has ``FUSED_EPOCH_BLOCKS``
#: blocks (0: ``FUSED_EPOCH_BLOCKS_PER_SM`` per multiprocessor), at most as
#: many as can be resident at once; the batch's gradient is summed in
#: ``FUSED_EPOCH_PARTS`` partial vectors (0: one per block) over tiles of
#: ``FUSED_EPOCH_TILE_ROWS`` rows (0: the batch spread over the parts, at most
#: ``FUSED_ROWS``).
FUSED_EPOCH = os.environ.get("FASTMLP_CUDA_FUSED_EPOCH", "1") != "0"
FUSED_EPOCH_BLOCKS = 0
FUSED_EPOCH_BLOCKS_PER_SM = 2
FUSED_EPOCH_PARTS = 0
FUSED_EPOCH_TILE_ROWS = 0

#: Rows per chunk of the tiled prediction pass (bounds its device buffers).
PREDICT_CHUNK = 65536

#: Tiny tunables for the CUDA simulator (every simulated GPU thread is a Python
#: thread): 4 x 4 GEMM tiles in 2 x 2 register tiles (4 threads), 2-deep K
#: slabs, 8-thread reductions, fused blocks of 3 rows on 4 threads, fused widths
#: up to 8, so tiny shapes span several blocks and partial tiles. The simulator
#: test lane and the GPU window's dry run both patch these in.
SIMULATOR_TUNABLES = {
    "THREADS_PER_BLOCK": 8,
    "GEMM_TILE_M": 4,
    "GEMM_TILE_N": 4,
    "GEMM_TILE_K": 2,
    "GEMM_THREAD_M": 2,
    "GEMM_THREAD_N": 2,
    "FUSED_ROWS": 3,
    "FUSED_THREADS": 4,
    "FUSED_MAX_WIDTH": 8,
    "PREDICT_CHUNK": 5,
    "FUSED_EPOCH_PARTS": 2,
}
