"""The narrow epoch against the general one, per batch, interleaved.

``fastmlp.kernels.cpu.narrow`` trains networks whose layers are all at most
``NARROW_MAX_WIDTH`` units wide by row on padded lanes, without BLAS; the
others go through the general epoch (every product a BLAS call). For each
network below both epochs run in one process, alternating, 7 rounds of 20
epochs each (Adam, random data); the report is the median microseconds per
minibatch and the ratio. ``--max-width`` sets the limit for the narrow runs
(8 is the default; 16 and 32 show why it is not higher).

    python -m bench.narrow                       # float32 and float64
    python -m bench.narrow --max-width 32 --dtype float32
    python -m bench.narrow --quick               # smoke test (the test suite's)
"""

import argparse
import json
import statistics
import sys
import time

import numpy as np

from bench.common import rotated
from bench.second_core import epoch_runner

#: (layer sizes, rows, batch, hidden, output, loss, outputs)
NETWORKS = [
    ([2, 8, 8, 1], 800, 10, "tanh", "logistic", "binary_log_loss", 1),
    ([2, 8, 8, 8, 8, 8, 8, 1], 800, 10, "tanh", "logistic", "binary_log_loss", 1),
    ([2, 8, 8, 1], 800, 200, "tanh", "logistic", "binary_log_loss", 1),
    ([7, 3, 1], 800, 10, "relu", "logistic", "binary_log_loss", 1),
    ([5, 8, 8, 3], 1000, 32, "logistic", "softmax", "log_loss", 3),
]
WIDER = [
    ([4, 12, 12, 1], 800, 10, "tanh", "logistic", "binary_log_loss", 1),
    ([6, 16, 16, 3], 1000, 32, "relu", "softmax", "log_loss", 3),
    ([8, 32, 32, 10], 2000, 64, "relu", "softmax", "log_loss", 10),
]


def compare(network, dtype, max_width, rounds=7, inner=20):
    """Median us per batch of the general and the narrow epoch, interleaved."""
    from fastmlp.kernels import ACTIVATION_CODES, LOSS_CODES
    from fastmlp.kernels.cpu import narrow

    sizes, n, batch, hidden, output, loss, n_out = network
    codes = (ACTIVATION_CODES[hidden], ACTIVATION_CODES[output], LOSS_CODES[loss])
    saved = narrow.NARROW_MAX_WIDTH
    runs = {}
    times = {"narrow": [], "general": []}
    try:
        for path in ("narrow", "general"):
            narrow.NARROW_MAX_WIDTH = max_width if path == "narrow" else 0
            runs[path] = epoch_runner(sizes, n, batch, *codes, n_out, dtype=dtype)
        for r in range(rounds):
            for path in rotated(("general", "narrow"), r):
                narrow.NARROW_MAX_WIDTH = max_width if path == "narrow" else 0
                epoch, n_batches = runs[path]
                start = time.perf_counter()
                for _ in range(inner):
                    epoch()
                elapsed = time.perf_counter() - start
                times[path].append(elapsed / inner / n_batches * 1e6)
    finally:
        narrow.NARROW_MAX_WIDTH = saved
    general = statistics.median(times["general"])
    fast = statistics.median(times["narrow"])
    return {
        "network": "-".join(map(str, sizes)),
        "batch": batch,
        "dtype": np.dtype(dtype).name,
        "narrow_lanes": narrow.narrow_lanes(sizes, max_width),
        "general_us_per_batch": general,
        "narrow_us_per_batch": fast,
        "speedup": general / fast,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float32,float64")
    parser.add_argument("--max-width", type=int, default=8)
    parser.add_argument("--wider", action="store_true", help="also 12-32-wide nets")
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: the playground net, float32"
    )
    args = parser.parse_args(argv)
    networks = NETWORKS + (WIDER if args.wider or args.max_width > 8 else [])
    dtypes = args.dtype.split(",")
    rounds, inner = 7, 20
    if args.quick:
        networks, dtypes, rounds, inner = NETWORKS[:1], ["float32"], 1, 1
    results = []
    for dtype in dtypes:
        for network in networks:
            row = compare(network, np.dtype(dtype).type, args.max_width, rounds, inner)
            results.append(row)
            print(
                f"{row['dtype']} {row['network']} batch {row['batch']} "
                f"(lanes {row['narrow_lanes']}): general "
                f"{row['general_us_per_batch']:.2f} us/batch, narrow "
                f"{row['narrow_us_per_batch']:.2f}, {row['speedup']:.2f}x",
                file=sys.stderr,
                flush=True,
            )
    print(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
