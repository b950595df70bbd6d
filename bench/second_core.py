"""Does the second core pay for networks too small for BLAS threads?

Three measurements, in one process, interleaved:

1. **Fork/join of two threads.** A numba ``prange`` over two halves of a
   trivial loop (``parallel=True``, two threads) against the same loop on one
   thread: the cost of handing half a batch to the second core and waiting for
   it, paid at least once per layer and pass if a batch is split.
2. **A batch of each small workload.** ``train_epoch`` time per minibatch of
   the playground (2-8-8-1, batch 10) and digits (64-128-10, batch 64)
   networks, float32, on one thread: the work there is to split.
3. **BLAS threads in a digits epoch.** The same epochs with the BLAS that the
   kernels call (scipy's OpenBLAS) limited to one thread and at its default,
   through threadpoolctl.

    python -m bench.second_core
"""

import json
import sys

import numpy as np

from bench.common import median_seconds


def fork_join_us():
    """(two-thread prange call, one-thread call) in microseconds, trivial work."""
    import numba

    @numba.njit(parallel=True)
    def split(x):
        for half in numba.prange(2):
            lo = half * (x.shape[0] // 2)
            for i in range(lo, lo + x.shape[0] // 2):
                x[i] += 1.0

    @numba.njit
    def serial(x):
        for i in range(x.shape[0]):
            x[i] += 1.0

    x = np.zeros(64)
    numba.set_num_threads(2)
    split(x)
    serial(x)
    return (
        median_seconds(lambda: split(x), inner=2000) * 1e6,
        median_seconds(lambda: serial(x), inner=2000) * 1e6,
    )


def epoch_runner(layer_sizes, n, batch, hidden, output, loss, n_out, dtype=np.float32):
    """A closure running one ``train_epoch`` (Adam) of random data; and the
    number of batches an epoch has."""
    from fastmlp.kernels import cpu, workspace_size

    rng = np.random.default_rng(0)
    dt = dtype
    X = rng.random((n, layer_sizes[0])).astype(dt)
    Y = np.eye(n_out, dtype=dt)[rng.integers(0, n_out, n)]
    if n_out == 1:
        Y = (rng.random((n, 1)) > 0.5).astype(dt)
    sizes = np.array(layer_sizes)
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    params = (0.1 * rng.normal(size=n_params)).astype(dt)
    grads, m, v = (np.zeros_like(params) for _ in range(3))
    buf = workspace_size(sizes, batch)
    act, delta = np.empty(buf, dt), np.empty(buf, dt)
    hyper = np.array([1e-3, 0.9, 0, 0.9, 0.999, 1e-8, 1e-4, 0], dt)
    step = np.zeros(1, np.int64)
    idx = np.arange(n)
    sw = np.empty(0, dt)

    def epoch():
        cpu.train_epoch(
            X, Y, sw, idx, 0, params, grads, sizes, hidden, output, loss, batch, 1,
            hyper, m, v, step, act, delta,
        )  # fmt: skip

    epoch()  # compile or load
    return epoch, -(-n // batch)


def main(argv=None):
    from fastmlp.kernels import ACTIVATION_CODES as A
    from fastmlp.kernels import LOSS_CODES as L
    from threadpoolctl import ThreadpoolController

    two, one = fork_join_us()
    playground, pg_batches = epoch_runner(
        [2, 8, 8, 1], 800, 10, A["tanh"], A["logistic"], L["binary_log_loss"], 1
    )
    digits, dg_batches = epoch_runner(
        [64, 128, 10], 1437, 64, A["relu"], A["softmax"], L["log_loss"], 10
    )
    blas = ThreadpoolController().select(user_api="blas")
    with blas.limit(limits=1):
        pg_1 = median_seconds(playground, inner=20) / pg_batches * 1e6
        dg_1 = median_seconds(digits, inner=5) / dg_batches * 1e6
    dg_default = median_seconds(digits, inner=5) / dg_batches * 1e6
    with blas.limit(limits=1):
        dg_1b = median_seconds(digits, inner=5) / dg_batches * 1e6
    dg_1 = min(dg_1, dg_1b)
    out = {
        "fork_join_2_threads_us": two,
        "same_loop_1_thread_us": one,
        "playground_batch_us_1_blas_thread": pg_1,
        "digits_batch_us_1_blas_thread": dg_1,
        "digits_batch_us_default_blas_threads": dg_default,
        "blas_threads_default": [c.num_threads for c in blas.lib_controllers],
    }
    print(json.dumps(out, indent=1))
    print(
        f"two-thread fork/join {two:.1f} us (one thread {one:.2f} us); a "
        f"playground batch {pg_1:.2f} us, a digits batch {dg_1:.1f} us with one "
        f"BLAS thread, {dg_default:.1f} us with the default "
        f"{out['blas_threads_default']}",
        file=sys.stderr,
    )
    return out


if __name__ == "__main__":
    main()
