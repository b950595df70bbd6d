"""Narrow networks on the GPU, before/after the fused epoch (issue 24):
``python -m bench.gpu_narrow --out narrow.json``.

One run, each result written to ``--out`` the moment it is measured:

* **check**: the fused epoch against the per-batch fused path on the device
  (width 64, batch 256, three shuffled epochs, adam and sgd): largest
  relative difference of the losses and params, the cooperative grid used,
  and the fallback reason if the epoch kernel could not run.
* **host**: host vs device time per minibatch of one epoch
  (:func:`bench.gpu.host_device_split`), per-batch path then fused epoch at
  each point (paired).
* **sweep**: training samples/s of ``FastMLPClassifier(device="cuda")`` on the
  per-batch path ("old"), the fused epoch ("new") and PyTorch CUDA eager
  (``nn.Sequential`` + ``Adam(fused=True)``, TF32 off), interleaved per point
  and repeated; ratios new/torch, old/torch and new/old are paired (median of
  the repeats).
* **tune**: with the time left, the fused epoch's grid (blocks per SM) and
  tile rows at a few points.

Stops before a point once ``--deadline-s`` has passed. In the simulator
(``NUMBA_ENABLE_CUDASIM=1``) it runs tiny sizes with the simulator's tunables
(a dry run of the harness; the timings mean nothing).
"""

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from bench.gpu import (
    _data,
    _Deadline,
    _estimator,
    _simulated,
    _torch_cuda_available,
    _TorchCuda,
    host_device_split,
)

WIDTHS = (16, 32, 64, 128)
BATCHES = (64, 256, 1024, 4096)


def _config():
    from fastmlp.kernels import config

    return config


def _path_info():
    from fastmlp.kernels.cuda import epoch

    return {
        "fused_epoch_failure": epoch.fused_epoch_failure(),
        "grids": [
            {"resident_blocks": r, "sms": s} for r, s in epoch._grid_cache.values()
        ],
    }


def check(width=64, batch=256, n_batches=8, log=print, n_features=32, n_classes=10):
    """The fused epoch vs the per-batch path on the device: relative
    differences of losses and params after three shuffled epochs."""
    from fastmlp.kernels import (
        ACTIVATION_CODES,
        LOSS_CODES,
        SOLVER_CODES,
        param_layout,
        workspace_size,
    )
    from fastmlp.kernels import cuda as backend

    config = _config()
    rows = []
    X, y = _data(batch * n_batches, n_features, n_classes)
    Y = np.eye(n_classes, dtype=np.float32)[y]
    sizes = np.array([n_features, width, width, n_classes], dtype=np.int64)
    codes = (
        ACTIVATION_CODES["relu"],
        ACTIVATION_CODES["softmax"],
        LOSS_CODES["log_loss"],
    )
    _, _, n_params = param_layout(sizes)
    params0 = (np.random.default_rng(0).standard_normal(n_params) * 0.1).astype(
        np.float32
    )
    up = backend.to_device
    for solver in ("adam", "sgd"):
        out = {}
        for fused_epoch in (False, True):
            config.FUSED_EPOCH = fused_epoch
            p = up(params0.copy())
            m = up(np.zeros(n_params, np.float32))
            v = up(np.zeros(n_params if solver == "adam" else 0, np.float32))
            size = workspace_size(sizes, batch)
            act, delta = up(np.empty(size, np.float32)), up(np.empty(size, np.float32))
            idx = up(np.arange(len(X), dtype=np.int64))
            step = np.zeros(1, np.int64)
            hyper = np.array([1e-3, 0.9, 1.0, 0.9, 0.999, 1e-8, 1e-4, 0.0])
            losses = [
                backend.train_epoch(
                    up(X),
                    up(Y),
                    up(np.empty(0, np.float32)),
                    idx,
                    seed,
                    p,
                    up(np.zeros(n_params, np.float32)),
                    sizes,
                    *codes,
                    batch,
                    SOLVER_CODES[solver],
                    hyper,
                    m,
                    v,
                    step,
                    act,
                    delta,
                )  # fmt: skip
                for seed in (0, 1, 2)
            ]
            out[fused_epoch] = (np.array(losses), backend.to_host(p), int(step[0]))
        config.FUSED_EPOCH = True
        (lo, po, so), (ln, pn, sn) = out[False], out[True]
        scale = float(np.max(np.abs(po)))
        row = {
            "solver": solver,
            "width": width,
            "batch": batch,
            "loss_rel_diff": float(np.max(np.abs(ln - lo) / np.abs(lo))),
            "params_rel_diff": float(np.max(np.abs(pn - po)) / scale),
            "steps": [so, sn],
            "losses_old": lo.tolist(),
            "losses_new": ln.tolist(),
            **_path_info(),
        }
        row["ok"] = bool(
            row["loss_rel_diff"] < 1e-3 and row["params_rel_diff"] < 1e-3 and so == sn
        )
        log(f"[check] {row}")
        rows.append(row)
    return rows


