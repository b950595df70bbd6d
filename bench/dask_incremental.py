"""Incremental training on a dask cluster against the same partial_fit run here.

``dask_ml.wrappers.Incremental(FastMLPClassifier((64,)))`` over a lazily
generated dataset (each block made from its seed on the worker that needs
it; the driver never holds X), several passes of ``partial_fit`` block by
block in a fixed order, on a ``LocalCluster`` of 2 worker processes with 1
thread each; against the same blocks in the same order generated and fitted
in this one process (with its BLAS threads, and with BLAS at 1 thread as
on each worker). Interleaved repeats, medians, samples/s (block
generation included on both sides). Needs the dask extra
(``pip install -e ".[dask]"``).

    python -m bench.dask_incremental [--rows 200000] [--blocks 10] [--passes 3]
"""

import argparse
import os
import statistics
import time

import numpy as np

from bench.common import blas_info, loadavg

CLASSES = np.array([0, 1, 2])


def make_x(seed, rows, features):
    return np.random.RandomState(1000 + seed).randn(rows, features).astype(np.float32)


def label(X):
    teacher = np.random.RandomState(12345).randn(X.shape[1], len(CLASSES))
    return np.argmax(np.tanh(X) @ teacher, axis=1).astype(np.int64)


def make_block(seed, rows, features):
    """Block ``seed`` of the dataset: X (float32) and its labels."""
    X = make_x(seed, rows, features)
    return X, label(X)


def _x_block(rows, features, block_id=None):
    return make_x(block_id[0], rows, features)


def lazy_dataset(blocks, rows, features):
    import dask.array as da

    X = da.map_blocks(
        _x_block,
        rows,
        features,
        chunks=((rows,) * blocks, (features,)),
        dtype=np.float32,
        meta=np.empty((0, features), np.float32),
    )
    y = X.map_blocks(label, drop_axis=1, dtype=np.int64, meta=np.empty(0, np.int64))
    return X, y


def make_clf(hidden):
    from fastmlp import FastMLPClassifier

    return FastMLPClassifier((hidden,), batch_size=200, random_state=0, device="cpu")


def _warm():
    import fastmlp

    return fastmlp.warmup(("float32",))["float32"]


def run_dask(X, y, passes, hidden):
    from dask_ml.wrappers import Incremental

    inc = Incremental(make_clf(hidden), shuffle_blocks=False)
    start = time.perf_counter()
    for _ in range(passes):
        inc.partial_fit(X, y, classes=CLASSES)
    return time.perf_counter() - start


def run_local(blocks, rows, features, passes, hidden):
    clf = make_clf(hidden)
    start = time.perf_counter()
    for _ in range(passes):
        for i in range(blocks):
            clf.partial_fit(*make_block(i, rows, features), classes=CLASSES)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="total rows")
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    import threadpoolctl
    from distributed import Client, LocalCluster

    rows = args.rows // args.blocks
    samples = args.passes * rows * args.blocks
    _warm()  # compile into numba's cache before the workers start
    X, y = lazy_dataset(args.blocks, rows, args.features)
    times = {"dask": [], "local": [], "local1": []}
    with (
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(_warm)  # workers load the kernels before the timing
        for _ in range(args.repeats):
            times["dask"].append(run_dask(X, y, args.passes, args.hidden))
            local_args = (args.blocks, rows, args.features, args.passes, args.hidden)
            times["local"].append(run_local(*local_args))
            with threadpoolctl.threadpool_limits(1, user_api="blas"):
                times["local1"].append(run_local(*local_args))
    blas = [i["num_threads"] for i in blas_info() or () if i["user_api"] == "blas"]
    load = ", ".join(f"{v:.2f}" for v in loadavg() or ())
    print(
        f"{args.rows} x {args.features} float32 in {args.blocks} blocks, "
        f"{args.passes} passes, FastMLPClassifier(({args.hidden},)), "
        f"medians of {args.repeats}; load average {load}; "
        f"local BLAS threads {max(blas, default=1)}, {os.cpu_count()} cores\n"
    )
    local = samples / statistics.median(times["local"])
    print("| run | samples/s | vs local |")
    print("| --- | ---: | ---: |")
    print(f"| local, one process | {local:,.0f} | 1.00 |")
    local1 = samples / statistics.median(times["local1"])
    ratio1 = local1 / local
    print(f"| local, one process, BLAS 1 thread | {local1:,.0f} | {ratio1:.2f} |")
    dask_rate = samples / statistics.median(times["dask"])
    print(
        f"| dask Incremental, {args.workers} workers x 1 thread | "
        f"{dask_rate:,.0f} | {dask_rate / local:.2f} |"
    )


if __name__ == "__main__":
    main()