def _fit_rate(make, X, y, epochs):
    make(2).fit(X[: 2 * make.batch], y[: 2 * make.batch])  # warm, compile
    start = time.perf_counter()
    make(epochs).fit(X, y)
    return len(X) * epochs / (time.perf_counter() - start)


class _Fastmlp:
    def __init__(self, width, batch, fused_epoch):
        self.width, self.batch, self.fused_epoch = width, batch, fused_epoch

    def __call__(self, epochs):
        _config().FUSED_EPOCH = self.fused_epoch
        return _estimator(self.width, self.batch, epochs)


class _Torch:
    def __init__(self, width, batch):
        self.width, self.batch = width, batch

    def __call__(self, epochs):
        return _TorchCuda(self.width, self.batch, epochs)


def sweep_point(width, batch, rows, epochs, repeats, torch_ok, n_features, log):
    """Old, new and torch at one point, interleaved ``repeats`` times."""
    X, y = _data(rows, n_features, 10)
    makers = {
        "old": _Fastmlp(width, batch, False),
        "new": _Fastmlp(width, batch, True),
    }
    if torch_ok:
        makers["torch"] = _Torch(width, batch)
    rates = {name: [] for name in makers}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(repeats):
            for name, make in makers.items():
                rates[name].append(_fit_rate(make, X, y, epochs))
    _config().FUSED_EPOCH = True
    row = {"width": width, "batch": batch, "rows": rows, "epochs": epochs}
    for name, values in rates.items():
        row[f"{name}_samples_per_s"] = statistics.median(values)
        row[f"{name}_all"] = values

    def paired(a, b):
        return statistics.median(x / z for x, z in zip(rates[a], rates[b], strict=True))

    row["new_over_old"] = paired("new", "old")
    if torch_ok:
        row["new_over_torch"] = paired("new", "torch")
        row["old_over_torch"] = paired("old", "torch")
    log(
        f"[sweep] width {width} batch {batch}: old {row['old_samples_per_s']:,.0f} "
        f"new {row['new_samples_per_s']:,.0f} torch "
        f"{row.get('torch_samples_per_s', float('nan')):,.0f} samples/s; new/old "
        f"{row['new_over_old']:.2f}x new/torch {row.get('new_over_torch', 0):.2f}x"
    )
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.gpu_narrow", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results/narrow.json"))
    parser.add_argument("--deadline-s", type=float, default=240.0)
    parser.add_argument("--widths", default=",".join(map(str, WIDTHS)))
    parser.add_argument("--batches", default=",".join(map(str, BATCHES)))
    parser.add_argument("--rows", type=int, default=65536)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--sections", default="check,host,sweep,tune")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    deadline = _Deadline(args.deadline_s)
    sections = args.sections.split(",")
    simulated = _simulated()
    config = _config()
    widths = [int(w) for w in args.widths.split(",")]
    batches = [int(b) for b in args.batches.split(",")]
    n_features, rows = 32, args.rows
    if simulated:  # tiny: every simulated GPU thread is a Python thread
        for name, value in config.SIMULATOR_TUNABLES.items():
            setattr(config, name, value)
        widths, batches, rows, n_features = [4], [4], 12, 3
    from fastmlp._backend import resolve_device

    resolve_device("cuda")
    from numba import cuda

    device = "CUDA simulator" if simulated else cuda.get_current_device().name
    if isinstance(device, bytes):
        device = device.decode()
    torch_ok = not simulated and _torch_cuda_available()
    doc = {
        "device": device,
        "simulated": simulated,
        "torch": torch_ok,
        "argv": sys.argv[1:] if argv is None else list(argv),
        "config": {
            k: getattr(config, k)
            for k in dir(config)
            if k.isupper() and k != "SIMULATOR_TUNABLES"
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)

    def log(msg):
        print(f"[{time.perf_counter() - t0:6.1f}s] {msg}", flush=True)

    def save():
        doc["elapsed_s"] = time.perf_counter() - t0
        args.out.write_text(json.dumps(doc, indent=1, default=str) + "\n")

    def attempt(name, fn):
        if name not in sections:
            return
        doc[name] = []
        try:
            fn(doc[name])
        except Exception as exc:  # noqa: BLE001 - recorded, the next section runs
            doc.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"[:800]
            log(f"{name} failed: {doc['errors'][name]}")
        save()

    log(f"device {device}; torch {torch_ok}")
    save()

    def run_check(out):
        if simulated:
            out.extend(
                check(width=4, batch=4, n_batches=3, log=log, n_features=3, n_classes=3)
            )
        else:
            out.extend(check(log=log))

    def run_host(out):
        shape = {"n_features": 3, "n_classes": 3, "n_batches": 3} if simulated else {}
        points = [(4, 4)] if simulated else [(64, 256), (128, 256), (128, 4096)]
        for width, batch in points:
            for fused_epoch in (False, True):
                if deadline.expired():
                    log("host: deadline reached")
                    return
                config.FUSED_EPOCH = fused_epoch
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    row = host_device_split(width, batch, **shape)
                row["path"] = "fused epoch" if fused_epoch else "per-batch fused"
                log(f"[host] {row}")
                out.append(row)
                save()
        config.FUSED_EPOCH = True

    def run_sweep(out):
        for width in widths:
            for batch in batches:
                if deadline.expired():
                    log("sweep: deadline reached")
                    return
                try:
                    row = sweep_point(
                        width, batch, max(rows, 4 * batch), args.epochs,
                        args.repeats, torch_ok, n_features, log,
                    )  # fmt: skip
                except Exception as exc:  # noqa: BLE001 - recorded, goes on
                    row = {"width": width, "batch": batch, "error": repr(exc)[:400]}
                    log(f"[sweep] {row}")
                out.append(row)
                save()

    def run_tune(out):
        grid = [(1, 0), (4, 0), (2, 8), (2, 2)]
        points = [(4, 4)] if simulated else [(128, 64), (128, 1024), (64, 4096)]
        for width, batch in points:
            for per_sm, tile_rows in grid:
                if deadline.expired():
                    log("tune: deadline reached")
                    return
                config.FUSED_EPOCH_BLOCKS_PER_SM = per_sm
                config.FUSED_EPOCH_TILE_ROWS = tile_rows
                X, y = _data(max(rows, 4 * batch), n_features, 10)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    rate = _fit_rate(_Fastmlp(width, batch, True), X, y, args.epochs)
                row = {
                    "width": width,
                    "batch": batch,
                    "blocks_per_sm": per_sm,
                    "tile_rows": tile_rows,
                    "samples_per_s": rate,
                }
                log(f"[tune] {row}")
                out.append(row)
                save()
        config.FUSED_EPOCH_BLOCKS_PER_SM = 2
        config.FUSED_EPOCH_TILE_ROWS = 0

    attempt("check", run_check)
    attempt("host", run_host)
    attempt("sweep", run_sweep)
    attempt("tune", run_tune)
    doc["paths"] = _path_info()
    save()
    log(f"done in {time.perf_counter() - t0:.1f}s -> {args.out}")
    for row in doc.get("sweep", []):
        if "new_samples_per_s" in row:
            log(
                f"  w{row['width']:>4} b{row['batch']:>5}: new/old "
                f"{row['new_over_old']:.2f}x new/torch "
                f"{row.get('new_over_torch', float('nan')):.2f}x old/torch "
                f"{row.get('old_over_torch', float('nan')):.2f}x"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
